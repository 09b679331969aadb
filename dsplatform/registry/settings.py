"""Where the local MLflow tracking server listens and where its venv, database, PID file and log live."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dsplatform.localstack.settings import cache_dir
from dsplatform.registry.errors import RegistryUsageError

# Pinned: the server's REST API and database migrations are version-specific.
MLFLOW_VERSION = "3.17.2"
# Beside mlflow: boto3 for the S3 artifact store; the scientific pins equal the serving image's
# (containers/serving/requirements.txt), because the sample model is trained and pickled in this venv.
SERVER_REQUIREMENTS = (f"mlflow=={MLFLOW_VERSION}", "boto3", "scikit-learn==1.9.1", "pandas==3.1.1", "numpy==2.4.6")
URL_ENV = "DSPLATFORM_REGISTRY_URL"
DEFAULT_URL = "http://127.0.0.1:5000"


def local_url() -> str:
    """The local registry's URL: $DSPLATFORM_REGISTRY_URL or http://127.0.0.1:5000."""
    return os.environ.get(URL_ENV) or DEFAULT_URL


def host_port(url: str) -> tuple[str, int]:
    """(host, port) of a local http:// URL; a RegistryUsageError names the bad value otherwise."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname or not parts.port or parts.path not in ("", "/"):
        raise RegistryUsageError(f"{URL_ENV} {url!r} is not a local server URL; use http://127.0.0.1:5000")
    if not parts.hostname.startswith("127.") and parts.hostname != "localhost":
        raise RegistryUsageError(f"{URL_ENV} {url!r} is not a loopback address; the local registry listens on "
                                 f"127.0.0.1 only (use settings.model_registry.uri for a remote one)")
    return parts.hostname, parts.port


@dataclass(frozen=True)
class RegistrySettings:
    """How to start one local MLflow server; servers on different ports coexist, each with its own database."""

    artifacts_destination: str  # s3://bucket/prefix the server proxies artifacts to (or a local folder in tests)
    host: str = "127.0.0.1"
    port: int = 5000
    s3_endpoint_url: str | None = None  # LocalStack's gateway when the bucket lives there
    account_id: str = "000000000000"  # LocalStack reads the access key id as the account
    region: str = "us-east-1"
    python: str | None = None  # interpreter for the server venv; else $DSPLATFORM_REGISTRY_PYTHON, else this one
    cache: Path | None = None
    startup_timeout: float = 90.0
    stop_timeout: float = 15.0
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The tracking URI clients use."""
        return f"http://{self.host}:{self.port}"

    @property
    def cache_root(self) -> Path:
        """The cache folder shared with LocalStack's venv."""
        return self.cache if self.cache is not None else cache_dir()

    @property
    def state_dir(self) -> Path:
        """Per-port folder: PID file, log and the sqlite backend store."""
        return self.cache_root / "registry" / f"port-{self.port}"

    @property
    def pid_file(self) -> Path:
        """JSON recording the PID, venv and artifacts destination of the server on this port."""
        return self.state_dir / "instance.json"

    @property
    def log_path(self) -> Path:
        """The server's combined stdout/stderr."""
        return self.state_dir / "mlflow.log"

    @property
    def backend_store_uri(self) -> str:
        """sqlite database of runs, registered models and versions (kept across restarts)."""
        return f"sqlite:///{self.state_dir / 'mlflow.db'}"
