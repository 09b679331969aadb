"""Job errors: each class maps to one process exit code of the job contract."""

from __future__ import annotations


class JobError(Exception):
    """Root of every failure the job reports on purpose; its message is one line a user can act on.

    The container image ships without dsplatform, so this mirrors ``DsPlatformError`` (message + exit_code)
    instead of subclassing it.
    """

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigurationError(JobError):
    """A parameter or environment variable is missing or invalid (exit 2)."""

    exit_code = 2


class InputError(JobError):
    """The input object is missing, unreadable or lacks required columns (exit 3)."""

    exit_code = 3


class ModelError(JobError):
    """The model is missing, fails its checksum, or cannot be loaded or applied (exit 4)."""

    exit_code = 4


class ExtensionError(JobError):
    """The optional script or package is missing, fails its checksum, or fails to run (exit 5)."""

    exit_code = 5
