"""Find a Python >= 3.12 for LocalStack (the project's own venv is 3.11, too old for LocalStack)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from dsplatform.localstack.errors import InterpreterNotFoundError

MIN_VERSION = (3, 12)
ENV_VAR = "DSPLATFORM_LOCALSTACK_PYTHON"


def python_version(executable: str) -> tuple[int, int] | None:
    """Return (major, minor) of an interpreter, or None if it does not run.

    Running it matters: pyenv puts shims such as ``python3.13`` on PATH that exist but fail
    unless that version is selected.
    """
    try:
        out = subprocess.run(
            [executable, "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    try:
        major, minor = (int(part) for part in out.stdout.split())
    except ValueError:
        return None
    return major, minor


def candidates(explicit: str | None = None) -> list[str]:
    """Interpreters to try, in order: explicit setting, env var, PATH, pyenv's versions folder."""
    found: list[str] = []
    for configured in (explicit, os.environ.get(ENV_VAR)):
        if configured:
            found.append(configured)
    for name in ("python3.13", "python3.12"):
        path = shutil.which(name)
        if path:
            found.append(path)
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    for pattern in ("3.13*", "3.12*"):
        found.extend(str(p) for p in sorted((pyenv_root / "versions").glob(f"{pattern}/bin/python3"), reverse=True))
    return found


def find_python(explicit: str | None = None) -> str:
    """Return the first working interpreter >= 3.12, or raise a one-line error saying how to get one."""
    tried = candidates(explicit)
    explicit_value = explicit or os.environ.get(ENV_VAR)
    for executable in tried:
        version = python_version(executable)
        if version is not None and version >= MIN_VERSION:
            return executable
        if executable == explicit_value:
            raise InterpreterNotFoundError(
                f"LocalStack interpreter {executable!r} (from {ENV_VAR} or settings) is not a working Python >= 3.12;"
                f" point {ENV_VAR} at one, e.g. `pyenv install 3.13`"
            )
    raise InterpreterNotFoundError(
        f"no Python >= 3.12 for LocalStack (tried {ENV_VAR}, python3.13/python3.12 on PATH,"
        " ~/.pyenv/versions/3.1[23]*);"
        f" install one (`pyenv install 3.13` or your OS package) or set {ENV_VAR}=/path/to/python3.13"
    )
