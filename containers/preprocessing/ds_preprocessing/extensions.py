"""Optional extensions from the artifact bucket: a package installed first, a script whose transform() runs last."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ds_preprocessing import artifacts
from ds_preprocessing.errors import ExtensionError

_HINT = "upload it with ds_preprocessing.artifacts.upload_artifact so its sha256 is recorded"
_PACKAGE_SUFFIXES = (".whl", ".tar.gz", ".zip")


@dataclass(frozen=True)
class ExtensionInfo:
    """What the manifest records about an applied extension."""

    key: str
    sha256: str


def install_package(s3_client: Any, bucket: str, key: str, workdir: Path) -> ExtensionInfo:
    """Download, verify and pip-install a package into ``workdir``, then make it importable.

    ``--no-deps``: the image has no guaranteed network route to an index, so a package's dependencies must
    already be in the image; ``--no-build-isolation`` for the same reason when the package is an sdist.
    """
    name = Path(key).name
    if not name.endswith(_PACKAGE_SUFFIXES):
        raise ExtensionError(f"package-key {key!r} is not a .whl, .tar.gz or .zip file; pip cannot install it")
    obj = artifacts.download_verified(s3_client, bucket, key, "package", ExtensionError, _HINT)
    archive = workdir / name
    archive.write_bytes(obj.data)
    target = workdir / "site-packages"
    command = [
        sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-input",
        "--disable-pip-version-check", "--no-cache-dir", "--target", str(target), str(archive),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise ExtensionError(f"package s3://{bucket}/{key} failed to install (pip exit {result.returncode}): {last}")
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    return ExtensionInfo(key=key, sha256=obj.sha256)


def load_script(
    s3_client: Any, bucket: str, key: str, workdir: Path
) -> tuple[Callable[[pd.DataFrame], Any], ExtensionInfo]:
    """Download, verify and import a script; return its ``transform(frame)`` function."""
    if not key.endswith(".py"):
        raise ExtensionError(f"script-key {key!r} is not a .py file")
    obj = artifacts.download_verified(s3_client, bucket, key, "script", ExtensionError, _HINT)
    path = workdir / "ds_custom_script.py"
    path.write_bytes(obj.data)
    spec = importlib.util.spec_from_file_location("ds_custom_script", path)
    if spec is None or spec.loader is None:
        raise ExtensionError(f"script s3://{bucket}/{key} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise ExtensionError(f"script s3://{bucket}/{key} failed to import: {_describe(exc)}") from exc
    transform = getattr(module, "transform", None)
    if not callable(transform):
        raise ExtensionError(f"script s3://{bucket}/{key} defines no transform(frame) function")
    return transform, ExtensionInfo(key=key, sha256=obj.sha256)


def apply_script(transform: Callable[[pd.DataFrame], Any], frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """Run the script's transform on one chunk; anything but a DataFrame back is an ExtensionError."""
    try:
        result = transform(frame)
    except Exception as exc:
        raise ExtensionError(f"script {key} transform() raised {_describe(exc)}") from exc
    if not isinstance(result, pd.DataFrame):
        raise ExtensionError(f"script {key} transform() returned {type(result).__name__}, expected a pandas DataFrame")
    return result


def make_workdir() -> Path:
    """Return a fresh private directory for downloaded extensions (the image's /tmp is writable by the job user)."""
    return Path(tempfile.mkdtemp(prefix="ds-ext-", dir=os.environ.get("TMPDIR")))


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:300]
