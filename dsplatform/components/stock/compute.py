"""Stock component ``compute``: the ECS cluster and the Fargate task definition of the stock job."""

from __future__ import annotations

from blueprints import compute
from dsplatform.components.model import Component, Context, Image
from dsplatform.components.stock._pipeline import JOB, foreign_artifact_bucket


def props(ctx: Context) -> compute.ComputeProps:
    """Compute props from ``settings.compute``, ``settings.logs`` and ``settings.storage``."""
    s = ctx.env.settings
    foreign = foreign_artifact_bucket(ctx)
    return compute.ComputeProps(
        cluster_name=ctx.names.cluster, task_family=ctx.names.task_family(JOB), container_name=ctx.names.container(JOB),
        log_group_name=ctx.names.log_group(JOB), ssm_prefix=ctx.names.ssm_prefix(JOB), cpu=s.compute.cpu,
        memory=s.compute.memory, image_tag=s.compute.image_tag, log_retention_days=s.logs.retention_days,
        kms=s.storage.encryption == "kms", artifact_bucket_arn=f"arn:aws:s3:::{foreign}" if foreign else None,
        task_role_name=ctx.names.task_role(JOB))


def image_tag(ctx: Context) -> str:
    """The tag the task definition names (``settings.compute.image_tag``)."""
    return ctx.env.settings.compute.image_tag


COMPONENT = Component("compute", compute.build, props, compute.ComputeOutputs, ("storage", "registry", "parameters"),
                      images=(Image(JOB, tag=image_tag, bundled=True),))
