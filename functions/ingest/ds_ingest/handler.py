"""Lambda entry points: ``on_object_created`` (S3 notifications) and ``on_execution_status`` (EventBridge).

Configuration (environment): ``CATALOGUE_TABLE``; ``TRIGGER`` = ``schedule`` (default) or ``on_arrival``;
``PIPELINE_STATE_MACHINE_ARN`` (needed with ``on_arrival``); ``INPUT_PREFIX`` (default ``raw/``).
Any unexpected error is raised, so Lambda retries the event and then sends it to the on-failure destination.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

from ds_ingest import catalogue
from ds_ingest.records import UnreadableFile, scan
from ds_ingest.schema import header_problem

LOG = logging.getLogger(__name__)
LOG.setLevel(logging.INFO)
SCHEDULE, ON_ARRIVAL = "schedule", "on_arrival"


class ConfigError(Exception):
    """The function's environment is wrong (names the variable, the value and the fix)."""


@dataclass(frozen=True)
class Settings:
    """The function's configuration, read from its environment once per execution environment."""

    table: str
    trigger: str
    state_machine_arn: str
    input_prefix: str

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Read and check the environment variables."""
        env = dict(os.environ if env is None else env)
        table = env.get("CATALOGUE_TABLE", "")
        trigger = env.get("TRIGGER", SCHEDULE)
        arn = env.get("PIPELINE_STATE_MACHINE_ARN", "")
        if not table:
            raise ConfigError("CATALOGUE_TABLE is empty: set it to the catalogue table's name")
        if trigger not in (SCHEDULE, ON_ARRIVAL):
            raise ConfigError(f"TRIGGER={trigger!r} is invalid: use {SCHEDULE!r} or {ON_ARRIVAL!r}")
        if trigger == ON_ARRIVAL and not arn.startswith("arn:"):
            raise ConfigError(f"PIPELINE_STATE_MACHINE_ARN={arn!r} is not an ARN: on_arrival needs the pipeline's")
        return cls(table, trigger, arn, env.get("INPUT_PREFIX", "raw/"))


@functools.cache
def _aws() -> tuple[Settings, Any, Any, Any]:
    # Created once per execution environment and reused while it stays warm.
    import boto3

    settings = Settings.from_env()
    return settings, boto3.client("s3"), boto3.resource("dynamodb").Table(settings.table), boto3.client("stepfunctions")


def run_id_for(entry: catalogue.Entry) -> str:
    """A run id unique to one object version and the same on every redelivery (StartExecution is then idempotent)."""
    digest = hashlib.sha256(f"{entry.object_key}\0{entry.version_id}\0{entry.etag}".encode()).hexdigest()[:12]
    stamp = entry.received_at[:19].replace("-", "").replace(":", "").replace("T", "-")
    return f"arrival-{stamp}-{digest}"


def catalogue_object(
    s3: Any, bucket: str, key: str, etag: str, version_id: str | None, received_at: str
) -> catalogue.Entry | None:
    """Stream the object version the event names once; None if it is already gone or replaced (a stale event)."""
    kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key, "IfMatch": f'"{etag}"'}
    if version_id:
        kwargs["VersionId"] = version_id
    try:
        obj = s3.get_object(**kwargs)
    except s3.exceptions.NoSuchKey:
        LOG.warning("s3://%s/%s is gone; nothing to catalogue", bucket, key)
        return None
    except s3.exceptions.ClientError as err:
        if err.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412", "NoSuchVersion"):
            LOG.warning("s3://%s/%s changed since the event (etag %s); its own event catalogues it", bucket, key, etag)
            return None
        raise
    try:
        found = scan(obj["Body"])
        columns, records, problem = found.columns, found.records, header_problem(found.columns)
    except UnreadableFile as err:
        columns, records, problem = [], 0, str(err)
    finally:
        obj["Body"].close()
    return catalogue.Entry(
        object_key=key,
        etag=etag,
        version_id=version_id or "null",  # S3's own version id of objects in an unversioned bucket
        size=int(obj.get("ContentLength", 0)),
        records=records,
        columns=columns,
        schema_ok=problem is None,
        reason=problem or "",
        received_at=received_at,
    )


@dataclass(frozen=True)
class Arrival:
    """One created object, from an S3 notification record or an EventBridge "Object Created" event."""

    bucket: str
    key: str
    etag: str
    version_id: str | None
    time: str


def arrivals(event: dict[str, Any]) -> list[Arrival]:
    """The created objects an event announces (S3 notification ``Records`` or one EventBridge event)."""
    if event.get("source") == "aws.s3" and event.get("detail-type") == "Object Created":
        detail = event.get("detail") or {}
        obj = detail.get("object") or {}
        return [
            Arrival(
                detail["bucket"]["name"],
                obj["key"],
                str(obj.get("etag", "")).strip('"'),
                obj.get("version-id"),
                event.get("time") or datetime.now(UTC).isoformat(),
            )
        ]
    found = []
    for record in event.get("Records", []):
        if record.get("eventSource") != "aws:s3" or not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        obj = record["s3"]["object"]
        found.append(
            Arrival(
                record["s3"]["bucket"]["name"],
                unquote_plus(obj["key"]),  # S3 URL-encodes keys in notifications (EventBridge does not)
                str(obj.get("eTag", "")).strip('"'),
                obj.get("versionId"),
                record.get("eventTime") or datetime.now(UTC).isoformat(),
            )
        )
    return found


def process_arrival(arrival: Arrival, settings: Settings, s3: Any, table: Any, sfn: Any) -> dict[str, Any]:
    """Catalogue one created object; start the pipeline for a new accepted file when on_arrival."""
    key = arrival.key
    if not key.startswith(settings.input_prefix) or key.endswith("/"):
        return {"key": key, "outcome": "ignored"}
    entry = catalogue_object(s3, arrival.bucket, key, arrival.etag, arrival.version_id, arrival.time)
    if entry is None:
        return {"key": key, "outcome": "stale"}
    new = catalogue.record(table, entry)
    outcome = {"key": key, "outcome": entry.status if new else "redelivered", "records": entry.records}
    if new and entry.schema_ok and settings.trigger == ON_ARRIVAL:
        run_id = run_id_for(entry)
        try:
            sfn.start_execution(
                stateMachineArn=settings.state_machine_arn,
                name=run_id,
                input=json.dumps({"run_id": run_id, "input_key": key}),
            )
        except sfn.exceptions.ExecutionAlreadyExists:
            LOG.info("run %s already started for %s", run_id, key)
        catalogue.set_run(table, key, run_id, "RUNNING", etag=entry.etag)
        outcome["run_id"] = run_id
    LOG.info("catalogued %s", json.dumps(outcome))
    return outcome


def process_s3_record(record: dict[str, Any], settings: Settings, s3: Any, table: Any, sfn: Any) -> dict[str, Any]:
    """Catalogue the object of one S3 notification record (see ``process_arrival``)."""
    (arrival,) = arrivals({"Records": [record]})
    return process_arrival(arrival, settings, s3, table, sfn)


def on_object_created(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """S3 ObjectCreated notification or EventBridge "Object Created" event: catalogue every object in it."""
    settings, s3, table, sfn = _aws()
    return {"results": [process_arrival(a, settings, s3, table, sfn) for a in arrivals(event)]}


def process_status_event(event: dict[str, Any], settings: Settings, table: Any) -> dict[str, Any]:
    """Write a pipeline execution's status onto the catalogue item of the file it processed."""
    detail = event.get("detail") or {}
    if settings.state_machine_arn and detail.get("stateMachineArn") != settings.state_machine_arn:
        return {"outcome": "ignored", "reason": "another state machine"}
    try:
        run_input = json.loads(detail.get("input") or "{}")
    except ValueError:
        run_input = {}
    key = run_input.get("input_key") if isinstance(run_input, dict) else None
    if not key:
        return {"outcome": "ignored", "reason": "execution has no input_key"}
    run_id = str(run_input.get("run_id") or detail.get("name") or "")
    updated = catalogue.set_run(table, key, run_id, str(detail.get("status")))
    return {
        "outcome": "updated" if updated else "skipped",
        "key": key,
        "run_id": run_id,
        "status": detail.get("status"),
    }


def on_execution_status(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """EventBridge "Step Functions Execution Status Change": record the run's outcome on the file's item."""
    settings, _, table, _ = _aws()
    result = process_status_event(event, settings, table)
    LOG.info("run status %s", json.dumps(result))
    return result
