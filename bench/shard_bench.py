"""Benchmark sharded runs: the job's plan -> shards -> commit at 1, 2 and 4 shards against one whole-input task.

The phases run as the state machine runs them, in subprocesses on this machine against the same S3
(LocalStack): ``DS_MODE=auto`` (the plan: one read of the input, cut on record ends), then every shard at once
(``DS_MODE=shard``, as a Distributed Map with MaxConcurrency >= shards starts them), then ``DS_MODE=commit``.
The single-task job (``DS_MODE=run``) runs in the same session, interleaved, as the baseline. Step Functions and
ECS overheads are not in these numbers (locally a task is a process; on AWS a Fargate task takes tens of
seconds to start): this measures the job's own fan-out. Example: ``python bench/shard_bench.py --size-mb 200
--shards 1,2,4 --repeat 1``; the issue's run: ``--size-mb 5000``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
JOB_DIR = REPO / "containers" / "preprocessing"
sys.path.insert(0, str(JOB_DIR))
sys.path.insert(0, str(REPO / "bench"))

import boto3  # noqa: E402
from disk import require_free_disk  # noqa: E402
from ds_preprocessing import model  # noqa: E402
from job_bench import _aws_env, _clear, _input_file  # noqa: E402  (same inputs, same S3 set-up)


def _start(python: str, env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], Any]:
    handle = log.open("wb")
    return subprocess.Popen([python, "-m", "ds_preprocessing"], env=env, cwd=JOB_DIR, stdout=handle,
                            stderr=subprocess.STDOUT), handle


def _wait(processes: list[tuple[subprocess.Popen[bytes], Any]]) -> tuple[list[int], float, float]:
    """Wait for every process; return exit codes, the largest peak RSS (MiB) and the CPU seconds of them all."""
    codes, peak, cpu = [], 0.0, 0.0
    for process, handle in processes:
        _, status, usage = os.wait4(process.pid, 0)
        handle.close()
        codes.append(os.waitstatus_to_exitcode(status))
        peak, cpu = max(peak, usage.ru_maxrss / 1024), cpu + usage.ru_utime + usage.ru_stime
    return codes, peak, cpu


def _phase(python: str, envs: list[dict[str, str]], logs: list[Path]) -> dict[str, Any]:
    began = time.perf_counter()
    codes, peak, cpu = _wait([_start(python, env, log) for env, log in zip(envs, logs, strict=True)])
    if any(codes):
        raise SystemExit(f"a job process failed (exit codes {codes}); see {logs[0].parent}")
    return {"seconds": time.perf_counter() - began, "peak_rss_mib": peak, "cpu_seconds": cpu}


def sharded(python: str, env: dict[str, str], s3: Any, bucket: str, size: int, shards: int, cache: Path,
            run_id: str) -> dict[str, Any]:
    """One sharded run: plan, all shards at once, commit; the time of each phase and of the whole run."""
    # One byte under an n-th of the input: the first task plans (an input of exactly the shard size runs whole).
    shard_size = max(1, math.ceil(size / shards) - 1)
    base = {**env, "DS_RUN_ID": run_id}
    plan = _phase(python, [{**base, "DS_MODE": "auto", "DS_SHARD_SIZE_BYTES": str(shard_size)}],
                  [cache / f"{run_id}-plan.log"])
    items = json.loads(s3.get_object(Bucket=bucket, Key=f"processed/{run_id}/_shards.json")["Body"].read())
    work = _phase(python, [{**base, "DS_MODE": "shard", "DS_SHARD_INDEX": str(item["index"])} for item in items],
                  [cache / f"{run_id}-shard-{item['index']}.log" for item in items])
    commit = _phase(python, [{**base, "DS_MODE": "commit"}], [cache / f"{run_id}-commit.log"])
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=f"processed/{run_id}/_manifest.json")["Body"].read())
    total = plan["seconds"] + work["seconds"] + commit["seconds"]
    return {"shards": len(items), "plan": plan, "work": work, "commit": commit, "seconds": total,
            "rows_read": manifest["rows_read"], "status": manifest["status"]}


def main() -> int:
    """Set up buckets and parameters, run the whole-input job and the sharded runs interleaved, print medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint-url", default=os.environ.get("DSPLATFORM_LOCALSTACK_URL", "http://127.0.0.1:4566"))
    parser.add_argument("--size-mb", type=int, default=200, help="input size in MB (5000 for the issue's run)")
    parser.add_argument("--shards", default="1,2,4", help="comma-separated shard counts")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each contender (median is reported)")
    parser.add_argument("--cache-dir", default="/tmp/ds-job-bench", help="where generated inputs are kept")
    parser.add_argument("--python", default=sys.executable, help="interpreter with the job's requirements")
    args = parser.parse_args()
    counts = [int(n) for n in args.shards.split(",") if n.strip()]
    cache = Path(args.cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **_aws_env(args.endpoint_url)}
    os.environ.update(_aws_env(args.endpoint_url))
    s3, ssm = boto3.client("s3"), boto3.client("ssm")
    tag = f"shardbench-{os.getpid()}"
    buckets = {name: f"ds-{name}-{tag}" for name in ("input", "output", "artifacts")}
    prefix = f"/ds/{tag}/"
    for bucket in buckets.values():
        s3.create_bucket(Bucket=bucket)
    model_key = "models/preprocessing_model.pkl"
    model.upload_model(s3, buckets["artifacts"], model_key, model.train_on_sample(), version="bench")
    require_free_disk(args.size_mb * 1_000_000)
    path = _input_file(args.size_mb, cache)
    key = f"raw/bench-{args.size_mb}mb.csv"
    params = {"input-bucket": buckets["input"], "output-bucket": buckets["output"],
              "artifact-bucket": buckets["artifacts"], "input-key": key, "model-key": model_key}
    for name, value in params.items():
        ssm.put_parameter(Name=prefix + name, Value=value, Type="String", Overwrite=True)
    env["DS_SSM_PREFIX"] = prefix
    results: dict[str, list[dict[str, Any]]] = {"whole": [], **{f"{n} shards": [] for n in counts}}
    try:
        s3.upload_file(str(path), buckets["input"], key)
        size = path.stat().st_size
        for attempt in range(args.repeat):
            whole = _phase(args.python, [{**env, "DS_RUN_ID": "whole"}], [cache / f"whole-{attempt}.log"])
            results["whole"].append(whole)
            _clear(s3, buckets["output"], [""])  # one run's outputs on disk at a time (see disk.py)
            print(f"whole      run {attempt + 1}: {whole['seconds']:7.1f} s  {size / 1e6 / whole['seconds']:6.1f} MB/s"
                  f"  peak RSS {whole['peak_rss_mib']:5.0f} MiB  CPU {whole['cpu_seconds']:6.1f} s", flush=True)
            for n in counts:
                run = sharded(args.python, env, s3, buckets["output"], size, n, cache, f"sharded-{n}")
                results[f"{n} shards"].append(run)
                _clear(s3, buckets["output"], [""])
                rate = size / 1e6 / run["seconds"]
                print(f"{n} shards   run {attempt + 1}: {run['seconds']:7.1f} s  {rate:6.1f} MB/s"
                      f"  plan {run['plan']['seconds']:5.1f} s  shards {run['work']['seconds']:6.1f} s  commit "
                      f"{run['commit']['seconds']:4.1f} s  peak RSS/task {run['work']['peak_rss_mib']:5.0f} MiB  "
                      f"CPU {run['work']['cpu_seconds']:6.1f} s  rows {run['rows_read']} {run['status']}", flush=True)
    finally:
        for bucket in buckets.values():
            _clear(s3, bucket, [""])
            s3.delete_bucket(Bucket=bucket)
        for name in params:
            ssm.delete_parameter(Name=prefix + name)
    base = statistics.median(r["seconds"] for r in results["whole"])
    print(f"\n{args.size_mb} MB on {os.cpu_count()} CPUs, medians of {args.repeat}:")
    print(f"  whole input, one task: {base:7.1f} s")
    for n in counts:
        runs = results[f"{n} shards"]
        seconds = statistics.median(r["seconds"] for r in runs)
        plan = statistics.median(r["plan"]["seconds"] for r in runs)
        print(f"  {n} shard(s): {seconds:7.1f} s (plan {plan:5.1f} s)  speed-up vs whole {base / seconds:4.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
