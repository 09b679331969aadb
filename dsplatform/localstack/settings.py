"""Where a LocalStack instance listens and where its state (venv, PID file, log) is kept."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4566
LOCALSTACK_VERSION = "2026.3.0"
# The repo root is two levels above this package (dsplatform/localstack/ -> repo).
_PACKAGE_REPO_ROOT = Path(__file__).resolve().parents[2]


def cache_dir() -> Path:
    """Folder outside git for LocalStack's venv and per-port state: $DSPLATFORM_CACHE_DIR or ~/.cache/dsplatform."""
    configured = os.environ.get("DSPLATFORM_CACHE_DIR")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "dsplatform"


@dataclass(frozen=True)
class LocalStackSettings:
    """How to start one LocalStack instance; instances on different ports coexist."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    python: str | None = None  # interpreter for LocalStack's venv; else DSPLATFORM_LOCALSTACK_PYTHON, PATH, pyenv
    repo_root: Path = _PACKAGE_REPO_ROOT  # holds localstack/ (pins + extension) and containers/
    cache: Path | None = None  # defaults to cache_dir()
    startup_timeout: float = 120.0  # seconds to wait for health
    stop_timeout: float = 15.0  # seconds between SIGTERM and SIGKILL
    wait_for_images: bool = False  # also wait until containers/* image venvs are built (pip can take minutes)
    image_timeout: float = 900.0  # seconds to wait for that
    extra_env: dict[str, str] = field(default_factory=dict)

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
    def constraints_path(self) -> Path:
        """The project's copy of the pins that make LocalStack install cleanly."""
        return self.repo_root / "localstack" / "constraints.txt"

    @property
    def extension_path(self) -> Path:
        """The project's LocalStack extension package (ECS/ECR, CloudFormation providers)."""
        return self.repo_root / "localstack" / "extension"

    @property
    def containers_path(self) -> Path:
        """Folder whose subfolders hold the local images' source."""
        return self.repo_root / "containers"
