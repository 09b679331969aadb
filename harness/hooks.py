"""Hook specifications the dsplatform plugin adds, for repos that build on it."""

from __future__ import annotations

from typing import Any


def pytest_ds_after_deploy(plan: Any, clients: Any, deployed: Any) -> None:
    """Called once after the plugin itself deployed the environment and pushed its images (not with --ds-reuse).

    Use it for what a deploy alone does not do, e.g. seeding reference data. ``plan`` is a dsplatform Plan,
    ``clients`` a ClientFactory, ``deployed`` the typed outputs of every component (``dsplatform.deployer.Deployed``).
    """
