"""The job: configuration -> model -> extensions -> input -> stream -> manifest, with one exit code per outcome."""

from __future__ import annotations

import resource
import shutil
import traceback
from collections.abc import Mapping
from typing import Any

import boto3
from botocore.exceptions import NoCredentialsError, NoRegionError

from ds_preprocessing import config as config_mod
from ds_preprocessing import header, inputs, manifest, sharded, shards
from ds_preprocessing.errors import JobError
from ds_preprocessing.keys import OutputKeys
from ds_preprocessing.logs import JsonLogger, StageTimer, utc_now
from ds_preprocessing.s3io import MultipartWriter
from ds_preprocessing.s3io import s3_client as s3_client_for_env


def run(env: Mapping[str, str], *, s3_client: Any = None, ssm_client: Any = None, logger: JsonLogger | None = None,
        block_size: int | None = None) -> int:
    """Run the job once and return its exit code (0 ok, 1 unexpected, 2 config, 3 input, 4 model, 5 extension).

    Clients default to plain ``boto3.client(...)`` so AWS_ENDPOINT_URL and the task role apply unchanged (S3's
    without the SHA-256 of bodies on a loopback endpoint: ``s3io.s3_client``).
    """
    log = logger or JsonLogger()
    try:
        s3 = s3_client or s3_client_for_env()
        ssm = ssm_client or boto3.client("ssm")
        return _run(env, s3, ssm, log, block_size)
    except JobError as exc:
        log.error(exc.message, exit_code=exc.exit_code, error=type(exc).__name__)
        return exc.exit_code
    except (NoCredentialsError, NoRegionError) as exc:
        log.error(f"AWS SDK not configured: {exc}; run with a task role, or set AWS_ACCESS_KEY_ID/"
                  "AWS_SECRET_ACCESS_KEY and AWS_REGION", exit_code=2, error=type(exc).__name__)
        return 2
    except Exception as exc:
        log.error("traceback", traceback=traceback.format_exc())
        reason = " ".join(f"unexpected {type(exc).__name__}: {exc}".split())[:500]
        log.error(reason, exit_code=1, error=type(exc).__name__)
        return 1


def _run(env: Mapping[str, str], s3: Any, ssm: Any, log: JsonLogger, block_size: int | None) -> int:
    started_at = utc_now()
    timer = StageTimer(log)
    with timer.stage("config"):
        mode = sharded.resolve_mode(env)
        run_id, generated = config_mod.resolve_run_id(env)
        log.run_id = run_id
        cfg = config_mod.load_config(ssm, {**env, "DS_RUN_ID": run_id})
        if generated:
            log.warning("DS_RUN_ID not set; using a generated run id")
        log.info("configuration loaded", input=f"s3://{cfg.input_bucket}/{cfg.input_key}", mode=mode,
                 input_key_overridden=cfg.input_key_overridden, model=f"s3://{cfg.artifact_bucket}/{cfg.model_key}",
                 script_key=cfg.script_key, package_key=cfg.package_key, output_bucket=cfg.output_bucket)
    if mode == "commit":
        with timer.stage("commit"):
            return sharded.commit(s3, cfg, log)
    shard: shards.Shard | None = None
    with timer.stage("input"):
        if mode == "shard":
            shard = sharded.shard_from_env(env, s3, cfg.output_bucket, run_id)
            head = sharded.shard_head(shard)
        elif mode == "auto" and cfg.input_key.endswith("/"):  # a prefix of monthly files: always sharded
            return sharded.plan(s3, cfg, log, sharded.shard_size(env), started_at)
        else:
            head = inputs.head_input(s3, cfg)
            if mode == "auto" and head["size"] > sharded.shard_size(env):
                return sharded.plan(s3, cfg, log, sharded.shard_size(env), started_at, heads=[head])
    # Imported only now: the plan and commit steps need none of pandas, pyarrow or scikit-learn (seconds of
    # imports each, and each is a task start on a sharded run's critical path); tests pin this budget.
    from ds_preprocessing import extensions, process
    from ds_preprocessing import model as model_mod

    with timer.stage("model"):
        loaded = model_mod.load_model(s3, cfg.artifact_bucket, cfg.model_key, cfg.model_version)
        log.info("model verified and loaded", sha256=loaded.sha256, model_version=loaded.version)
    workdir = extensions.make_workdir()
    try:
        with timer.stage("extensions"):
            package_info = script_info = None
            script = None
            if cfg.package_key:
                package_info = extensions.install_package(s3, cfg.artifact_bucket, cfg.package_key, workdir)
                log.info("package installed", key=cfg.package_key, sha256=package_info.sha256)
            if cfg.script_key:
                transform, script_info = extensions.load_script(s3, cfg.artifact_bucket, cfg.script_key, workdir)
                script = (transform, cfg.script_key)
                log.info("script loaded", key=cfg.script_key, sha256=script_info.sha256)
        keys = sharded.part_keys(run_id, shard.index) if shard else OutputKeys.for_run(run_id)
        where = f"s3://{head['bucket']}/{head['key']}"
        with timer.stage("input"):
            if shard is not None:  # the plan read and checked this object's header once, for every shard
                body = sharded.open_shard(s3, shard, head)
            else:
                # The header is checked before cleanup: a bad input must not destroy a committed earlier run.
                body = inputs.read_guard(lambda: header.peek(inputs.open_input(s3, head), where), cfg)
        if shard is None:
            with timer.stage("cleanup"):
                deleted = inputs.guard_output(lambda: sharded.delete_run(s3, cfg.output_bucket, run_id), cfg)
                log.info("previous outputs of this run id removed", deleted_objects=deleted)
        with timer.stage("process"):

            def open_sink(key: str, content_type: str) -> MultipartWriter:
                return MultipartWriter(s3, cfg.output_bucket, key, content_type)

            result = inputs.read_guard(lambda: inputs.guard_output(lambda: process.run_stream(
                body, where, loaded.pipeline, open_sink, keys, log, script=script,
                **({"block_size": block_size} if block_size else {})), cfg), cfg)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    with timer.stage("manifest"):
        document = manifest.build(
            run_id=run_id, started_at=started_at, finished_at=utc_now(),
            rows_read=result.rows_read, rows_written=result.rows_written, rows_rejected=result.rows_rejected,
            rows_valid=result.rows_valid, chunks=result.chunks, reject_reasons=dict(result.reasons),
            input={"bucket": cfg.input_bucket, "key": head["key"], "etag": head["etag"],
                   "version_id": head["version_id"], "size_bytes": head["size"],
                   "overridden_by_execution": cfg.input_key_overridden},
            model={"bucket": cfg.artifact_bucket, "key": cfg.model_key, "sha256": loaded.sha256,
                   "version": loaded.version, "etag": loaded.etag, "version_id": loaded.version_id},
            extensions={"package": vars(package_info) if package_info else None,
                        "script": vars(script_info) if script_info else None},
            outputs={"bucket": cfg.output_bucket, "parquet": keys.parquet, "csv": keys.csv, "rejected": keys.rejected},
            output_schema=process.schema_fields(result.output_schema),
            durations_s={**timer.durations, "total": timer.total()},
            peak_rss_mib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),  # Linux: KiB
        )
        if shard is not None:  # a part record, not the run's manifest: the commit step writes that one
            document["shard"] = {"index": shard.index, "key": shard.key, "start": shard.start, "end": shard.end}
        elif mode == "auto":  # ran whole here: the map finds no shard to run (a failed run writes no plan)
            sharded.write_plan(s3, cfg.output_bucket, run_id, [])
        s3.put_object(Bucket=cfg.output_bucket, Key=keys.manifest, Body=manifest.dumps(document),
                      ContentType="application/json")
    log.info("shard written" if shard else "run committed", rows_read=result.rows_read,
             rows_written=result.rows_written, rows_rejected=result.rows_rejected, duration_s=timer.total(),
             manifest=f"s3://{cfg.output_bucket}/{keys.manifest}")
    return 0
