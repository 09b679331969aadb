"""Which local folders play which image repositories: `containers/<folder>/Dockerfile` is repository `ds-<folder>`."""

from __future__ import annotations

from pathlib import Path

IMAGE_PREFIX = "ds-"


def image_sources(containers_dir: Path) -> dict[str, Path]:
    """Repository name -> absolute folder, for every `containers/*/Dockerfile` (sorted, deterministic)."""
    if not containers_dir.is_dir():
        return {}
    return {
        f"{IMAGE_PREFIX}{dockerfile.parent.name}": dockerfile.parent.resolve()
        for dockerfile in sorted(containers_dir.glob("*/Dockerfile"))
    }
