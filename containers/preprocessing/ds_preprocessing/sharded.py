"""Sharded runs: the plan step (``DS_MODE=auto``), one task per shard (``shard``) and the commit (``commit``).

Layout of a sharded run ``R`` in the output bucket: the plan ``processed/R/_shards.json`` (the Distributed Map's
items), per shard ``processed/R/part-NNNNN.parquet|.csv`` and ``rejected/R/part-NNNNN.csv``, then the shard's
record ``processed/R/_parts/NNNNN.json`` written after its data; last, the commit writes ``processed/R/
_manifest.json``. Until that manifest exists the run's prefix is staging: readers go through the manifest.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from ds_preprocessing import config as config_mod
from ds_preprocessing import inputs, manifest, shards
from ds_preprocessing.errors import ConfigurationError, InputError, JobError
from ds_preprocessing.header import Peeked
from ds_preprocessing.keys import OutputKeys
from ds_preprocessing.logs import JsonLogger, utc_now

MODES = ("run", "auto", "shard", "commit")


def resolve_mode(env: Mapping[str, str]) -> str:
    """DS_MODE: ``run`` (default: the whole input in this task), ``auto``, ``shard`` or ``commit``."""
    mode = env.get("DS_MODE", "").strip() or "run"
    if mode not in MODES:
        raise ConfigurationError(f"DS_MODE {mode!r} is invalid: use one of {', '.join(MODES)} (or leave it unset)")
    return mode


def shard_size(env: Mapping[str, str]) -> int:
    """DS_SHARD_SIZE_BYTES: inputs larger than this are split (``auto`` mode)."""
    raw = env.get("DS_SHARD_SIZE_BYTES", "").strip()
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigurationError(f"DS_SHARD_SIZE_BYTES {raw!r} is invalid: use a positive whole number of bytes "
                                 "(settings.orchestration.shard_size_mb sets it)")
    return value


def plan_key(run_id: str) -> str:
    """Where the plan (the JSON array of shard items) of a run lives in the output bucket."""
    return f"processed/{run_id}/_shards.json"


def part_keys(run_id: str, index: int) -> OutputKeys:
    """Output keys of one shard; ``manifest`` is the shard's record, written after its data."""
    return OutputKeys(
        parquet=f"processed/{run_id}/part-{index:05d}.parquet", csv=f"processed/{run_id}/part-{index:05d}.csv",
        rejected=f"rejected/{run_id}/part-{index:05d}.csv", manifest=f"processed/{run_id}/_parts/{index:05d}.json")


def shard_from_env(env: Mapping[str, str], s3: Any, bucket: str, run_id: str) -> shards.Shard:
    """This task's shard: item DS_SHARD_INDEX of the run's plan.

    Only the index travels in the task's environment (ECS allows 8 KiB of overrides; a wide header would not
    fit); the item, with its object's header, is read from the plan.
    """
    raw = env.get("DS_SHARD_INDEX", "").strip()
    if not raw.isdigit():
        raise ConfigurationError(f"DS_SHARD_INDEX {raw!r} is invalid: use the index of a shard of the run's plan "
                                 "(the state machine sets it)")
    items = _read_json(s3, bucket, plan_key(run_id))
    if not isinstance(items, list) or int(raw) >= len(items):
        count = len(items) if isinstance(items, list) else "no"
        raise ConfigurationError(f"DS_SHARD_INDEX {raw} is not in the plan of run {run_id} ({count} shards at "
                                 f"s3://{bucket}/{plan_key(run_id)}); start the state machine again")
    shard = shards.Shard.from_item(items[int(raw)])
    if shard.index != int(raw):
        raise ConfigurationError(f"the plan of run {run_id} is corrupt: item {raw} has index {shard.index}; "
                                 "start the state machine again")
    return shard


def shard_head(shard: shards.Shard) -> dict[str, Any]:
    """The object a shard reads, as ``inputs.head_input`` describes one (pinned to the planned version)."""
    return {"bucket": shard.bucket, "key": shard.key, "etag": shard.etag, "version_id": shard.version_id,
            "size": shard.size}


def open_shard(s3: Any, shard: shards.Shard, head: dict[str, Any]) -> Peeked:
    """The shard's records as a stream the reader takes, with its object's header (read once, by the plan)."""
    source = inputs.open_input(s3, head, start=shard.start, end=shard.end)
    return Peeked(source=source, header=list(shard.columns), prefix=b"\n")


def delete_run(s3: Any, bucket: str, run_id: str) -> int:
    """Delete every output of a run id (manifest first), single or sharded; return how many objects went."""
    return manifest.delete_run_outputs(s3, bucket, f"processed/{run_id}/_manifest.json",
                                       [f"processed/{run_id}/", f"rejected/{run_id}/"])


def write_plan(s3: Any, bucket: str, run_id: str, items: list[shards.Shard]) -> None:
    """Write the plan the Distributed Map reads (an empty array: the first task ran the whole input)."""
    body = json.dumps([s.to_item() for s in items], separators=(",", ":")).encode()
    s3.put_object(Bucket=bucket, Key=plan_key(run_id), Body=body, ContentType="application/json")


def plan(s3: Any, cfg: config_mod.JobConfig, log: JsonLogger, size: int, started_at: str,
         heads: list[dict[str, Any]] | None = None) -> int:
    """Plan a sharded run: read every input object once, cut record-aligned ranges, then replace the run's outputs.

    The input is read and checked before anything is deleted, so a bad input never destroys an earlier run.
    """
    heads = heads if heads is not None else _list_prefix(s3, cfg)
    planned = []
    for head in heads:
        where = f"s3://{head['bucket']}/{head['key']}"
        columns, ranges = inputs.read_guard(
            lambda head=head, where=where: shards.plan_ranges(inputs.open_input(s3, head), head["size"], size, where),
            cfg)
        planned.append((head, columns, ranges))
    items = shards.number(iter(planned))
    deleted = inputs.guard_output(lambda: delete_run(s3, cfg.output_bucket, cfg.run_id), cfg)
    write_plan(s3, cfg.output_bucket, cfg.run_id, items)
    log.info("run planned", shards=len(items), objects=len(heads), shard_size_bytes=size, deleted_objects=deleted,
             plan=f"s3://{cfg.output_bucket}/{plan_key(cfg.run_id)}", started_at=started_at)
    return 0


def _list_prefix(s3: Any, cfg: config_mod.JobConfig) -> list[dict[str, Any]]:
    heads = []
    paginator = s3.get_paginator("list_objects_v2")
    try:
        for page in paginator.paginate(Bucket=cfg.input_bucket, Prefix=cfg.input_key):
            for item in page.get("Contents", []):
                if not item["Key"].endswith("/"):  # "folder" markers are not data
                    heads.append(inputs.head_input(s3, cfg, item["Key"]))
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        raise InputError(f"input prefix s3://{cfg.input_bucket}/{cfg.input_key} cannot be listed: {code}; "
                         "check the bucket name and the task role's s3:ListBucket") from exc
    if not heads:
        raise InputError(f"input prefix s3://{cfg.input_bucket}/{cfg.input_key} holds no objects; upload the "
                         "month's files there or pass another input_key")
    return heads


def commit(s3: Any, cfg: config_mod.JobConfig, log: JsonLogger) -> int:
    """Write the run's one manifest from its shards' records, last; a missing shard makes it ``partial``."""
    items = _read_json(s3, cfg.output_bucket, plan_key(cfg.run_id))
    if items is None:
        raise ConfigurationError(f"run {cfg.run_id} has no plan at s3://{cfg.output_bucket}/{plan_key(cfg.run_id)}; "
                                 "start the state machine again (its first step writes the plan)")
    planned = [shards.Shard.from_item(item) for item in items]
    if not planned:  # the first task ran the input whole and committed it: nothing here to commit again
        log.info("nothing to commit: the run was processed whole by its first task",
                 manifest=f"s3://{cfg.output_bucket}/processed/{cfg.run_id}/_manifest.json")
        return 0
    parts, missing = [], []
    for shard in planned:
        record = _read_json(s3, cfg.output_bucket, part_keys(cfg.run_id, shard.index).manifest)
        (parts.append(record) if record is not None else missing.append(shard.index))
    schemas = {json.dumps(p["output_schema"]) for p in parts}
    if len(schemas) > 1:
        raise JobError(f"run {cfg.run_id}: shards wrote different output schemas ({len(schemas)}); a script must "
                       "return the same columns for every chunk")
    reasons: Counter[str] = Counter()
    for part in parts:
        reasons.update(part["reject_reasons"])
    objects = {s.key: {"key": s.key, "etag": s.etag, "version_id": s.version_id, "size_bytes": s.size}
               for s in planned}
    first = parts[0] if parts else {}
    document = manifest.build(
        run_id=cfg.run_id, started_at=min((p["started_at"] for p in parts), default=utc_now()), finished_at=utc_now(),
        **{name: sum(int(p[name]) for p in parts) for name in
           ("rows_read", "rows_written", "rows_rejected", "rows_valid", "chunks")},
        reject_reasons=dict(reasons),
        input={"bucket": cfg.input_bucket, "key": cfg.input_key, "objects": list(objects.values()),
               "overridden_by_execution": cfg.input_key_overridden},
        model=first.get("model"), extensions=first.get("extensions"),
        outputs={"bucket": cfg.output_bucket, **{kind: [p["outputs"][kind] for p in parts]
                                                 for kind in ("parquet", "csv", "rejected")}},
        output_schema=first.get("output_schema", []),
        shards={"count": len(planned), "succeeded": len(parts), "failed": missing},
        peak_rss_mib=max((p["peak_rss_mib"] for p in parts), default=None),
    )
    if missing:  # tolerated failures: the rows of those shards are absent, so the run is not complete
        document["status"] = "partial"
    s3.put_object(Bucket=cfg.output_bucket, Key=f"processed/{cfg.run_id}/_manifest.json",
                  Body=manifest.dumps(document), ContentType="application/json")
    log.info("run committed", status=document["status"], shards=len(planned), shards_failed=len(missing),
             rows_read=document["rows_read"], rows_written=document["rows_written"],
             rows_rejected=document["rows_rejected"], manifest=f"s3://{cfg.output_bucket}/processed/{cfg.run_id}/"
             "_manifest.json")
    return 0


def _read_json(s3: Any, bucket: str, key: str) -> Any:
    try:
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code", "") in {"NoSuchKey", "404", "NotFound"}:
            return None
        raise
