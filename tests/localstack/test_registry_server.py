"""The local MLflow registry for real: started by PID with artifacts on LocalStack's S3, a model logged,
registered, aliased and exported as a reproducible model.tar.gz, then stopped."""

from __future__ import annotations

import hashlib
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dsplatform.registry import RegistrySettings, start, status, stop
from dsplatform.registry.models import fit, register, run_ops, sample_training_csv
from tests.localstack.support import ACCOUNT, unique
from tests.ports import free_port

pytestmark = pytest.mark.localstack


@pytest.fixture(scope="module")
def registry(localstack: Any) -> Iterator[dict[str, Any]]:
    """A registry on a spare port whose artifacts go to a fresh bucket; stopped (by PID) at the end."""
    s3 = localstack.client("s3", ACCOUNT)
    bucket = unique("registry")
    s3.create_bucket(Bucket=bucket)
    settings = RegistrySettings(artifacts_destination=f"s3://{bucket}/mlflow", port=free_port(),
                                s3_endpoint_url=localstack.endpoint_url, account_id=ACCOUNT)
    server = start(settings)
    try:
        yield {"settings": settings, "server": server, "s3": s3, "bucket": bucket}
    finally:
        assert stop(settings)
        assert not status(settings).healthy


def test_start_reuses_the_healthy_server_by_its_pid(registry: dict[str, Any]) -> None:
    again = start(registry["settings"])
    assert again.reused and again.pid == registry["server"].pid
    st = status(registry["settings"])
    assert st.healthy and st.version == "3.17.2" and st.pid == registry["server"].pid


def test_a_model_is_logged_to_s3_registered_aliased_and_exported_reproducibly(registry: dict[str, Any],
                                                                             tmp_path: Path) -> None:
    uri = registry["server"].url
    result = fit(uri, sample_training_csv(rows=800, seed=1), experiment="lstest", seed=1)
    assert result.accuracy > 0.9  # the label is learnable: a broken pipeline scores near the majority share
    keys = [o["Key"] for o in registry["s3"].list_objects_v2(Bucket=registry["bucket"], Prefix="mlflow/")
            .get("Contents", [])]
    assert any(k.endswith("MLmodel") for k in keys), keys  # artifacts went through the server to S3
    version = register(uri, result.run_id, "lstest-model")
    assert run_ops(uri, "stage", "--name", "lstest-model", "--version", version)["alias"] == "staging"
    first, second = tmp_path / "a.tar.gz", tmp_path / "b.tar.gz"
    exported = run_ops(uri, "export", "--name", "lstest-model", "--version", version, "--out", str(first))
    run_ops(uri, "export", "--name", "lstest-model", "--version", version, "--out", str(second))
    assert exported["sha256"] == hashlib.sha256(first.read_bytes()).hexdigest() == hashlib.sha256(
        second.read_bytes()).hexdigest()
    with tarfile.open(first) as tar:
        names = tar.getnames()
    assert "MLmodel" in names and "input_example.json" in names  # MLmodel at the root, as SageMaker unpacks it


def test_registering_an_unknown_run_is_one_line_naming_it(registry: dict[str, Any]) -> None:
    from dsplatform.registry import RegistryUsageError

    with pytest.raises(RegistryUsageError, match="run 'no-such-run' is not in the registry"):
        register(registry["server"].url, "no-such-run", "lstest-model")
