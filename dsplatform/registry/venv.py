"""The MLflow server's own venv in the cache folder, built once per pinned requirement set and interpreter."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import sys
from pathlib import Path

from dsplatform.procs import run_logged
from dsplatform.registry.errors import RegistryError
from dsplatform.registry.settings import SERVER_REQUIREMENTS, RegistrySettings

PYTHON_ENV = "DSPLATFORM_REGISTRY_PYTHON"


def interpreter(settings: RegistrySettings) -> str:
    """The interpreter the venv is built from: the setting, $DSPLATFORM_REGISTRY_PYTHON, else this Python."""
    return settings.python or os.environ.get(PYTHON_ENV) or sys.executable


def venv_dir(settings: RegistrySettings) -> Path:
    """Where the server venv for these pins and this interpreter lives (shared by every port)."""
    python = interpreter(settings)
    digest = hashlib.sha256("\0".join((*SERVER_REQUIREMENTS, os.path.realpath(python))).encode()).hexdigest()[:16]
    return settings.cache_root / "registry" / f"venv-{digest}"


def _run(argv: list[str], log: Path, what: str) -> None:
    run_logged(argv, log, what, RegistryError)

def ensure_venv(settings: RegistrySettings) -> Path:
    """Return the server venv, installing mlflow into it first if needed (about a minute, once).

    The venv is built beside its final folder and renamed when complete, so a killed install never looks ready;
    a file lock serialises concurrent callers.
    """
    target = venv_dir(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f"{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / ".ready").exists():
            return target
        building = target.parent / f"{target.name}.building"
        shutil.rmtree(building, ignore_errors=True)
        log_path = target.parent / f"{target.name}.install.log"
        log_path.write_text("")
        python = interpreter(settings)
        _run([python, "-m", "venv", str(building)], log_path, "creating the registry venv")
        _run([str(building / "bin" / "python"), "-m", "pip", "install", "-q", *SERVER_REQUIREMENTS], log_path,
             f"installing {' '.join(SERVER_REQUIREMENTS)}")
        shutil.rmtree(target, ignore_errors=True)
        building.rename(target)
        (target / ".ready").write_text(python)
    return target
