"""dsplatform used from another repo, as a user would: the wheel installed (not editable) into a fresh venv outside
the checkout, driving the consumer repo of docs/examples/consumer (project ``ml``, its own component, job and
scenario, its own LocalStack port) through synth, lint, deploy, outputs, destroy and e2e on a real LocalStack.
No PYTHONPATH, no monkeypatching: only the venv's console scripts in the consumer's folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import venv
from pathlib import Path

import pytest
import yaml

from tests.ports import free_port

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "docs" / "examples" / "consumer"
pytestmark = pytest.mark.localstack


def _run(env: dict[str, str], cwd: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=cwd, env=env, text=True, capture_output=True, timeout=timeout, check=False)


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"{' '.join(result.args)} exited {result.returncode}:\n" \
                                   f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def consumer(dsplatform_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The example repo copied outside the checkout, with a venv holding the wheel and its harness extra."""
    root = tmp_path_factory.mktemp("consumer")
    repo = root / "repo"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns("build", "__pycache__"))
    # Its own LocalStack port, as in the example, but a free one: two runs of this test on one machine (parallel
    # sessions, other checkouts) must not start, use and stop the same LocalStack.
    config = repo / "dsplatform.yml"
    text = config.read_text()
    assert "http://127.0.0.1:4599" in text
    config.write_text(text.replace("http://127.0.0.1:4599", f"http://127.0.0.1:{free_port()}"))
    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / "bin"
    _ok(_run(dict(os.environ), root, str(bin_dir / "python"), "-m", "pip", "install", "-q",
             f"dsplatform[harness] @ {dsplatform_wheel.as_uri()}", timeout=900))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "DSPLATFORM_LOCALSTACK_URL", "VIRTUAL"))}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    return repo, env


def test_consumer_repo_end_to_end_from_the_installed_wheel(consumer: tuple[Path, dict[str, str]]) -> None:
    repo, env = consumer
    port = yaml.safe_load((repo / "dsplatform.yml").read_text())["localstack"]["endpoint_url"].rsplit(":", 1)[1]
    where = _ok(_run(env, repo, "python", "-c", "import dsplatform, harness; print(dsplatform.__file__)"))
    assert str(REPO) not in where and "site-packages" in where  # the wheel, not this checkout

    synth = _ok(_run(env, repo, "invoke", "synth", "--env", "dev"))
    assert (repo / "build" / "dev" / "ml-dev-enrich.json").is_file() and "ml-dev-enrich" in synth
    _ok(_run(env, repo, "invoke", "lint", "--env", "dev"))
    started = _ok(_run(env, repo, "invoke", "localstack.start"))
    assert f":{port}" in started
    try:
        _ok(_run(env, repo, "invoke", "deploy", "--env", "dev", "--json"))
        outputs = _ok(_run(env, repo, "invoke", "outputs", "--env", "dev"))
        assert "ml-dev-enrich" in outputs and "TaskDefinitionArn" in outputs
        _ok(_run(env, repo, "invoke", "destroy", "--env", "dev", "--json"))

        e2e = _run(env, repo, "invoke", "e2e", "--env", "qa", timeout=900)
        _ok(e2e)
        assert "test_enrich_job_runs_on_the_stock_cluster_and_writes_its_summary" in \
               (repo / "build" / "reports" / "junit.xml").read_text()
        assert "PASSED" in e2e.stdout and (repo / "build" / "reports" / "e2e.html").is_file()
    finally:
        stopped = _run(env, repo, "invoke", "localstack.stop")
    _ok(stopped)
