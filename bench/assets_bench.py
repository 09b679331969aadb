"""Benchmark: a function's code asset, first build + upload vs an unchanged function (no rebuild, no upload).

Measures, on ``functions/ingest`` (or ``--source``), medians of N runs of: the first build (empty cache:
zip + hash) with its upload, and the same call for the unchanged folder (cache hit + HEAD, nothing written),
against S3 in moto (in-process, so the figures are the deployer's own cost) or a LocalStack at ``--endpoint``.
Prints the ratio unchanged / first and how many uploads each made.
Run: ``.venv/bin/python bench/assets_bench.py [--runs 15] [--endpoint http://127.0.0.1:4566]``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import boto3

from dsplatform.deployer import assets

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT, REGION = "123456789012", "us-east-1"


def _client(endpoint: str | None) -> Any:
    return boto3.client(
        "s3", region_name=REGION, endpoint_url=endpoint, aws_access_key_id=ACCOUNT, aws_secret_access_key="test"
    )


def _median(runs: int, before: Callable[[], None], step: Callable[[], bool]) -> tuple[float, int]:
    samples, uploads = [], 0
    for _ in range(runs):
        before()
        start = time.perf_counter()
        uploads += step()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), uploads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--source", type=Path, default=ROOT / "functions" / "ingest")
    parser.add_argument("--endpoint", help="a LocalStack gateway; default: moto in-process")
    args = parser.parse_args()
    if args.endpoint:
        context: Any = nullcontext()
    else:
        from moto import mock_aws

        context = mock_aws()
    with context, tempfile.TemporaryDirectory() as tmp:
        s3 = _client(args.endpoint)
        bucket = assets.ensure_bucket(s3, ACCOUNT, REGION)
        if not args.endpoint:
            s3.delete_bucket_policy(Bucket=bucket)  # moto evaluates the TLS-only policy and sees plain HTTP
        cache = Path(tmp) / "cache"

        def cold() -> None:
            shutil.rmtree(cache, ignore_errors=True)
            for version in s3.list_object_versions(Bucket=bucket, Prefix="assets/").get("Versions", []):
                s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])

        def step() -> bool:
            return assets.publish(s3, bucket, assets.build("ingest", args.source, cache))

        first, first_uploads = _median(args.runs, cold, step)
        unchanged, unchanged_uploads = _median(args.runs, lambda: None, step)
        rebuilt = assets.build("ingest", args.source, cache).rebuilt
    where = args.endpoint or "moto (in-process)"
    print(
        f"asset {args.source.relative_to(ROOT) if args.source.is_relative_to(ROOT) else args.source} on {where},"
        f" {args.runs} runs each"
    )
    print(f"  first build + upload : median {first * 1000:7.2f} ms, uploads {first_uploads}/{args.runs}")
    print(
        f"  unchanged            : median {unchanged * 1000:7.2f} ms, uploads {unchanged_uploads}/{args.runs},"
        f" rebuilt: {rebuilt}"
    )
    print(f"  ratio unchanged / first: {unchanged / first:.2f}")


if __name__ == "__main__":
    main()
