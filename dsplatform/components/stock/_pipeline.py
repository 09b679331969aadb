"""What the stock batch-pipeline components share: the job they run and cross-environment artifact reads."""

from __future__ import annotations

from dsplatform.components.model import Context

JOB = "preprocessing"  # the stock batch job; its image source is containers/preprocessing under the project root


def foreign_artifact_bucket(ctx: Context) -> str | None:
    """Another environment's artifact bucket this one reads (``parameters.artifacts_from``), else None."""
    source = ctx.env.settings.parameters.artifacts_from
    return ctx.names_of(source).artifact_bucket if source else None
