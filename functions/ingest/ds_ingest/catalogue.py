"""The catalogue table: one item per object key, written idempotently.

Item fields: object_key (partition key), etag, version_id, size, records, columns, schema_ok, status
(accepted / rejected), reason, received_at, and, once a pipeline run processes the file, run_id and run_status.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

ACCEPTED = "accepted"
REJECTED = "rejected"
TERMINAL_RUN_STATUSES = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


@dataclass(frozen=True)
class Entry:
    """What the function learnt about one object version."""

    object_key: str
    etag: str
    version_id: str
    size: int
    records: int
    columns: list[str]
    schema_ok: bool
    reason: str
    received_at: str

    @property
    def status(self) -> str:
        """accepted when the header fits the job's schema, else rejected."""
        return ACCEPTED if self.schema_ok else REJECTED


def _values(entry: Entry) -> dict[str, Any]:
    return {
        ":etag": entry.etag,
        ":version_id": entry.version_id,
        ":size": entry.size,
        ":records": entry.records,
        ":columns": entry.columns,
        ":schema_ok": entry.schema_ok,
        ":status": entry.status,
        ":reason": entry.reason,
        ":received_at": entry.received_at,
    }


FIELDS = ("etag", "version_id", "size", "records", "columns", "schema_ok", "status", "reason", "received_at")
# Every name goes through an expression attribute name: several (size, status, columns) are reserved words.
_SET = "SET " + ", ".join(f"#{name} = :{name}" for name in FIELDS)
_NAMES = {f"#{name}": name for name in FIELDS}


def record(table: Any, entry: Entry) -> bool:
    """Write the entry; True when this object version is new to the catalogue, False on a redelivery.

    A new version (or a new key) replaces the item and clears the previous version's run fields. A redelivered
    event for the version already catalogued only rewrites the same values: the run it started is kept, and
    the caller starts nothing.
    """
    client = table.meta.client
    try:
        table.update_item(
            Key={"object_key": entry.object_key},
            UpdateExpression=_SET + " REMOVE run_id, run_status",
            ConditionExpression="attribute_not_exists(object_key) OR #etag <> :etag OR #version_id <> :version_id",
            ExpressionAttributeNames=_NAMES,
            ExpressionAttributeValues=_values(entry),
        )
        return True
    except client.exceptions.ConditionalCheckFailedException:
        pass
    # A redelivery; if this fails too, a newer version landed in between and its own event catalogues it.
    with contextlib.suppress(client.exceptions.ConditionalCheckFailedException):
        table.update_item(
            Key={"object_key": entry.object_key},
            UpdateExpression=_SET,
            ConditionExpression="#etag = :etag AND #version_id = :version_id",
            ExpressionAttributeNames=_NAMES,
            ExpressionAttributeValues=_values(entry),
        )
    return False


def set_run(table: Any, object_key: str, run_id: str, run_status: str, etag: str | None = None) -> bool:
    """Record a run's status on the file's item; False when the item is absent or this would step backwards.

    A terminal status of a run is never overwritten by an earlier (late-delivered) status of the same run.
    With ``etag``, only the item of that object version is touched.
    """
    client = table.meta.client
    condition = "attribute_exists(object_key) AND NOT (run_id = :run_id AND run_status IN (:s1, :s2, :s3, :s4))"
    values: dict[str, Any] = {":run_id": run_id, ":run_status": run_status}
    values.update({f":s{i}": status for i, status in enumerate(TERMINAL_RUN_STATUSES, start=1)})
    if etag is not None:
        condition += " AND etag = :etag"
        values[":etag"] = etag
    try:
        table.update_item(
            Key={"object_key": object_key},
            UpdateExpression="SET run_id = :run_id, run_status = :run_status",
            ConditionExpression=condition,
            ExpressionAttributeValues=values,
        )
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return True
