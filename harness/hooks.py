"""Hook specifications the dsplatform plugin adds, for repos that build on it."""

from __future__ import annotations

from typing import Any


def pytest_ds_after_deploy(plan: Any, clients: Any, platform: Any) -> None:
    """Called once after the plugin itself deployed the environment (not with --ds-reuse).

    Use it for what a deploy alone does not do, e.g. pushing the job's image to the deployed
    repository. ``plan`` is a dsplatform Plan, ``clients`` a ClientFactory, ``platform`` a
    harness.platform.Platform.
    """
