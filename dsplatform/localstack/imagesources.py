"""Which local folders play which image repositories on a LocalStack instance.

The caller names the repositories (from its plan's jobs); nothing here assumes a prefix. The map lives in a
JSON file in the instance's state folder, read by the extension each time it resolves an image, so an
instance that is reused by a later call (another environment, another job) learns new folders at once.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from dsplatform.localstack.errors import ImageSourceMapError
from dsplatform.localstack.settings import LocalStackSettings

# ECR's repository name rule (lowercase segments separated by . _ - and /).
_REPOSITORY_RE = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")


def _checked(sources: Mapping[str, Path | str]) -> dict[str, str]:
    checked: dict[str, str] = {}
    for repository, folder in sources.items():
        if not isinstance(repository, str) or not _REPOSITORY_RE.fullmatch(repository) or len(repository) > 256:
            raise ImageSourceMapError(
                f"image sources: repository name {repository!r} is not a valid ECR repository name;"
                " use lowercase letters, digits and . _ - / separators, e.g. 'ml-preprocessing'"
            )
        path = Path(folder).expanduser().resolve()
        if not (path / "Dockerfile").is_file():
            raise ImageSourceMapError(
                f"image sources: {repository!r} -> {str(folder)!r} is not a folder with a Dockerfile;"
                " point it at the job's source folder (e.g. containers/<job>/)"
            )
        checked[repository] = str(path)
    return checked


def registered_image_sources(settings: LocalStackSettings) -> dict[str, Path]:
    """Repository -> folder as registered for this port's instance (empty if none)."""
    try:
        raw = json.loads(settings.sources_file.read_text())
    except (OSError, ValueError):
        return {}
    return {str(name): Path(folder) for name, folder in raw.items()} if isinstance(raw, dict) else {}


def register_image_sources(
    settings: LocalStackSettings, sources: Mapping[str, Path | str], *, replace: bool = False
) -> dict[str, Path]:
    """Merge ``{repository: folder}`` into the instance's map (``replace``: start a new map); return the whole map.

    Every folder must hold a Dockerfile and every name be a valid ECR repository name; otherwise nothing is
    written (ImageSourceMapError, exit 2). A name registered again points at its newest folder. A running
    instance reads the file at each image resolution and builds the new images' venvs in the background.
    """
    checked = _checked(sources)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.state_dir / "image-sources.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two callers merging at once must not lose each other's entries
        current = {} if replace else {k: str(v) for k, v in registered_image_sources(settings).items()}
        merged = dict(sorted({**current, **checked}.items()))
        tmp = settings.sources_file.with_name(f"{settings.sources_file.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(merged, indent=2) + "\n")
        tmp.replace(settings.sources_file)  # the extension never reads a half-written map
    return {name: Path(folder) for name, folder in merged.items()}


def containers_image_sources(
    containers_dir: Path, repository_names: Callable[[str], Iterable[str]]
) -> dict[str, Path]:
    """Map every ``<containers_dir>/<job>/Dockerfile`` folder to the repository names the caller gives for ``job``."""
    if not containers_dir.is_dir():
        return {}
    sources: dict[str, Path] = {}
    for dockerfile in sorted(containers_dir.glob("*/Dockerfile")):
        for name in repository_names(dockerfile.parent.name):
            sources[name] = dockerfile.parent.resolve()
    return sources


def plan_image_sources(*plans: Any) -> dict[str, Path]:
    """Repository -> source folder of every job image of the given plans (``plan.images``: repository, source)."""
    return {image.repository: Path(image.source) for plan in plans for image in plan.images}
