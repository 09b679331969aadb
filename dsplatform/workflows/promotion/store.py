"""Records live in the environment's own artifact bucket under ``_dsplatform/promotion/``."""

from __future__ import annotations

import json
from typing import Any

from dsplatform.workflows.promotion.record import Record

PREFIX = "_dsplatform/promotion/"


def record_key(record: Record) -> str:
    """Where a record is stored: ``_dsplatform/promotion/<kind>/<id>.json`` (ids sort by time)."""
    return f"{PREFIX}{record.kind}/{record.id}.json"


def put_record(s3_client: Any, bucket: str, record: Record) -> str:
    """Store a record; return its key."""
    key = record_key(record)
    s3_client.put_object(
        Bucket=bucket, Key=key, Body=record.to_json().encode(), ContentType="application/json"
    )
    return key


def list_records(s3_client: Any, bucket: str, kind: str) -> list[tuple[str, Record]]:
    """Every record of ``kind`` in the bucket, newest first."""
    keys: list[str] = []
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{PREFIX}{kind}/"):
        keys.extend(obj["Key"] for obj in page.get("Contents", []) if obj["Key"].endswith(".json"))
    out = []
    for key in sorted(keys, reverse=True):
        body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
        out.append((key, Record.from_dict(json.loads(body))))
    return out
