"""Local process facts and set-up commands shared by the deploy lock, the launchers and the cached venvs."""

from __future__ import annotations

import os
from pathlib import Path


def pid_alive(pid: int | None) -> bool:
    """True if a process with this PID runs here; a zombie (exited, not yet reaped) counts as gone."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, it is just not ours
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True


def run_logged(argv: list[str], log_path: Path, what: str, error: type[Exception]) -> None:
    """Run a set-up command (a venv build, a pip install) appending its output to ``log_path``.

    On failure, raise ``error`` with one line: what failed, the exit code, the log's last three lines and where
    the full log is. Used by every cached venv this project builds (LocalStack, the registry, checkov).
    """
    import subprocess

    with open(log_path, "a") as log:
        log.write(f"$ {' '.join(argv)}\n")
        log.flush()
        result = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        tail = " | ".join(log_path.read_text(errors="replace").strip().splitlines()[-3:])
        raise error(f"{what} failed (exit {result.returncode}): {tail}; full log: {log_path}")
