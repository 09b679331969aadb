"""Errors of the model registry (subclasses of the one dsplatform root)."""

from __future__ import annotations

from dsplatform.errors import DsPlatformError


class RegistryError(DsPlatformError):
    """The MLflow server could not be installed, started, reached or stopped, or answered an error."""

    exit_code = 3


class RegistryUsageError(RegistryError):
    """A bad setting or argument for the registry (a URI, a port, a model name, a version)."""

    exit_code = 2
