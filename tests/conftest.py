"""Shared test setup: the `localstack` marker and a session-wide LocalStack (reused if healthy, else started)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

DEFAULT_URL = "http://127.0.0.1:4566"
REPO_ROOT = Path(__file__).resolve().parents[1]  # the project root the session's LocalStack is recorded for
# pytest only honours pytest_plugins in the top-level conftest; the harness tests need pytester.
pytest_plugins = ["pytester"]


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker (also declared in pyproject) so this conftest works on its own."""
    config.addinivalue_line("markers", "localstack: needs a running LocalStack (the session fixture starts one)")


@dataclass
class LocalStackHandle:
    """What tests get: the gateway URL and a client factory bound to it (account = access key id)."""

    endpoint_url: str
    instance: Any = None  # dsplatform.localstack.Instance when this session started (or found) it
    started_here: bool = False
    _clients: dict[tuple[str, str, str], Any] = field(default_factory=dict)

    def client(self, service: str, account_id: str = "000000000000", region: str = "us-east-1") -> Any:
        """A boto3 client for ``service`` in that simulated account and region (cached per triple)."""
        import boto3
        from botocore.config import Config

        key = (service, account_id, region)
        if key not in self._clients:
            self._clients[key] = boto3.client(
                service,
                endpoint_url=self.endpoint_url,
                region_name=region,
                aws_access_key_id=account_id,
                aws_secret_access_key="test",
                config=Config(retries={"max_attempts": 2, "mode": "standard"}),
            )
        return self._clients[key]


def repo_image_sources() -> dict[str, Path]:
    """This repo's job images (repository -> source folder) in every environment, from their plans."""
    from dsplatform.tasks.localstack_tasks import env_image_sources

    return env_image_sources(str(REPO_ROOT / "dsplatform.yml"), "all")


@pytest.fixture(scope="session")
def localstack() -> Iterator[LocalStackHandle]:
    """A healthy LocalStack at $DSPLATFORM_LOCALSTACK_URL (default :4566): reused if up, else started and stopped.

    Either way this repo's job folders are registered as image sources. If it cannot be started the fixture
    errors with the reason, so `localstack` tests fail, never skip.
    """
    from dsplatform.localstack import LocalStackSettings, health, register_image_sources, start, stop

    # LocalStack-only scale of rollback-trigger monitoring minutes (the extension's cfn_triggers): short in tests.
    os.environ.setdefault("DSPLATFORM_MONITORING_SECONDS_PER_MINUTE", "2")
    url = os.environ.get("DSPLATFORM_LOCALSTACK_URL", DEFAULT_URL).rstrip("/")
    parsed = urlparse(url)
    settings = LocalStackSettings(host=parsed.hostname or "127.0.0.1", port=parsed.port or 4566,
                                  project_root=REPO_ROOT, image_sources=repo_image_sources())
    if health(url) is not None:
        register_image_sources(settings, settings.image_sources)
        yield LocalStackHandle(endpoint_url=url)
        return
    try:
        instance = start(settings)
    except Exception as err:
        pytest.fail(f"LocalStack could not be started at {url}: {err}", pytrace=False)
    handle = LocalStackHandle(endpoint_url=instance.endpoint_url, instance=instance, started_here=not instance.reused)
    try:
        yield handle
    finally:
        if handle.started_here:
            stop(settings)


# Tool output and caches never belong in a source copy.
_NOT_SOURCE = shutil.ignore_patterns(
    ".venv", "venv", "build", "dist", ".git", "*.egg-info", "__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache",
    ".ruff_cache", ".cache",
)


@pytest.fixture(scope="session")
def dsplatform_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dsplatform's wheel, built by pip from a copy of the source tree (the build never writes into the checkout)."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "src"
    shutil.copytree(REPO_ROOT, source, ignore=_NOT_SOURCE)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"), str(source)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (built,) = (tmp / "dist").glob("dsplatform-*.whl")
    return built
