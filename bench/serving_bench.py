"""Benchmark: InvokeEndpoint latency (p50/p99) through LocalStack against calling the serving process directly.

Needs a LocalStack at $DSPLATFORM_LOCALSTACK_URL with the serving image registered and the registry venv built
(the LocalStack tests do both). The bench trains the sample model, uploads it, creates an endpoint, and starts a
second serving process of the same model directly (the baseline: the same container without the gateway).
Both get the same CSV body, alternately, N times. Run: ``.venv/bin/python bench/serving_bench.py [--n 200]``.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dsplatform.registry.models import run_ops, sample_training_csv  # noqa: E402

ACCOUNT = "444455556666"
IMAGE = "000000000000.dkr.ecr.us-east-1.amazonaws.com/ds-serving:latest"
BODY = b"amount,quantity,category,region\n12.5,3,toys,west\n80,7,home,north\n"


def _client(service: str, url: str) -> object:
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id=ACCOUNT,
                        aws_secret_access_key="test")


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50_ms": 1000 * statistics.median(ordered), "p99_ms": 1000 * ordered[int(0.99 * (len(ordered) - 1))]}


def _direct_server(archive: Path, folder: Path, python: str) -> tuple[subprocess.Popen[bytes], int]:
    model_dir = folder / "model"
    with tarfile.open(archive) as tar:
        tar.extractall(model_dir, filter="data")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = {**os.environ, "PORT": str(port), "DS_SERVING_HOST": "127.0.0.1", "DS_SERVING_MODEL_DIR": str(model_dir),
           "PYTHONPATH": str(ROOT / "containers" / "serving")}
    process = subprocess.Popen([python, "-m", "ds_serving", "serve"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1):
                return process, port
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the direct serving process never answered /ping")


def main() -> None:
    """Print p50/p99 of both paths and their ratio as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--python", help="interpreter with the serving requirements (default: the registry venv's)")
    args = parser.parse_args()
    url = os.environ.get("DSPLATFORM_LOCALSTACK_URL", "http://127.0.0.1:4566")
    from urllib.parse import urlparse

    from dsplatform.localstack import LocalStackSettings, register_image_sources

    register_image_sources(LocalStackSettings(port=urlparse(url).port or 4566, project_root=ROOT),
                           {"ds-serving": ROOT / "containers" / "serving"})
    s3, sagemaker, runtime = _client("s3", url), _client("sagemaker", url), _client("sagemaker-runtime", url)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "train.csv").write_bytes(sample_training_csv(600, 0))
        archive = folder / "model.tar.gz"
        run_ops("file:///nonexistent", "save", "--data", str(folder / "train.csv"), "--out", str(archive))
        bucket, name = f"bench-{uuid.uuid4().hex[:8]}", f"bench-{uuid.uuid4().hex[:8]}"
        s3.create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
        s3.upload_file(str(archive), bucket, "model.tar.gz")  # type: ignore[attr-defined]
        sagemaker.create_model(ModelName=name, ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/x",  # type: ignore[attr-defined]
                               PrimaryContainer={"Image": IMAGE, "ModelDataUrl": f"s3://{bucket}/model.tar.gz"})
        sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[{  # type: ignore[attr-defined]
            "VariantName": "AllTraffic", "ModelName": name, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)  # type: ignore[attr-defined]
        sagemaker.get_waiter("endpoint_in_service").wait(  # type: ignore[attr-defined]
            EndpointName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 900})
        python = args.python
        if not python:  # the registry venv has the serving image's pins (a unit test keeps them equal)
            from dsplatform.registry import RegistrySettings
            from dsplatform.registry.venv import ensure_venv

            python = str(ensure_venv(RegistrySettings(artifacts_destination="")) / "bin" / "python")
        process, port = _direct_server(archive, folder, python)
        via, direct = [], []
        try:
            for _ in range(args.n):
                began = time.perf_counter()
                runtime.invoke_endpoint(EndpointName=name, Body=BODY, ContentType="text/csv")  # type: ignore[attr-defined]
                via.append(time.perf_counter() - began)
                request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=BODY,
                                                 headers={"Content-Type": "text/csv"})
                began = time.perf_counter()
                with urllib.request.urlopen(request) as response:
                    response.read()
                direct.append(time.perf_counter() - began)
        finally:
            process.terminate()
            process.wait()
            sagemaker.delete_endpoint(EndpointName=name)  # type: ignore[attr-defined]
    result = {"n": args.n, "localstack": _percentiles(via), "direct": _percentiles(direct)}
    result["p50_ratio"] = result["localstack"]["p50_ms"] / result["direct"]["p50_ms"]  # type: ignore[index]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
