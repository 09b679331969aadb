"""Shared test support: an in-process moto AWS with the platform's buckets, parameters, model and input."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from ds_preprocessing import model, sample
from ds_preprocessing.logs import JsonLogger
from moto import mock_aws

PREFIX = "/ds/preprocessing/"
INPUT_BUCKET = "ds-input-dev-111111111111-us-east-1"
OUTPUT_BUCKET = "ds-output-dev-111111111111-us-east-1"
ARTIFACT_BUCKET = "ds-artifacts-dev-111111111111-us-east-1"
INPUT_KEY = "raw/monthly_data.csv"
MODEL_KEY = "models/preprocessing_model.pkl"


@dataclass
class Platform:
    """Handles to the mocked platform a test manipulates."""

    s3: Any
    ssm: Any
    trained: Any

    def put_param(self, name: str, value: str) -> None:
        """Create or overwrite one parameter under the prefix."""
        self.ssm.put_parameter(Name=PREFIX + name, Value=value, Type="String", Overwrite=True)

    def put_input(self, data: bytes, key: str = INPUT_KEY) -> None:
        """Upload input CSV bytes."""
        self.s3.put_object(Bucket=INPUT_BUCKET, Key=key, Body=data)

    def get(self, key: str, bucket: str = OUTPUT_BUCKET) -> bytes:
        """Return an output object's bytes."""
        return self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    def manifest(self, run_id: str) -> dict[str, Any]:
        """Return a run's parsed manifest."""
        return json.loads(self.get(f"processed/{run_id}/_manifest.json"))

    def list_keys(self, bucket: str = OUTPUT_BUCKET) -> list[str]:
        """Return every key in a bucket."""
        return sorted(o["Key"] for o in self.s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def assert_nothing_committed(platform: Platform, run_id: str) -> None:
    """A failed run left no manifest, no data object under its prefixes and no open multipart upload."""
    assert run_id, "the run id is needed to know where its outputs would be"
    keys = platform.list_keys(OUTPUT_BUCKET)
    assert f"processed/{run_id}/_manifest.json" not in keys
    assert [k for k in keys if k.startswith((f"processed/{run_id}/", f"rejected/{run_id}/"))] == []
    assert platform.s3.list_multipart_uploads(Bucket=OUTPUT_BUCKET).get("Uploads", []) == []


@pytest.fixture(scope="session")
def trained() -> Any:
    """A pipeline fitted once per session on clean sample data."""
    return model.train_on_sample(rows=2000, seed=0)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Isolated fake credentials and region, and moto intercepting every boto3 call."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    with mock_aws():
        yield


@pytest.fixture
def platform(aws: None, trained: Any) -> Platform:
    """Buckets, required parameters, the model (with checksum) and a 500-row dirty sample input."""
    s3, ssm = boto3.client("s3"), boto3.client("ssm")
    for bucket in (INPUT_BUCKET, OUTPUT_BUCKET, ARTIFACT_BUCKET):
        s3.create_bucket(Bucket=bucket)
    env = Platform(s3=s3, ssm=ssm, trained=trained)
    for name, value in {
        "input-bucket": INPUT_BUCKET, "output-bucket": OUTPUT_BUCKET, "artifact-bucket": ARTIFACT_BUCKET,
        "input-key": INPUT_KEY, "model-key": MODEL_KEY,
    }.items():
        env.put_param(name, value)
    model.upload_model(s3, ARTIFACT_BUCKET, MODEL_KEY, trained, version="v1.0.0")
    env.put_input(sample.generate_csv(500, seed=7, dirty_fraction=0.2))
    return env


@dataclass
class JobRun:
    """The outcome of one job run: exit code and parsed log events."""

    code: int
    events: list[dict[str, Any]]
    run_id: str = ""

    @property
    def last(self) -> dict[str, Any]:
        """The last log event (the one-line reason on failure)."""
        return self.events[-1]


@pytest.fixture
def run_job(platform: Platform) -> Any:
    """Run the job in-process with the contract's environment and capture its JSON log lines."""

    def _run(run_id: str = "run-1", input_key: str = "", extra: dict[str, str] | None = None,
             **kwargs: Any) -> JobRun:
        from ds_preprocessing import job

        stream = io.StringIO()
        env = {"DS_SSM_PREFIX": PREFIX, "DS_RUN_ID": run_id, "DS_INPUT_KEY": input_key, **(extra or {})}
        code = job.run(env, logger=JsonLogger(stream=stream), **kwargs)
        events = [json.loads(line) for line in stream.getvalue().splitlines()]
        return JobRun(code=code, events=events, run_id=run_id)

    return _run
