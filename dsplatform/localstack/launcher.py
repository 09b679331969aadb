"""Start, stop and inspect a host-mode LocalStack process, one per port, by recorded PID only.

The instance records the project root that started it; another project root's start, stop or status is
refused (ForeignInstanceError) instead of acting on it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsplatform.localstack.errors import ForeignInstanceError, LocalStackError
from dsplatform.localstack.imagesources import register_image_sources, registered_image_sources
from dsplatform.localstack.settings import LocalStackSettings
from dsplatform.localstack.venv import ensure_venv
from dsplatform.procs import pid_alive

_POLL_SECONDS = 0.25


@dataclass(frozen=True)
class Instance:
    """A running LocalStack: where it answers, its PID and log, and whether start() found it already running."""

    endpoint_url: str
    pid: int | None
    port: int
    log_path: Path
    reused: bool


@dataclass(frozen=True)
class Status:
    """What `status` reports: running or not, PID, version and each service's state, or why it's unhealthy."""

    endpoint_url: str
    port: int
    pid: int | None
    running: bool
    healthy: bool
    version: str | None
    services: dict[str, str]
    problem: str | None
    log_path: Path
    images: dict[str, str] = field(default_factory=dict)  # repository -> pending / ready: ... / failed: ...


def health(endpoint_url: str, timeout: float = 2.0) -> dict[str, Any] | None:
    """GET /_localstack/health, or None if nothing (healthy) answers there."""
    try:
        with urllib.request.urlopen(f"{endpoint_url}/_localstack/health", timeout=timeout) as response:
            body = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None
    return body if isinstance(body, dict) and "services" in body else None


def _read_state(settings: LocalStackSettings) -> dict[str, Any] | None:
    try:
        return json.loads(settings.pid_file.read_text())
    except (OSError, ValueError):
        return None


def image_state(settings: LocalStackSettings) -> tuple[str, dict[str, str]]:
    """("building" | "done" | "unknown", repository -> outcome) of the instance's image venv warm-up."""
    try:
        data = json.loads(settings.images_file.read_text())
    except (OSError, ValueError):
        return "unknown", {}
    return str(data.get("state", "unknown")), dict(data.get("images", {}))


def wait_for_images(settings: LocalStackSettings) -> dict[str, str]:
    """Wait (bounded by settings.image_timeout) until the settings' images' venvs (else every registered one's)
    are built; fail on a failed one."""
    deadline = time.monotonic() + settings.image_timeout
    while time.monotonic() < deadline:
        wanted = settings.image_sources or registered_image_sources(settings)
        _, images = image_state(settings)
        failed = {name: images[name] for name in wanted if images.get(name, "").startswith("failed")}
        if failed:
            raise LocalStackError(f"building local image venvs failed: {failed}")
        if all(images.get(name, "").startswith("ready") for name in wanted):
            return images
        time.sleep(1.0)
    raise LocalStackError(
        f"local image venvs not built after {settings.image_timeout:.0f}s: {image_state(settings)[1]};"
        f" see the logs under {settings.cache_root / 'images' / 'venvs'}"
    )


def log_tail(settings: LocalStackSettings, lines: int = 20) -> list[str]:
    """The last lines of this port's LocalStack log."""
    try:
        return settings.log_path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return []


def _environment(settings: LocalStackSettings) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "PYTHON"))}
    env.update(
        {
            "GATEWAY_LISTEN": f"{settings.host}:{settings.port}",
            "DNS_ADDRESS": "0",
            "PERSISTENCE": "0",
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "DISABLE_EVENTS": "1",
            "CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES": "0",  # unsupported types fail the stack instead of becoming mocks
            "LAMBDA_RUNTIME_EXECUTOR": "dsplatform",  # the extension's executor: functions run as local processes
            "PROVIDER_OVERRIDE_DYNAMODB": "moto",  # LocalStack's own DynamoDB downloads Java and fails offline
            "DSPLATFORM_CACHE_DIR": str(settings.cache_root),
            "DSPLATFORM_STATE_DIR": str(settings.state_dir),  # the extension reports image warm-up there
            # Read at each image resolution, so registrations after start-up count (register_image_sources).
            "DSPLATFORM_IMAGE_SOURCES_FILE": str(settings.sources_file),
            # Own data folder per port: instances on other ports must not share LocalStack's tmp state.
            "LOCALSTACK_VOLUME_DIR": str(settings.state_dir / "volume"),
            "TMPDIR": str(settings.state_dir / "tmp"),
        }
    )
    # CodeBuild runs a build's commands with the host's tools: this venv's bin (dsplatform, invoke) comes first.
    env.setdefault("DSPLATFORM_CODEBUILD_PATH", _codebuild_path())
    env.update(settings.extra_env)
    return env


def _codebuild_path() -> str:
    """The current venv's bin directory (empty outside a venv): what a local CodeBuild build finds first on PATH."""
    return str(Path(sys.executable).parent) if sys.prefix != sys.base_prefix else ""


def _owner_check(settings: LocalStackSettings, state: dict[str, Any] | None) -> None:
    """Refuse to act on a live instance that another project root started (one line naming that root)."""
    if not state or not state.get("project_root") or state["project_root"] == str(settings.project_root):
        return
    pid = int(state["pid"]) if state.get("pid") else None
    if pid is not None and pid_alive(pid) and _is_localstack(pid):
        raise ForeignInstanceError(settings.port, str(state["project_root"]), pid, str(settings.project_root))


def register_own_images(settings: LocalStackSettings) -> bool:
    """Register ``settings.image_sources`` on the port's instance unless another project root's runs there.

    For a plain deploy whose images run at once (an ECS service, a SageMaker endpoint): without it they run only
    after a `localstack.start --env` or an e2e registered them. Another project's map is left alone (False).
    """
    try:
        _owner_check(settings, _read_state(settings))
    except ForeignInstanceError:
        return False
    if settings.image_sources:
        register_image_sources(settings, settings.image_sources)
    return True


def start(settings: LocalStackSettings | None = None) -> Instance:
    """Start LocalStack (building its venv on first use) or reuse a healthy one on the port; wait for health.

    A lock per port makes two concurrent callers (two test sessions) share one instance. ``settings.image_sources``
    is merged into the instance's map when it is reused, and is the whole map of a newly started one.
    Refused (ForeignInstanceError) when the live instance on the port belongs to another project root.
    """
    settings = settings or LocalStackSettings()
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.state_dir / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _start_locked(settings)


def _start_locked(settings: LocalStackSettings) -> Instance:
    state = _read_state(settings)
    _owner_check(settings, state)
    if health(settings.endpoint_url) is not None:
        register_image_sources(settings, settings.image_sources)
        pid = state.get("pid") if state and pid_alive(state.get("pid")) else None
        if settings.wait_for_images and pid is not None:
            wait_for_images(settings)
        return Instance(settings.endpoint_url, pid, settings.port, settings.log_path, reused=True)
    if state and pid_alive(state.get("pid")) and _is_localstack(int(state["pid"])):
        # Our process is alive but not healthy: maybe still starting; give it the normal time.
        register_image_sources(settings, settings.image_sources)
        return _wait_healthy(settings, int(state["pid"]), reused=True)
    register_image_sources(settings, settings.image_sources, replace=True)  # a new process: a new map
    venv = ensure_venv(settings)
    settings.images_file.unlink(missing_ok=True)  # a previous instance's report
    (settings.state_dir / "tmp").mkdir(exist_ok=True)
    with open(settings.log_path, "w") as log:
        process = subprocess.Popen(
            [str(venv / "bin" / "python"), "-m", "localstack.runtime.main"],
            cwd=settings.state_dir,  # never the repo root: its localstack/ folder would shadow the package
            env=_environment(settings),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # not killed by the caller's Ctrl-C or session end
        )
    settings.pid_file.write_text(
        json.dumps(
            {
                "pid": process.pid,
                "port": settings.port,
                "host": settings.host,
                "project_root": str(settings.project_root),
                "venv": str(venv),
                "started": time.time(),
            }
        )
    )
    return _wait_healthy(settings, process.pid, reused=False, process=process)


def _wait_healthy(
    settings: LocalStackSettings, pid: int, reused: bool, process: subprocess.Popen[bytes] | None = None
) -> Instance:
    deadline = time.monotonic() + settings.startup_timeout
    while time.monotonic() < deadline:
        if (process is not None and process.poll() is not None) or not pid_alive(pid):
            tail = " | ".join(log_tail(settings, 5))
            raise LocalStackError(
                f"LocalStack on port {settings.port} exited during start-up (PID {pid}); last log lines: {tail};"
                f" full log: {settings.log_path}"
            )
        if health(settings.endpoint_url) is not None:
            if settings.wait_for_images:
                wait_for_images(settings)
            return Instance(settings.endpoint_url, pid, settings.port, settings.log_path, reused=reused)
        time.sleep(_POLL_SECONDS)
    tail = " | ".join(log_tail(settings, 5))
    raise LocalStackError(
        f"LocalStack on port {settings.port} (PID {pid}) not healthy after {settings.startup_timeout:.0f}s;"
        f" last log lines: {tail}; run `invoke localstack.logs --port {settings.port}` or stop it"
    )


def _is_localstack(pid: int) -> bool:
    # Guards against a recycled PID: only signal a process that is really LocalStack's runtime.
    try:
        return b"localstack.runtime.main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def stop(settings: LocalStackSettings | None = None) -> bool:
    """Stop the instance recorded for this port: SIGTERM, then SIGKILL after the timeout. False if none ran.

    Signals go to the recorded PID's process group (it was started as a group leader), so pip builds it
    started go too; task processes are stopped by the extension's shutdown hook.
    """
    settings = settings or LocalStackSettings()
    state = _read_state(settings)
    _owner_check(settings, state)
    pid = int(state["pid"]) if state and state.get("pid") else None
    if pid is None or not pid_alive(pid) or not _is_localstack(pid):
        _kill_orphaned_tasks(settings)  # left by an instance that died without its shutdown hooks
        settings.pid_file.unlink(missing_ok=True)
        return False
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + settings.stop_timeout
    while time.monotonic() < deadline and pid_alive(pid):
        time.sleep(_POLL_SECONDS)
        _reap(pid)
    if pid_alive(pid):
        _signal_group(pid, signal.SIGKILL)
        while pid_alive(pid):
            time.sleep(_POLL_SECONDS)
            _reap(pid)
    _reap(pid)
    _kill_orphaned_tasks(settings)
    settings.pid_file.unlink(missing_ok=True)
    return True


def _kill_orphaned_tasks(settings: LocalStackSettings) -> None:
    # Task processes run in their own process groups; LocalStack ends them on a clean shutdown, but not
    # when it had to be SIGKILLed. The extension records each group leader's PID under tasks/.
    for marker in sorted((settings.state_dir / "tasks").glob("*")):
        with contextlib.suppress(ValueError, ProcessLookupError, PermissionError):
            task_pid = int(marker.name)
            if pid_alive(task_pid) and os.getpgid(task_pid) == task_pid:
                os.killpg(task_pid, signal.SIGKILL)
        marker.unlink(missing_ok=True)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _reap(pid: int) -> None:
    # If this process started LocalStack, collect the exit status so it doesn't linger as a zombie.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def status(settings: LocalStackSettings | None = None) -> Status:
    """PID, version and services of the instance on this port, and any problem (crashed, stale, foreign)."""
    settings = settings or LocalStackSettings()
    state = _read_state(settings)
    _owner_check(settings, state)
    pid = int(state["pid"]) if state and state.get("pid") else None
    alive = pid_alive(pid)
    body = health(settings.endpoint_url)
    problem = None
    if body is None and state and not alive:
        problem = (
            f"stale: recorded PID {pid} is gone (crashed or killed); last log line: "
            f"{(log_tail(settings, 1) or ['<empty>'])[0]}; run `invoke localstack.start --port {settings.port}`"
        )
    elif body is None and alive:
        problem = f"PID {pid} is alive but {settings.endpoint_url} does not answer health checks"
    elif body is not None and not alive:
        problem = (
            f"an instance answers on port {settings.port} but was not started by dsplatform (no live PID recorded)"
        )
        pid = None
    elif body is None:
        problem = f"not running; run `invoke localstack.start --port {settings.port}`"
    return Status(
        endpoint_url=settings.endpoint_url,
        port=settings.port,
        pid=pid if alive else None,
        running=body is not None,
        healthy=body is not None,
        version=(body or {}).get("version"),
        services=dict(sorted((body or {}).get("services", {}).items())),
        problem=problem,
        log_path=settings.log_path,
        images=image_state(settings)[1] if alive else {},
    )
