"""Fixtures for the API tests: moto S3/SSM with the job's parameters and a trained model (unit tests only)."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# The API folder plays /app (as in the image); its ds_preprocessing is the job's package (a symlink).
_API_ROOT = str(Path(__file__).resolve().parents[1])
if _API_ROOT not in sys.path:
    sys.path.insert(0, _API_ROOT)

PREFIX = "/ds/api-test/"
BUCKET = "api-test-artifacts"
MODEL_KEY = "models/preprocessing.joblib"


@pytest.fixture(scope="session")
def trained() -> Any:
    """The job's model fitted on its sample data (once per session)."""
    from ds_preprocessing.model import train_on_sample

    return train_on_sample(rows=300)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, trained: Any) -> Iterator[dict[str, Any]]:
    """moto S3 + SSM with the job's parameters and the model uploaded with its SHA-256."""
    import boto3
    from ds_preprocessing.model import upload_model
    from moto import mock_aws

    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        s3, ssm = boto3.client("s3"), boto3.client("ssm")
        s3.create_bucket(Bucket=BUCKET)
        sha = upload_model(s3, BUCKET, MODEL_KEY, trained, version="from-metadata")
        for name, value in {"artifact-bucket": BUCKET, "model-key": MODEL_KEY, "model-version": "2026.11.30"}.items():
            ssm.put_parameter(Name=PREFIX + name, Value=value, Type="String")
        # Tests read the locations from here, not by importing "conftest": another conftest of the suite
        # (tests/harness) may hold that module name when everything runs in one session.
        yield {"s3": s3, "ssm": ssm, "sha256": sha, "bucket": BUCKET, "prefix": PREFIX, "model_key": MODEL_KEY}


@pytest.fixture
def client(aws: dict[str, Any]) -> Callable[..., Any]:
    """A TestClient factory: ``client(DS_MAX_BODY_BYTES="100")``; the app starts (loads the model) inside."""
    from ds_api.app import create_app
    from ds_preprocessing.logs import JsonLogger
    from fastapi.testclient import TestClient

    opened: list[Any] = []

    def _make(**env: str) -> Any:
        stream = io.StringIO()
        app = create_app({"DS_SSM_PREFIX": PREFIX, **env}, aws["s3"], aws["ssm"], JsonLogger("api", stream))
        test_client = TestClient(app)
        test_client.__enter__()
        test_client.log = stream  # type: ignore[attr-defined]
        opened.append(test_client)
        return test_client

    yield _make  # type: ignore[misc]
    for test_client in opened:
        test_client.__exit__(None, None, None)


os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # ds_api.app builds its module-level app at import
