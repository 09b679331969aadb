"""The run manifest: written last, it is what makes a run's outputs complete for readers."""

from __future__ import annotations

import json
from typing import Any

from ds_preprocessing import __version__, schema


def build(**sections: Any) -> dict[str, Any]:
    """Return the manifest document; top-level rows_read/rows_written/rows_rejected are plain integers."""
    document: dict[str, Any] = {"manifest_version": 1, "job_version": __version__, "status": "succeeded"}
    document.update(sections)
    for name in ("rows_read", "rows_written", "rows_rejected"):
        document[name] = int(document[name])
    document["reject_reasons"] = {code: int(document.get("reject_reasons", {}).get(code, 0)) for code in schema.REASONS}
    return document


def dumps(document: dict[str, Any]) -> bytes:
    """Serialise the manifest as pretty UTF-8 JSON."""
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def delete_run_outputs(s3_client: Any, bucket: str, manifest_key: str, prefixes: list[str]) -> int:
    """Delete a run's previous outputs, manifest first, and return how many objects were deleted.

    The manifest goes first so that no reader ever sees an old manifest next to new or half-deleted data.
    """
    s3_client.delete_object(Bucket=bucket, Key=manifest_key)
    deleted = 0
    paginator = s3_client.get_paginator("list_objects_v2")
    for prefix in prefixes:
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                response = s3_client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
                errors = response.get("Errors", [])
                if errors:
                    first = errors[0]
                    raise RuntimeError(f"could not delete s3://{bucket}/{first.get('Key')}: {first.get('Code')}")
                deleted += len(keys)
    return deleted
