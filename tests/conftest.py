"""Shared test setup: the `localstack` marker and a session-wide LocalStack (reused if healthy, else started).

Under pytest-xdist (`./run test` runs `-n`) every worker asks for the session's LocalStack: the launcher's per-port
lock lets exactly one start it and the others reuse it. That worker cannot stop it when its own tests end (the
others may still be running theirs), so it records what it started and the controller stops it, after the last
worker has finished. Without xdist the fixture stops what it started, as before.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
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


_STARTED_RECORD = pytest.StashKey[Path]()  # the controller's: where a worker records a LocalStack it started
_WORKER_KEY = "dsplatform_localstack_started"  # the same path, as xdist hands it to each worker


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker (also declared in pyproject) so this conftest works on its own.

    An xdist controller (``-n N``, N > 0) also makes the folder its workers record a started LocalStack in, and
    keeps each module's tests on one worker: ``-n`` alone means ``--dist load``, which spreads them, so a module's
    module-scoped fixture (a deployment, a server, a venv) would be built again on each worker, and its tests,
    some of which build on the one before (test_codepipeline), would run out of order. It is upgraded to
    ``--dist loadscope``. (``loadgroup`` cannot group across modules here: pytest-xdist 3.8 marks a group by
    rewriting ``item._nodeid``, which pytest 9 no longer reads, so every test stays its own group.)
    """
    config.addinivalue_line("markers", "localstack: needs a running LocalStack (the session fixture starts one)")
    if _is_xdist_controller(config):
        config.stash[_STARTED_RECORD] = Path(tempfile.mkdtemp(prefix="ds-localstack-")) / "started.json"
        if config.getoption("dist") == "load":
            config.option.dist = "loadscope"
            config.option.loadscopereorder = False  # the order is the workers' collection order (below)


def _is_xdist_controller(config: pytest.Config) -> bool:
    return (not hasattr(config, "workerinput") and config.pluginmanager.hasplugin("xdist")
            and bool(config.getoption("numprocesses", None)))


# Folders whose tests share costly session fixtures of their own conftest (tests/consumer: one venv holding the
# wheel and one consumer LocalStack): the whole folder is one xdist scope, so those are built once, on one worker.
_ONE_WORKER_FOLDERS = ("tests/consumer/",)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker: the ``_ONE_WORKER_FOLDERS`` first, then modules with the most tests first.

    xdist's own reordering hands out the scopes with the most tests first, so tests/consumer (a few tests, but a
    wheel venv and five to six minutes of deploys on one worker) went last and was the run's tail. It now starts
    at once while the other workers share the rest; the rest keeps xdist's order.
    """
    if not hasattr(config, "workerinput"):
        return
    sizes = Counter(item.nodeid.split("::", 1)[0] for item in items)
    items.sort(key=lambda item: (not item.nodeid.startswith(_ONE_WORKER_FOLDERS),
                                 -sizes[item.nodeid.split("::", 1)[0]]))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """xdist (controller): ``loadscope`` by module, except that each of ``_ONE_WORKER_FOLDERS`` is one scope.

    (Their tests' ``xdist_group`` marks do not do it: that is ``loadgroup``, inert with pytest 9, see above.)
    """
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FolderScopes(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            folder = next((f for f in _ONE_WORKER_FOLDERS if nodeid.startswith(f)), None)
            return folder if folder is not None else str(super()._split_scope(nodeid))

    return FolderScopes(config, log)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist (controller): tell each worker where to record a LocalStack it starts."""
    node.workerinput[_WORKER_KEY] = str(node.config.stash[_STARTED_RECORD])


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """xdist (controller), after every worker ended: stop the LocalStack a worker started, and only that one."""
    record = session.config.stash.get(_STARTED_RECORD, None)
    if record is None:
        return
    try:
        if record.is_file():
            _stop_recorded(json.loads(record.read_text()))
    finally:
        record.unlink(missing_ok=True)
        record.parent.rmdir()


def _stop_recorded(started: dict[str, Any]) -> None:
    from dsplatform.localstack import LocalStackSettings, status, stop

    settings = LocalStackSettings(host=started["host"], port=int(started["port"]), project_root=REPO_ROOT)
    # The PID still recorded for the port must be the one a worker started: never stop a later instance.
    if status(settings).pid == started["pid"]:
        stop(settings)


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
def localstack(request: pytest.FixtureRequest) -> Iterator[LocalStackHandle]:
    """A healthy LocalStack at $DSPLATFORM_LOCALSTACK_URL (default :4566): reused if up, else started and stopped.

    Either way this repo's job folders are registered as image sources. If it cannot be started the fixture
    errors with the reason, so `localstack` tests fail, never skip. On an xdist worker, one it started is
    recorded for the controller to stop (module docstring).
    """
    from dsplatform.localstack import LocalStackSettings, health, register_image_sources, start, stop

    # LocalStack-only scale of rollback-trigger monitoring minutes (the extension's cfn_triggers): short in tests.
    os.environ.setdefault("DSPLATFORM_MONITORING_SECONDS_PER_MINUTE", "2")
    # LocalStack-only interval of ALB access-log delivery (the extension's alb/access_logs; AWS: 5 minutes).
    os.environ.setdefault("DSPLATFORM_ACCESS_LOG_SECONDS", "2")
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
    record = getattr(request.config, "workerinput", {}).get(_WORKER_KEY)
    if record is not None:
        if handle.started_here:
            Path(record).write_text(json.dumps({"host": settings.host, "port": settings.port, "pid": instance.pid}))
        yield handle
        return
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
