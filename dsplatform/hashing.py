"""Content hashes the project records and compares: canonical JSON, and a folder's source files."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

# Folders that hold build or tool output, not source.
IGNORED_DIRS = frozenset({
    "__pycache__", ".venv", "venv", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".git", "build", "dist", ".tox",
    "node_modules",
})
IGNORED_SUFFIXES = (".pyc", ".pyo")


def sha256_json(value: Any) -> str:
    """SHA-256 hex of canonical JSON (sorted keys, no whitespace)."""
    raw = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def source_files(root: Path) -> list[Path]:
    """A folder's source files in a stable order (caches, venvs, build output and egg-info left out).

    Symlinked folders are followed, as a Docker build copies what they point at (the api image links the
    job's package in): their files count under the link's path. A link back into a folder already walked
    is not followed again.
    """
    files = []
    seen: set[str] = set()
    for folder, dirs, names in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = sorted(d for d in dirs if d not in IGNORED_DIRS and not d.endswith(".egg-info"))
        for name in names:
            path = Path(folder) / name
            if path.is_file() and not name.endswith(IGNORED_SUFFIXES) and not name.endswith(".egg-info"):
                files.append(path)
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def files_sha256(root: Path, files: list[Path]) -> str:
    """SHA-256 hex over the files' relative paths and bytes, each length-prefixed."""
    digest = hashlib.sha256()
    for path in files:
        relative = path.relative_to(root).as_posix().encode()
        content = path.read_bytes()
        # Length-prefixed so that moving bytes between a name and its content changes the digest.
        digest.update(len(relative).to_bytes(8, "big") + relative + len(content).to_bytes(8, "big") + content)
    return digest.hexdigest()


def folder_sha256(root: Path) -> str:
    """SHA-256 hex of a folder's source files (``source_files``)."""
    return files_sha256(root, source_files(root))
