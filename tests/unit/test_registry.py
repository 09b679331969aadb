"""The registry's pure parts: settings, URIs from config, pins shared with the serving image, and PID handling."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from dsplatform.config.models import EnvironmentConfig, ModelRegistrySettings
from dsplatform.registry import RegistryError, RegistrySettings, RegistryUsageError, registry_uri, start, status, stop
from dsplatform.registry.models import check_name, sample_training_csv
from dsplatform.registry.settings import SERVER_REQUIREMENTS, host_port
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


def _env(target: str, uri: str | None = None) -> EnvironmentConfig:
    return EnvironmentConfig.model_validate({"name": "stg", "account_id": "111111111111", "target": target,
                                             "settings": {"model_registry": {"uri": uri}}})


def test_registry_uri_is_the_local_server_on_localstack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSPLATFORM_REGISTRY_URL", "http://127.0.0.1:5680")
    assert registry_uri(_env("localstack")) == "http://127.0.0.1:5680"


def test_registry_uri_on_aws_comes_from_config() -> None:
    assert registry_uri(_env("aws", "https://mlflow.example.com")) == "https://mlflow.example.com"
    arn = "arn:aws:sagemaker:us-east-1:111111111111:mlflow-tracking-server/team"
    assert registry_uri(_env("aws", arn)) == arn
    with pytest.raises(RegistryUsageError, match=r"environments\.stg\.settings\.model_registry\.uri is unset"):
        registry_uri(_env("aws"))


@pytest.mark.parametrize("uri", ["http://mlflow.example.com", "mlflow.example.com", "arn:aws:s3:::bucket"])
def test_config_refuses_registry_uris_that_are_not_tls_or_a_sagemaker_arn(uri: str) -> None:
    with pytest.raises(ValidationError, match="is not a registry URI"):
        ModelRegistrySettings(uri=uri)


@pytest.mark.parametrize(("url", "words"), [("https://127.0.0.1:5000", "not a local server URL"),
                                            ("http://10.0.0.1:5000", "not a loopback"),
                                            ("http://127.0.0.1", "not a local server URL")])
def test_local_url_must_be_loopback_http_with_a_port(url: str, words: str) -> None:
    with pytest.raises(RegistryUsageError, match=words):
        host_port(url)
    assert host_port("http://127.0.0.1:5680") == ("127.0.0.1", 5680)


def test_training_venv_pins_equal_the_serving_image_pins() -> None:
    # The sample model is pickled in the registry venv and unpickled in the serving image: versions must agree.
    serving = {line.split("==")[0]: line.split("==")[1] for line in
               (ROOT / "containers/serving/requirements.txt").read_text().splitlines()
               if line and not line.startswith("#")}
    server = dict(r.split("==") for r in SERVER_REQUIREMENTS if "==" in r)
    assert serving["mlflow-skinny"] == server["mlflow"]
    for package in ("scikit-learn", "pandas", "numpy"):
        assert serving[package] == server[package], package


def test_sample_training_data_keeps_only_valid_rows_and_feature_columns() -> None:
    lines = sample_training_csv(rows=400, seed=3).decode().splitlines()
    assert lines[0] == "amount,quantity,category,region"
    assert 300 < len(lines) - 1 < 400  # about 5% dirty rows, some of them rejected


@pytest.mark.parametrize("name", ["", "a b", "x/y", "a" * 101])
def test_bad_model_names_are_refused(name: str) -> None:
    with pytest.raises(RegistryUsageError, match="--name"):
        check_name(name)


@pytest.fixture
def fake_server(tmp_path: Path) -> Iterator[tuple[RegistrySettings, subprocess.Popen[bytes]]]:
    """A process whose command line looks like an MLflow server, recorded as this port's registry."""
    settings = RegistrySettings(artifacts_destination="s3://bucket/mlflow", port=free_port(), cache=tmp_path)
    process = subprocess.Popen([sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)",
                                "mlflow", "server"], start_new_session=True, stdout=subprocess.PIPE)
    # Its first line comes once the interpreter runs the script: the process has exec'd, so /proc/<pid>/cmdline
    # is the command line above, not the forked test runner's (read too early, that made this fixture flaky).
    assert process.stdout is not None and process.stdout.readline() == b"up\n"
    settings.state_dir.mkdir(parents=True)
    settings.pid_file.write_text(json.dumps({"pid": process.pid, "artifacts_destination": "s3://bucket/mlflow"}))
    yield settings, process
    process.kill()
    process.wait()
    process.stdout.close()


def test_start_refuses_a_running_registry_with_another_artifacts_destination(fake_server) -> None:  # type: ignore[no-untyped-def]
    settings, _ = fake_server
    other = RegistrySettings(artifacts_destination="s3://other/mlflow", port=settings.port, cache=settings.cache)
    with pytest.raises(RegistryError, match=r"stores artifacts in 's3://bucket/mlflow', not 's3://other/mlflow'"):
        start(other)


def test_status_reports_an_unhealthy_recorded_process_and_stop_ends_it_by_pid(fake_server) -> None:  # type: ignore[no-untyped-def]
    settings, process = fake_server
    st = status(settings)
    assert st.pid == process.pid and not st.healthy
    assert "does not answer" in (st.problem or "")
    assert stop(settings) is True
    assert process.poll() is not None
    assert not settings.pid_file.exists()


def test_stop_never_signals_a_recorded_pid_that_is_not_mlflow(tmp_path: Path) -> None:
    settings = RegistrySettings(artifacts_destination="x", port=free_port(), cache=tmp_path)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        settings.state_dir.mkdir(parents=True)
        settings.pid_file.write_text(json.dumps({"pid": other.pid}))
        assert stop(settings) is False
        assert other.poll() is None
        assert "not running" in (status(settings).problem or "")
    finally:
        other.kill()
        other.wait()
