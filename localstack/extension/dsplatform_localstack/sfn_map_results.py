"""Distributed Map `ResultWriter`: the result files AWS writes (SUCCEEDED_0, FAILED_0, PENDING_0), then the manifest.

The pinned runtime wrote only ``manifest.json``, with every list of ``ResultFiles`` empty. AWS writes, under
``<Prefix>/<map run id>/``, one JSON array per outcome holding each child execution's ARN, name, input,
output (or error and cause), status and dates, and a manifest naming those files with their sizes. A
status with no item gets no file (its list in the manifest is empty). AWS splits a file past 5 GB; here
each status has one file, ``_0``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
PENDING = "PENDING"
# Child outcomes that land in FAILED_n.json (and that count against the tolerated failure threshold,
# except ABORTED, which only happens when the parent execution is stopped).
FAILED_STATUSES = frozenset({"FAILED", "TIMED_OUT", "ABORTED"})


@dataclass(frozen=True)
class ItemResult:
    """One item of a Map Run: its child execution's outcome (PENDING when it never started)."""

    index: int
    status: str
    input: Any
    name: str = ""
    output: Any = None
    error: str | None = None
    cause: str | None = None
    start: datetime | None = None
    stop: datetime | None = None

    @property
    def group(self) -> str:
        """The result file this item goes to: SUCCEEDED, FAILED or PENDING."""
        if self.status in FAILED_STATUSES:
            return FAILED
        return self.status


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def child_execution_arn(map_state_machine_arn: str, name: str) -> str:
    """A child execution's ARN: `...:execution:<machine>/<label or id>:<name>`, as AWS names Map Run children."""
    return map_state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + name


def entry(result: ItemResult, map_state_machine_arn: str) -> dict[str, Any]:
    """The object AWS writes for one child execution in a result file (Input/Output as JSON strings)."""
    if result.group == PENDING:
        return {"Input": json.dumps(result.input), "InputDetails": {"Included": True}, "Status": PENDING}
    out: dict[str, Any] = {
        "ExecutionArn": child_execution_arn(map_state_machine_arn, result.name),
        "Input": json.dumps(result.input),
        "InputDetails": {"Included": True},
        "Name": result.name,
        "StartDate": _iso(result.start),
        "StateMachineArn": map_state_machine_arn,
        "Status": result.status,
        "StopDate": _iso(result.stop),
    }
    if result.status == SUCCEEDED:
        out["Output"] = json.dumps(result.output)
        out["OutputDetails"] = {"Included": True}
    else:
        if result.error is not None:
            out["Error"] = result.error
        if result.cause is not None:
            out["Cause"] = result.cause
    return out


def result_files(
    results: list[ItemResult], map_state_machine_arn: str, folder: str
) -> dict[str, tuple[str, bytes] | None]:
    """Per outcome (SUCCEEDED, FAILED, PENDING): the key and body of its file, or None when no item has it."""
    files: dict[str, tuple[str, bytes] | None] = {}
    for group in (FAILED, PENDING, SUCCEEDED):
        members = sorted((r for r in results if r.group == group), key=lambda r: r.index)
        body = json.dumps([entry(r, map_state_machine_arn) for r in members]).encode()
        files[group] = (f"{folder}{group}_0.json", body) if members else None
    return files


def export(
    s3: Any, bucket: str, prefix: str, map_run_arn: str, map_state_machine_arn: str, results: list[ItemResult]
) -> dict[str, Any]:
    """Write the result files, then the manifest last (so a manifest never names a missing file); return
    the Map state's output, ``{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}``."""
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    folder = f"{prefix}{map_run_arn.rsplit(':', 1)[-1]}/"
    listed: dict[str, list[dict[str, Any]]] = {}
    for group, file in result_files(results, map_state_machine_arn, folder).items():
        listed[group] = []
        if file is not None:
            key, body = file
            s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
            listed[group].append({"Key": key, "Size": len(body)})
    manifest = {"DestinationBucket": bucket, "MapRunArn": map_run_arn, "ResultFiles": listed}
    key = f"{folder}manifest.json"
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(manifest, indent=2).encode(), ContentType="application/json")
    return {"MapRunArn": map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": key}}
