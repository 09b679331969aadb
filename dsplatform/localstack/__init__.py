"""Host-mode LocalStack for dsplatform: launcher, status, logs and the fidelity report.

Usage: ``inst = start(LocalStackSettings(host="127.0.0.1", port=4566))`` then ``stop(settings)``.
"""

from __future__ import annotations

from dsplatform.localstack.errors import InterpreterNotFoundError, LocalStackError
from dsplatform.localstack.launcher import (
    Instance,
    Status,
    health,
    image_state,
    log_tail,
    start,
    status,
    stop,
    wait_for_images,
)
from dsplatform.localstack.settings import LocalStackSettings, cache_dir

__all__ = [
    "Instance",
    "InterpreterNotFoundError",
    "LocalStackError",
    "LocalStackSettings",
    "Status",
    "cache_dir",
    "health",
    "image_state",
    "log_tail",
    "start",
    "status",
    "stop",
    "wait_for_images",
]
