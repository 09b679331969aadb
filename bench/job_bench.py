"""Benchmark the preprocessing job against the machine's floor and a naive pandas baseline, S3 (LocalStack) to S3.

For each input size it uploads a generated CSV, then runs, in subprocesses and interleaved run by run:
the job (``python -m ds_preprocessing``); the floor (one GET of the same object from the same S3, parsed by
pyarrow's streaming CSV reader into string columns, doing nothing else); and the naive whole-file pandas
baseline. It measures wall time and each child's own peak RSS (``os.wait4``) and prints medians, throughput,
the job/floor time ratio and the memory ratios. Example (quick): ``python bench/job_bench.py --sizes-mb 20,100
--repeat 1``; the issue's run: ``--sizes-mb 1000,5000 --repeats 3,1``.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
JOB_DIR = REPO / "containers" / "preprocessing"
sys.path.insert(0, str(JOB_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import boto3  # noqa: E402
from disk import require_free_disk  # noqa: E402
from ds_preprocessing import model, sample  # noqa: E402

BYTES_PER_ROW = 63.3  # measured average of sample.generate_csv rows
ACCOUNT = "111111111111"  # LocalStack: the access key id picks the simulated account
REGION = "us-east-1"


@dataclass
class Measurement:
    """One subprocess run: wall seconds, peak RSS in MiB, exit code, whether the RSS cap stopped it, CPU seconds."""

    seconds: float
    peak_rss_mib: float
    code: int
    capped: bool = False
    cpu_seconds: float = 0.0  # user + system of the child alone: less sensitive to a loaded machine than wall time
    sys_seconds: float = 0.0  # the system part (page faults, sockets): shows memory churn apart from computing
    threads: dict[str, float] = field(default_factory=dict)  # CPU seconds per thread name, sampled (a profile)
    server_cpu_seconds: float | None = None  # CPU the S3 server (LocalStack) spent during the run, if its PID is given


def _aws_env(endpoint: str) -> dict[str, str]:
    return {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": ACCOUNT, "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION}


def _rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _thread_cpu(pid: int, seen: dict[int, tuple[str, float]]) -> None:
    """Record each live thread's name and CPU seconds so far (``/proc/PID/task``); a thread keeps its last value."""
    tick = os.sysconf("SC_CLK_TCK")
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        seen[int(tid)] = (name.rstrip("0123456789_"), (int(fields[11]) + int(fields[12])) / tick)


def _process_cpu(pid: int | None) -> float | None:
    """User + system CPU seconds of a whole process so far (all its threads), or None without a PID."""
    if pid is None:
        return None
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measure(command: list[str], env: dict[str, str], log_path: Path, cap_mib: float = 0.0,
             server_pid: int | None = None) -> Measurement:
    """Run a command; return its wall time and its own peak RSS (wait4 gives that child's rusage only).

    With ``cap_mib`` the child is killed once its RSS passes the cap, so a baseline that would need more memory
    than the machine can spare is reported as "over the cap" instead of taking the machine down.
    """
    capped = False
    seen: dict[int, tuple[str, float]] = {}
    server_before = _process_cpu(server_pid)
    with log_path.open("wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=JOB_DIR, stdout=log, stderr=subprocess.STDOUT)
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            _thread_cpu(process.pid, seen)
            if cap_mib and _rss_mib(process.pid) > cap_mib:
                capped = True
                process.kill()  # our own child, by PID
                _, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.1)
        elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    server_after = _process_cpu(server_pid)
    server = None if server_before is None or server_after is None else server_after - server_before
    threads: dict[str, float] = {}
    for name, seconds in seen.values():
        threads[name] = threads.get(name, 0.0) + seconds
    return Measurement(seconds=elapsed, peak_rss_mib=usage.ru_maxrss / 1024, code=process.returncode, capped=capped,
                       cpu_seconds=usage.ru_utime + usage.ru_stime, sys_seconds=usage.ru_stime,
                       threads=threads, server_cpu_seconds=server)


def _input_file(size_mb: int, cache: Path) -> Path:
    """Generate (once, cached on disk) a CSV of about ``size_mb`` MB.

    Above 1 GB, a whole number of GB is the 1 GB input's rows repeated (ids repeat; the job does not mind):
    generating 5 GB row by row takes the better part of an hour on a shared two-core machine.
    """
    path = cache / f"input-{size_mb}mb.csv"
    if not path.exists() and size_mb > 1000 and size_mb % 1000 == 0:
        base = _input_file(1000, cache)
        partial = path.with_suffix(".part")
        with base.open("rb") as source, partial.open("wb") as handle:
            header = source.readline()
            handle.write(header)
            for _ in range(size_mb // 1000):
                source.seek(len(header))
                while piece := source.read(16 << 20):
                    handle.write(piece)
        partial.rename(path)
    if not path.exists():
        rows = int(size_mb * 1_000_000 / BYTES_PER_ROW)
        partial = path.with_suffix(".part")
        with partial.open("wb") as handle:
            for piece in sample.generate_csv_chunks(rows, seed=size_mb, dirty_fraction=0.02):
                handle.write(piece)
        partial.rename(path)
    return path


def baseline_main(argv: list[str]) -> int:
    """The naive baseline: read the whole object, validate and transform in one frame, write whole outputs."""
    import pandas as pd
    from ds_preprocessing import process, validate

    in_bucket, key, out_bucket, art_bucket, model_key, run_id = argv
    s3 = boto3.client("s3")
    pipeline = model.load_model(s3, art_bucket, model_key).pipeline
    body = s3.get_object(Bucket=in_bucket, Key=key)["Body"].read()
    # Naive: pandas' C parser, malformed rows skipped (the job records them; the baseline does slightly less).
    frame = pd.read_csv(io.BytesIO(body), dtype=str, keep_default_na=False, on_bad_lines="skip")
    parts = validate.split(frame)
    output = process.to_output(parts.valid, pipeline).to_pandas()
    rejected = parts.rejected.to_pandas()
    parquet = io.BytesIO()
    output.to_parquet(parquet, index=False)
    s3.put_object(Bucket=out_bucket, Key=f"processed/{run_id}/data.parquet", Body=parquet.getvalue())
    s3.put_object(Bucket=out_bucket, Key=f"processed/{run_id}/data.csv", Body=output.to_csv(index=False).encode())
    s3.put_object(Bucket=out_bucket, Key=f"rejected/{run_id}/rejected.csv", Body=rejected.to_csv(index=False).encode())
    print(f"baseline rows_read={len(frame)} rows_written={len(output)} rows_rejected={len(rejected)}")
    return 0


class _Body(io.RawIOBase):
    """A botocore StreamingBody as the file object pyarrow reads from."""

    def __init__(self, body: Any) -> None:
        super().__init__()
        self._body = body

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._body.read() if size is None or size < 0 else self._body.read(size)


def floor_main(argv: list[str]) -> int:
    """The floor: read the object from S3 and parse it with pyarrow's CSV reader, nothing else."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    from ds_preprocessing import schema

    bucket, key = argv
    body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"]
    reader = pacsv.open_csv(
        _Body(body),
        read_options=pacsv.ReadOptions(block_size=2 << 20),
        # Strings, as the job reads them (no type inference to pay for); a row with a stray field is skipped.
        parse_options=pacsv.ParseOptions(invalid_row_handler=lambda row: "skip"),
        convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in schema.COLUMN_NAMES}),
    )
    rows = sum(batch.num_rows for batch in reader)
    # Closed before the interpreter exits: pyarrow's read-ahead thread alive at exit aborted one run (SIGABRT).
    reader.close()
    body.close()
    print(f"floor rows={rows}")
    return 0


def _report(size: int, name: str, attempt: int, m: Measurement, mb: float, note: str = "") -> None:
    print(f"{size} MB {name:9s} run {attempt + 1}: {m.seconds:7.1f} s  {mb / m.seconds:6.1f} MB/s  "
          f"peak RSS {m.peak_rss_mib:7.0f} MiB  CPU {m.cpu_seconds:6.1f} s (sys {m.sys_seconds:5.1f})  "
          f"exit {m.code}{note}", flush=True)
    if m.server_cpu_seconds is not None:
        print(f"    S3 server (LocalStack) CPU during the run: {m.server_cpu_seconds:.1f} s", flush=True)
    busiest = sorted(m.threads.items(), key=lambda item: -item[1])[:7]
    if len(busiest) > 1:
        print("    CPU s by thread: " + ", ".join(f"{name} {seconds:.1f}" for name, seconds in busiest), flush=True)


def _clear(s3: Any, bucket: str, prefixes: list[str]) -> None:
    paginator = s3.get_paginator("list_objects_v2")
    for prefix in prefixes:
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})


def main() -> int:
    """Parse arguments, set up buckets and parameters, run both contenders per size, print the summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint-url", default=os.environ.get("DSPLATFORM_LOCALSTACK_URL", "http://127.0.0.1:4566"))
    parser.add_argument("--sizes-mb", default="100,1000", help="comma-separated input sizes in MB")
    parser.add_argument("--repeat", type=int, default=3, help="runs per contender and size (median is reported)")
    parser.add_argument("--repeats", default="", help="runs per size, comma-separated, overriding --repeat")
    parser.add_argument("--cache-dir", default="/tmp/ds-job-bench", help="where generated inputs are kept")
    parser.add_argument("--python", default=sys.executable, help="interpreter with the job's requirements")
    parser.add_argument("--no-baseline", action="store_true", help="measure the job only")
    parser.add_argument("--server-pid", type=int, default=None,
                        help="PID of the LocalStack process: its CPU during each run is reported too")
    parser.add_argument("--baseline-rss-cap-mib", type=float, default=8192,
                        help="kill the baseline when its RSS passes this (0: no cap); reported as over the cap")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes_mb.split(",") if s.strip()]
    repeats = [int(r) for r in args.repeats.split(",") if r.strip()] or [args.repeat] * len(sizes)
    if len(repeats) != len(sizes):
        parser.error(f"--repeats has {len(repeats)} values for {len(sizes)} sizes; give one per size")
    require_free_disk(max(sizes) * 1_000_000)
    cache = Path(args.cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **_aws_env(args.endpoint_url)}
    os.environ.update(_aws_env(args.endpoint_url))
    s3, ssm = boto3.client("s3"), boto3.client("ssm")
    tag = f"bench-{os.getpid()}"
    buckets = {name: f"ds-{name}-{tag}" for name in ("input", "output", "artifacts")}
    prefix = f"/ds/{tag}/"
    for bucket in buckets.values():
        s3.create_bucket(Bucket=bucket)
    model_key = "models/preprocessing_model.pkl"
    model.upload_model(s3, buckets["artifacts"], model_key, model.train_on_sample(), version="bench")
    params = {"input-bucket": buckets["input"], "output-bucket": buckets["output"],
              "artifact-bucket": buckets["artifacts"], "input-key": "raw/unused.csv", "model-key": model_key}
    for name, value in params.items():
        ssm.put_parameter(Name=prefix + name, Value=value, Type="String", Overwrite=True)
    results: dict[int, dict[str, list[Measurement]]] = {}
    try:
        for size, repeat in zip(sizes, repeats, strict=True):
            # One size's input and outputs in LocalStack at a time: it keeps every object on this disk (disk.py).
            _clear(s3, buckets["input"], [""])
            _clear(s3, buckets["output"], [""])
            path = _input_file(size, cache)
            key = f"raw/bench-{size}mb.csv"
            s3.upload_file(str(path), buckets["input"], key)
            mb = path.stat().st_size / 1e6
            results[size] = {"job": [], "floor": [], "baseline": []}
            for attempt in range(repeat):
                job_env = {**env, "DS_SSM_PREFIX": prefix, "DS_RUN_ID": f"job-{size}", "DS_INPUT_KEY": key}
                m = _measure([args.python, "-m", "ds_preprocessing"], job_env, cache / f"job-{size}-{attempt}.log",
                             server_pid=args.server_pid)
                results[size]["job"].append(m)
                _report(size, "job", attempt, m, mb)
                command = [args.python, str(Path(__file__).resolve()), "--floor-worker", buckets["input"], key]
                m = _measure(command, env, cache / f"floor-{size}-{attempt}.log", server_pid=args.server_pid)
                results[size]["floor"].append(m)
                _report(size, "floor", attempt, m, mb)
                if args.no_baseline:
                    continue
                run_id = f"baseline-{size}"
                _clear(s3, buckets["output"], [f"processed/{run_id}/", f"rejected/{run_id}/"])
                command = [args.python, str(Path(__file__).resolve()), "--baseline-worker", buckets["input"], key,
                           buckets["output"], buckets["artifacts"], model_key, run_id]
                m = _measure(command, env, cache / f"baseline-{size}-{attempt}.log", args.baseline_rss_cap_mib,
                             server_pid=args.server_pid)
                results[size]["baseline"].append(m)
                note = "  KILLED at the RSS cap (needs more; throughput is an upper bound)" if m.capped else ""
                _report(size, "baseline", attempt, m, mb, note)
            _clear(s3, buckets["output"], [f"processed/job-{size}/", f"rejected/job-{size}/",
                                           f"processed/baseline-{size}/", f"rejected/baseline-{size}/"])
            s3.delete_object(Bucket=buckets["input"], Key=key)
    finally:
        for bucket in buckets.values():
            _clear(s3, bucket, [""])
            s3.delete_bucket(Bucket=bucket)
        for name in params:
            ssm.delete_parameter(Name=prefix + name)
    _summary(results, cache)
    failed = any(m.code != 0 and not m.capped for r in results.values() for ms in r.values() for m in ms)
    return 1 if failed else 0


def _summary(results: dict[int, dict[str, list[Measurement]]], cache: Path) -> None:
    print("\nsize_MB  contender  median_s  MB/s    peak_RSS_MiB  CPU_s  (median of runs)")
    medians: dict[int, dict[str, tuple[float, float]]] = {}
    cpu: dict[int, dict[str, float]] = {}
    for size, runs in results.items():
        mb = (cache / f"input-{size}mb.csv").stat().st_size / 1e6
        for name, ms in runs.items():
            if not ms:
                continue
            seconds = statistics.median(m.seconds for m in ms)
            rss = statistics.median(m.peak_rss_mib for m in ms)
            medians.setdefault(size, {})[name] = (mb / seconds, rss)
            cpu.setdefault(size, {})[name] = statistics.median(m.cpu_seconds for m in ms)
            capped = ""
            if any(m.capped for m in ms):
                capped = " (killed at the RSS cap: RSS is a lower bound, MB/s an upper bound)"
            line = f"{size:7d}  {name:9s}  {seconds:8.1f}  {mb / seconds:6.1f}  {rss:12.0f}  {cpu[size][name]:5.1f}"
            print(line + capped)
    print()
    for size, m in medians.items():
        if "job" in m and "floor" in m:
            print(f"{size} MB: job/floor time = {m['floor'][0] / m['job'][0]:.2f}x (target <= 2), "
                  f"job/floor CPU = {cpu[size]['job'] / max(cpu[size]['floor'], 1e-9):.2f}x, "
                  f"job peak RSS {m['job'][1]:.0f} MiB (target < 600)")
        if "job" in m and "baseline" in m:
            rss_ratio = m["baseline"][1] / m["job"][1]
            if any(r.capped for r in results[size]["baseline"]):
                print(f"{size} MB: baseline/job peak RSS > {rss_ratio:.2f}x (target >= 3; baseline killed at the cap), "
                      "throughput not comparable (the baseline did not finish)")
                continue
            print(f"{size} MB: baseline/job peak RSS = {rss_ratio:.2f}x (target >= 3), "
                  f"job/baseline throughput = {m['job'][0] / m['baseline'][0]:.2f}x (target >= 1)")
    job_sizes = sorted(s for s in medians if "job" in medians[s])
    if len(job_sizes) >= 2:
        small, large = medians[job_sizes[0]]["job"][1], medians[job_sizes[-1]]["job"][1]
        print(f"job peak RSS {job_sizes[-1]} MB / {job_sizes[0]} MB = {large / small:.2f}x (target <= 1.2), "
              f"largest {large:.0f} MiB (target < 600)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--baseline-worker":
        sys.exit(baseline_main(sys.argv[2:]))
    if len(sys.argv) > 1 and sys.argv[1] == "--floor-worker":
        sys.exit(floor_main(sys.argv[2:]))
    sys.exit(main())
