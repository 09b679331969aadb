"""The model registry: a local MLflow tracking server (own venv, sqlite store, S3 artifacts) and its client side.

Usage: ``server = start(RegistrySettings(artifacts_destination="s3://bucket/mlflow", port=5000))``, then
``stop(settings)``; ``registry_uri(env)`` says which registry an environment uses.
"""

from __future__ import annotations

from dsplatform.registry.environment import local_settings, registry_uri
from dsplatform.registry.errors import RegistryError, RegistryUsageError
from dsplatform.registry.server import Server, Status, healthy, start, status, stop
from dsplatform.registry.settings import MLFLOW_VERSION, RegistrySettings, local_url

__all__ = [
    "MLFLOW_VERSION",
    "RegistryError",
    "RegistrySettings",
    "RegistryUsageError",
    "Server",
    "Status",
    "healthy",
    "local_settings",
    "local_url",
    "registry_uri",
    "start",
    "status",
    "stop",
]
