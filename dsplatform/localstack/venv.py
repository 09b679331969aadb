"""LocalStack's own venv in the cache folder: built once per pin file, extension reinstalled when its source changes.

The pins and the extension come from the dsplatform distribution itself (``bundle.py``), never from the
project's folder: a consumer's repo has neither.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
from pathlib import Path

from dsplatform.hashing import folder_sha256
from dsplatform.localstack.bundle import CONSTRAINTS, EXTENSION, bundle_root, materialize
from dsplatform.localstack.errors import LocalStackError
from dsplatform.localstack.interpreter import find_python
from dsplatform.localstack.settings import LOCALSTACK_VERSION, LocalStackSettings
from dsplatform.procs import run_logged


def venv_key(settings: LocalStackSettings) -> str:
    """Key of the base venv: the pin file and the LocalStack version (the extension has its own stamp)."""
    digest = hashlib.sha256((bundle_root() / CONSTRAINTS).read_bytes() + LOCALSTACK_VERSION.encode())
    return digest.hexdigest()[:16]


def venv_dir(settings: LocalStackSettings) -> Path:
    """Where LocalStack's venv for these pins lives."""
    return settings.cache_root / "localstack" / f"venv-{venv_key(settings)}"


def _run(argv: list[str], log: Path, what: str) -> None:
    run_logged(argv, log, what, LocalStackError)

def ensure_venv(settings: LocalStackSettings) -> Path:
    """Return LocalStack's venv, creating it (pinned install, ~1 min) and (re)installing the extension as needed.

    Several launchers (other ports, other engineers) may call this at once: a file lock serialises them.
    """
    venv = venv_dir(settings)
    venv.parent.mkdir(parents=True, exist_ok=True)
    python = venv / "bin" / "python"
    bundle = materialize(settings.cache_root)  # pip needs real files; the wheel's may live in a zip
    extension_stamp = folder_sha256(bundle / EXTENSION)
    with open(venv.parent / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        log_path = venv.parent / f"{venv.name}.install.log"
        if not (venv / ".base-ready").exists():
            shutil.rmtree(venv, ignore_errors=True)
            log_path.write_text("")
            interpreter = find_python(settings.python)
            _run([interpreter, "-m", "venv", str(venv)], log_path, "creating LocalStack's venv")
            _run(
                [
                    str(python),
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "-c",
                    str(bundle / CONSTRAINTS),
                    f"localstack-core[runtime]=={LOCALSTACK_VERSION}",
                    "service_identity",
                ],
                log_path,
                "installing LocalStack",
            )
            (venv / ".base-ready").write_text(interpreter)
        stamp_file = venv / ".extension-stamp"
        if not stamp_file.exists() or stamp_file.read_text() != extension_stamp:
            # A non-editable install: a copy keyed by the stamp, so a running instance isn't changed under it.
            _run(
                [
                    str(python),
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--no-deps",
                    "--force-reinstall",
                    "--no-build-isolation",
                    str(bundle / EXTENSION),
                ],
                log_path,
                "installing the dsplatform LocalStack extension",
            )
            _clean_build_dirs(bundle / EXTENSION)
            stamp_file.write_text(extension_stamp)
    return venv


def _clean_build_dirs(extension: Path) -> None:
    # setuptools leaves build/ and *.egg-info in the source folder; the cached copy stays as it was made.
    shutil.rmtree(extension / "build", ignore_errors=True)
    for egg in extension.glob("*.egg-info"):
        shutil.rmtree(egg, ignore_errors=True)
