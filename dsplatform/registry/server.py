"""Start, stop and inspect the local MLflow tracking server, one per port, by recorded PID only."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsplatform.procs import pid_alive
from dsplatform.registry.errors import RegistryError
from dsplatform.registry.settings import RegistrySettings
from dsplatform.registry.venv import ensure_venv

_POLL_SECONDS = 0.25


@dataclass(frozen=True)
class Server:
    """A running registry: its URL, PID, log and artifacts destination, and whether start() reused it."""

    url: str
    pid: int | None
    log_path: Path
    artifacts_destination: str
    reused: bool


@dataclass(frozen=True)
class Status:
    """What `status` reports: healthy or not, PID, version and the problem if any."""

    url: str
    pid: int | None
    healthy: bool
    version: str | None
    artifacts_destination: str | None
    problem: str | None
    log_path: Path


def healthy(url: str, timeout: float = 2.0) -> bool:
    """True if an MLflow server answers GET /health with OK."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout) as response:
            return bool(response.status == 200 and response.read().strip() == b"OK")
    except (urllib.error.URLError, OSError):
        return False


def server_version(url: str, timeout: float = 2.0) -> str | None:
    """The server's MLflow version (GET /version), or None."""
    try:
        with urllib.request.urlopen(f"{url}/version", timeout=timeout) as response:
            return response.read().decode().strip() or None
    except (urllib.error.URLError, OSError):
        return None


def _read_state(settings: RegistrySettings) -> dict[str, Any] | None:
    try:
        return json.loads(settings.pid_file.read_text())
    except (OSError, ValueError):
        return None


def _is_mlflow(pid: int) -> bool:
    # Guards against a recycled PID: only signal a process that is really an MLflow server.
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"mlflow" in cmdline and b"server" in cmdline


def log_tail(settings: RegistrySettings, lines: int = 5) -> list[str]:
    """The last lines of the server's log."""
    try:
        return settings.log_path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return []


def _environment(settings: RegistrySettings) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "MLFLOW_", "PYTHON"))}
    env.update({
        # Background jobs (the server's huey workers) cost ~1.8 GB and nothing here uses them.
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "AWS_ACCESS_KEY_ID": settings.account_id,
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": settings.region,
    })
    if settings.s3_endpoint_url:
        env["MLFLOW_S3_ENDPOINT_URL"] = settings.s3_endpoint_url
    env.update(settings.extra_env)
    return env


def start(settings: RegistrySettings) -> Server:
    """Start the server (installing its venv on first use) or reuse a healthy one on the port; wait for /health.

    A server reused must proxy the same artifacts destination, or models would land in two places.
    """
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.state_dir / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _start_locked(settings)


def _start_locked(settings: RegistrySettings) -> Server:
    state = _read_state(settings) or {}
    pid = int(state["pid"]) if state.get("pid") else None
    if pid is not None and pid_alive(pid) and _is_mlflow(pid):
        recorded = state.get("artifacts_destination")
        if recorded != settings.artifacts_destination:
            raise RegistryError(
                f"the registry on port {settings.port} (PID {pid}) stores artifacts in {recorded!r}, not "
                f"{settings.artifacts_destination!r}; stop it first (`invoke registry.stop` with "
                f"DSPLATFORM_REGISTRY_URL={settings.url})")
        return _wait_healthy(settings, pid, reused=True)
    if healthy(settings.url):
        raise RegistryError(f"{settings.url} answers as an MLflow server that dsplatform did not start (no live PID "
                            f"recorded in {settings.pid_file}); stop it or use another port")
    venv = ensure_venv(settings)
    argv = [
        str(venv / "bin" / "python"), "-m", "mlflow", "server",
        "--host", settings.host, "--port", str(settings.port),
        "--backend-store-uri", settings.backend_store_uri,
        "--artifacts-destination", settings.artifacts_destination,
        "--serve-artifacts", "--workers", "1",
    ]
    with open(settings.log_path, "w") as log:
        process = subprocess.Popen(
            argv, cwd=settings.state_dir, env=_environment(settings), stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,  # its own group: workers go with it on stop
        )
    settings.pid_file.write_text(json.dumps({
        "pid": process.pid, "port": settings.port, "host": settings.host, "venv": str(venv),
        "artifacts_destination": settings.artifacts_destination, "started": time.time(),
    }))
    return _wait_healthy(settings, process.pid, reused=False, process=process)


def _wait_healthy(settings: RegistrySettings, pid: int, reused: bool,
                  process: subprocess.Popen[bytes] | None = None) -> Server:
    deadline = time.monotonic() + settings.startup_timeout
    while time.monotonic() < deadline:
        if (process is not None and process.poll() is not None) or not pid_alive(pid):
            raise RegistryError(f"the registry on port {settings.port} exited during start-up (PID {pid}); last log "
                                f"lines: {' | '.join(log_tail(settings))}; full log: {settings.log_path}")
        if healthy(settings.url):
            return Server(settings.url, pid, settings.log_path, settings.artifacts_destination, reused)
        time.sleep(_POLL_SECONDS)
    raise RegistryError(f"the registry on port {settings.port} (PID {pid}) is not healthy after "
                        f"{settings.startup_timeout:.0f}s; last log lines: {' | '.join(log_tail(settings))}; "
                        f"stop it with `invoke registry.stop` (DSPLATFORM_REGISTRY_URL={settings.url})")


def stop(settings: RegistrySettings) -> bool:
    """Stop the server recorded for this port (SIGTERM to its group, SIGKILL after the timeout); False if none ran."""
    state = _read_state(settings) or {}
    pid = int(state["pid"]) if state.get("pid") else None
    if pid is None or not pid_alive(pid) or not _is_mlflow(pid):
        settings.pid_file.unlink(missing_ok=True)
        return False
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + settings.stop_timeout
    while pid_alive(pid):
        if time.monotonic() > deadline:
            _signal_group(pid, signal.SIGKILL)
        time.sleep(_POLL_SECONDS)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reap it if this process started it
    settings.pid_file.unlink(missing_ok=True)
    return True


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def status(settings: RegistrySettings) -> Status:
    """PID, version and health of the server on this port, and the problem (crashed, foreign, not running)."""
    state = _read_state(settings) or {}
    pid = int(state["pid"]) if state.get("pid") else None
    alive = pid_alive(pid) and pid is not None and _is_mlflow(pid)
    ok = healthy(settings.url)
    problem = None
    if ok and not alive:
        problem = f"an MLflow server answers on port {settings.port} but dsplatform did not start it"
    elif not ok and alive:
        problem = f"PID {pid} is alive but {settings.url}/health does not answer (starting, or hung)"
    elif not ok and pid is not None:
        problem = (f"stale: recorded PID {pid} is gone; last log line: {(log_tail(settings, 1) or ['<empty>'])[0]};"
                   f" run `invoke registry.start`")
    elif not ok:
        problem = "not running; run `invoke registry.start`"
    return Status(settings.url, pid if alive else None, ok, server_version(settings.url) if ok else None,
                  state.get("artifacts_destination") if alive else None, problem, settings.log_path)
