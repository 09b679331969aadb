"""Errors raised by the LocalStack launcher (subclasses of the one dsplatform root)."""

from __future__ import annotations

from dsplatform.errors import DsPlatformError


class LocalStackError(DsPlatformError):
    """LocalStack could not be found, installed, started, reached or stopped."""

    exit_code = 3


class InterpreterNotFoundError(LocalStackError):
    """No Python >= 3.12 was found to run LocalStack."""

    exit_code = 2


class ImageSourceMapError(LocalStackError):
    """An image source map names an invalid repository or a folder without a Dockerfile."""

    exit_code = 2


class ForeignInstanceError(LocalStackError):
    """The instance on this port was started for another project root; acting on it is refused."""

    exit_code = 2

    def __init__(self, port: int, owner: str, pid: int | None, project_root: str) -> None:
        self.port, self.owner, self.pid, self.project_root = port, owner, pid, project_root
        super().__init__(
            f"LocalStack on port {port} (PID {pid or 'unknown'}) belongs to project {owner}, not {project_root};"
            f" act on it from {owner}, or give this project its own port (localstack.endpoint_url in its"
            f" dsplatform.yml, or --port)"
        )
