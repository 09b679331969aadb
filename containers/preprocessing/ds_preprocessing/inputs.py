"""Reading the run's input: look an object up, open it pinned to one version, and map S3 errors to job errors."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ds_preprocessing import config as config_mod
from ds_preprocessing.errors import ConfigurationError, InputError
from ds_preprocessing.s3io import RangedReader

_NOT_FOUND = {"NoSuchKey", "404", "NotFound"}


def head_input(s3: Any, cfg: config_mod.JobConfig, key: str | None = None) -> dict[str, Any]:
    """Return the input object's etag, version id and size (``key`` defaults to the configured input key)."""
    key = key or cfg.input_key
    where = f"s3://{cfg.input_bucket}/{key}"
    try:
        response = s3.head_object(Bucket=cfg.input_bucket, Key=key)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _NOT_FOUND or code == "NoSuchBucket":
            raise InputError(f"input {where} does not exist; upload the month's CSV there or pass input_key") from exc
        raise InputError(f"input {where} cannot be read: {code}; check the task role's s3:GetObject") from exc
    return {"bucket": cfg.input_bucket, "key": key,
            "etag": str(response.get("ETag", "")).strip('"'), "version_id": response.get("VersionId"),
            "size": int(response.get("ContentLength", 0))}


def open_input(s3: Any, head: dict[str, Any], start: int = 0, end: int | None = None) -> RangedReader:
    """Open ``head``'s object for reading from ``start`` to ``end`` (default: its end), pinned to that version."""
    # Pin the exact object the manifest will name: the version if the bucket is versioned, else the ETag.
    pin = {"VersionId": head["version_id"]} if head["version_id"] else {"IfMatch": f'"{head["etag"]}"'}
    stop = head["size"] if end is None else end
    return RangedReader(s3, head["bucket"], head["key"], stop, pin, start=start)


def read_guard(action: Any, cfg: config_mod.JobConfig) -> Any:
    """Run an action that reads the input; the object changing under the run is an input error."""
    try:
        return action()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in {"PreconditionFailed", "NoSuchKey", "NoSuchVersion", "InvalidRange", "412"}:
            raise InputError(f"input s3://{cfg.input_bucket}/{cfg.input_key} changed or vanished during the run "
                             f"({code}); re-run the job") from exc
        raise


def guard_output(action: Any, cfg: config_mod.JobConfig) -> Any:
    """Run an action that writes the output bucket; a missing bucket is a configuration problem."""
    try:
        return action()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code", "") == "NoSuchBucket":
            raise ConfigurationError(
                f"output-bucket {cfg.output_bucket!r} does not exist; fix {cfg.prefix}output-bucket or deploy storage"
            ) from exc
        raise
