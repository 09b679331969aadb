"""The LocalStack extension and its pins, shipped inside the dsplatform distribution and copied to the cache.

In a wheel they are package data of ``dsplatform._bundled_localstack`` (pyproject maps that name to the
top-level ``localstack/`` folder), read with ``importlib.resources``. An editable install cannot serve that
mapped folder as a package (setuptools' editable finder needs an ``__init__.py``, and ``localstack/`` must not
have one: it would shadow the real ``localstack`` package), so there the checkout recorded by pip (PEP 610
``direct_url.json``) is read instead. Either way pip gets a real folder: a copy in the cache, named by its digest.
"""

from __future__ import annotations

import os
import shutil
from importlib.abc import Traversable
from pathlib import Path

from dsplatform.bundles import bundled_folder
from dsplatform.hashing import IGNORED_DIRS, IGNORED_SUFFIXES, folder_sha256
from dsplatform.localstack.errors import LocalStackError

PACKAGE = "dsplatform._bundled_localstack"
CONSTRAINTS = "constraints.txt"
EXTENSION = "extension"


def bundle_root() -> Traversable:
    """The bundled ``localstack/`` folder (constraints.txt, extension/) of this dsplatform install."""
    root = bundled_folder(PACKAGE, "localstack")
    if root is not None and (root / CONSTRAINTS).is_file():
        return root
    raise LocalStackError(
        f"this dsplatform install has no LocalStack extension ({PACKAGE} is missing and no editable checkout is"
        f" recorded); reinstall it: `pip install --force-reinstall dsplatform` or `pip install -e .` in a checkout"
    )


def _copy_tree(source: Traversable, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if entry.is_dir():
            if entry.name not in IGNORED_DIRS and not entry.name.endswith(".egg-info"):
                _copy_tree(entry, target / entry.name)
        elif not entry.name.endswith(IGNORED_SUFFIXES):
            (target / entry.name).write_bytes(entry.read_bytes())


def materialize(cache_root: Path) -> Path:
    """A real folder in the cache with ``constraints.txt`` and ``extension/``; named by its digest, made once."""
    root = bundle_root()
    parent = cache_root / "localstack"
    parent.mkdir(parents=True, exist_ok=True)
    staging = parent / f"bundle.staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    (staging / CONSTRAINTS).write_bytes((root / CONSTRAINTS).read_bytes())
    _copy_tree(root / EXTENSION, staging / EXTENSION)
    target = parent / f"bundle-{folder_sha256(staging)[:16]}"
    if (target / CONSTRAINTS).is_file():
        shutil.rmtree(staging, ignore_errors=True)
        return target
    try:
        staging.rename(target)  # atomic: a concurrent launcher sees the whole copy or none
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)  # another launcher made the same copy first
    return target
