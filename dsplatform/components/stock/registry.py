"""Stock component ``registry``: the ECR repository of the stock job's image."""

from __future__ import annotations

from blueprints import registry
from dsplatform.components.model import Component, Context
from dsplatform.components.stock._pipeline import JOB


def repository_props(ctx: Context, job: str) -> registry.RegistryProps:
    """The ECR repository of ``job``'s image from ``settings.registry`` (tags IMMUTABLE where protected)."""
    s = ctx.env.settings.registry
    # A protected environment's tags cannot be moved unless its config says so (prod runs what was promoted).
    mutability = s.tag_mutability or ("IMMUTABLE" if ctx.env.protected else "MUTABLE")
    return registry.RegistryProps(repository_name=ctx.names.repository(job), tag_mutability=mutability,
                                  scan_on_push=s.scan_on_push, max_images=s.max_images)


def props(ctx: Context) -> registry.RegistryProps:
    """Registry props of the stock job's repository (``settings.registry``)."""
    return repository_props(ctx, JOB)


COMPONENT = Component("registry", registry.build, props, registry.RegistryOutputs)
