"""The consumer tests' shared setup: one venv holding the installed wheel (with its harness extra) and one copy of
the example consumer repo outside the checkout, whose own LocalStack (a free port) every consumer test uses.

Built once per session: the wheel's install and LocalStack's start are what these tests cost most. Each test
drives the venv's console scripts in the copy (``Consumer.ok("invoke", ...)``), never this checkout's code.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.ports import free_port

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "docs" / "examples" / "consumer"


def pytest_configure(config: pytest.Config) -> None:
    """Declare xdist's group marker: under `-n` the consumer tests share one worker (one venv, one LocalStack)."""
    config.addinivalue_line("markers", "xdist_group(name): run on the same pytest-xdist worker as the group")


def run(env: dict[str, str], cwd: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run a command of the consumer's venv in ``cwd``; never raises on its exit code."""
    return subprocess.run(list(args), cwd=cwd, env=env, text=True, capture_output=True, timeout=timeout, check=False)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    """The command's stdout, after asserting it exited 0 (its output's tail otherwise)."""
    assert result.returncode == 0, f"{' '.join(result.args)} exited {result.returncode}:\n" \
                                   f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@dataclass(frozen=True)
class Consumer:
    """The example repo's copy, the environment of its venv and the port of its LocalStack."""

    repo: Path
    env: dict[str, str]
    port: int

    @property
    def endpoint_url(self) -> str:
        """The consumer's LocalStack gateway (its dsplatform.yml's localstack.endpoint_url)."""
        return f"http://127.0.0.1:{self.port}"

    def client(self, service: str, account: str) -> Any:
        """A boto3 client of the consumer's LocalStack, in ``account`` (LocalStack: the access key id)."""
        return boto3.client(service, endpoint_url=self.endpoint_url, region_name="us-east-1",
                            aws_access_key_id=account, aws_secret_access_key="test")

    def run(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """A command in the repo's folder, with the venv's scripts first on PATH."""
        return run(self.env, self.repo, *args, timeout=timeout)

    def ok(self, *args: str, timeout: float = 600) -> str:
        """A command that must succeed: its stdout."""
        return ok(self.run(*args, timeout=timeout))

    def shipped_image(self, job: str) -> tuple[str, str]:
        """(folder, digest) of a job's image source as the installed wheel ships it (what `image.push` pushes)."""
        script = ("from pathlib import Path; from dsplatform.components.model import Image; "
                  "from dsplatform.images import image_digest; "
                  f"folder = Image({job!r}, bundled=True).source_dir(Path.cwd()); print(folder, image_digest(folder))")
        folder, digest = self.ok("python", "-c", script).split()
        return folder, digest


@pytest.fixture(scope="session")
def consumer_env(dsplatform_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a fresh venv outside the checkout holding ``dsplatform[harness]`` from the wheel."""
    root = tmp_path_factory.mktemp("consumer-venv")
    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / "bin"
    ok(run(dict(os.environ), root, str(bin_dir / "python"), "-m", "pip", "install", "-q",
           f"dsplatform[harness] @ {dsplatform_wheel.as_uri()}", timeout=900))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "DSPLATFORM_LOCALSTACK_URL", "VIRTUAL"))}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    return env


@pytest.fixture(scope="session")
def consumer(consumer_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Consumer]:
    """The example repo copied outside the checkout, its LocalStack started with the venv's `invoke localstack.start`
    and stopped (`invoke localstack.stop`, which must succeed) when the session ends."""
    repo = tmp_path_factory.mktemp("consumer") / "repo"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns("build", "__pycache__"))
    # Its own LocalStack port, as in the example, but a free one: two runs of these tests on one machine (parallel
    # sessions, other checkouts) must not start, use and stop the same LocalStack.
    config = repo / "dsplatform.yml"
    text = config.read_text()
    assert "http://127.0.0.1:4599" in text
    port = free_port()
    config.write_text(text.replace("http://127.0.0.1:4599", f"http://127.0.0.1:{port}"))
    found = Consumer(repo, consumer_env, port)
    started = found.ok("invoke", "localstack.start")
    assert f":{port}" in started
    try:
        yield found
    finally:
        stopped = found.run("invoke", "localstack.stop")
    ok(stopped)
