"""Host-mode LocalStack for dsplatform: launcher, image sources, status, logs and the fidelity report.

Usage::

    settings = LocalStackSettings(host="127.0.0.1", port=4566, project_root=plan.project_root,
                                  image_sources=plan_image_sources(plan))  # {"ml-preprocessing": Path(...)}
    inst = start(settings)                        # or reuse; registers the image sources
    register_image_sources(settings, {...})       # later: more images on the running instance
    stop(settings)
"""

from __future__ import annotations

from dsplatform.localstack.errors import (
    ForeignInstanceError,
    ImageSourceMapError,
    InterpreterNotFoundError,
    LocalStackError,
)
from dsplatform.localstack.imagesources import (
    containers_image_sources,
    plan_image_sources,
    register_image_sources,
    registered_image_sources,
)
from dsplatform.localstack.launcher import (
    Instance,
    Status,
    health,
    image_state,
    log_tail,
    register_own_images,
    start,
    status,
    stop,
    wait_for_images,
)
from dsplatform.localstack.settings import LocalStackSettings, cache_dir

__all__ = [
    "ForeignInstanceError",
    "ImageSourceMapError",
    "Instance",
    "InterpreterNotFoundError",
    "LocalStackError",
    "LocalStackSettings",
    "Status",
    "cache_dir",
    "containers_image_sources",
    "health",
    "image_state",
    "log_tail",
    "plan_image_sources",
    "register_image_sources",
    "register_own_images",
    "registered_image_sources",
    "start",
    "status",
    "stop",
    "wait_for_images",
]
