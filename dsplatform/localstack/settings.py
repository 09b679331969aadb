"""Where a LocalStack instance listens, which project owns it, and where its state (venv, PID file, log) is kept."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4566
DEFAULT_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
LOCALSTACK_URL_ENV = "DSPLATFORM_LOCALSTACK_URL"  # overrides the config's localstack.endpoint_url
LOCALSTACK_VERSION = "2026.3.0"


def cache_dir() -> Path:
    """Folder outside git for LocalStack's venv and per-port state: $DSPLATFORM_CACHE_DIR or ~/.cache/dsplatform."""
    configured = os.environ.get("DSPLATFORM_CACHE_DIR")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "dsplatform"


@dataclass(frozen=True)
class LocalStackSettings:
    """How to start one LocalStack instance; instances on different ports coexist.

    ``project_root`` is the folder of the project's ``dsplatform.yml``: the instance records it, and a start,
    stop or status from another project root is refused. ``image_sources`` maps ECR repository names to the
    local folders (with a Dockerfile) that play them; start() registers it (see ``register_image_sources``).
    """

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    project_root: Path = field(default_factory=Path.cwd)
    image_sources: Mapping[str, Path] = field(default_factory=dict)
    python: str | None = None  # interpreter for LocalStack's venv; else DSPLATFORM_LOCALSTACK_PYTHON, PATH, pyenv
    cache: Path | None = None  # defaults to cache_dir()
    startup_timeout: float = 120.0  # seconds to wait for health
    stop_timeout: float = 15.0  # seconds between SIGTERM and SIGKILL
    wait_for_images: bool = False  # also wait until the registered images' venvs are built (pip can take minutes)
    image_timeout: float = 900.0  # seconds to wait for that
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def for_plan(cls, plan: Any, **kwargs: Any) -> LocalStackSettings:
        """Settings for the instance a plan deploys to: its endpoint's host/port, its project root, its job images.

        ``plan`` is a ``dsplatform.stackspec.Plan`` (duck-typed: ``target.endpoint_url``, ``project_root``,
        ``images`` with ``repository``/``source``); DSPLATFORM_LOCALSTACK_URL fills in a missing endpoint.
        """
        from dsplatform.localstack.imagesources import plan_image_sources  # it builds on this module

        url = urlparse(plan.target.endpoint_url or os.environ.get(LOCALSTACK_URL_ENV) or DEFAULT_URL)
        return cls(host=url.hostname or DEFAULT_HOST, port=url.port or DEFAULT_PORT, project_root=plan.project_root,
                   image_sources=plan_image_sources(plan), **kwargs)

    def __post_init__(self) -> None:
        # One spelling of the root, so that ownership compares equal however the caller wrote the path.
        object.__setattr__(self, "project_root", Path(self.project_root).expanduser().resolve())

    @property
    def endpoint_url(self) -> str:
        """The gateway URL clients use."""
        return f"http://{self.host}:{self.port}"

    @property
    def cache_root(self) -> Path:
        """The cache folder (venvs, image venvs, per-port state)."""
        return self.cache if self.cache is not None else cache_dir()

    @property
    def state_dir(self) -> Path:
        """Per-port folder with the PID file and the log."""
        return self.cache_root / "localstack" / f"port-{self.port}"

    @property
    def pid_file(self) -> Path:
        """JSON file recording the PID (and venv, start time) of the instance on this port."""
        return self.state_dir / "instance.json"

    @property
    def images_file(self) -> Path:
        """JSON the extension writes while it builds the local images' venvs."""
        return self.state_dir / "images.json"

    @property
    def log_path(self) -> Path:
        """LocalStack's combined stdout/stderr for this port."""
        return self.state_dir / "localstack.log"

    @property
    def sources_file(self) -> Path:
        """JSON map repository -> source folder that the extension reads when it resolves an image."""
        return self.state_dir / "image-sources.json"
