"""Component ``api``: the real-time API on ECS behind an ALB (opt in: ``components.plugins: [api]``).

Not a stock component, so an environment deploys it only when its project asks for it. Its image source
(``containers/api``) ships with dsplatform (a project's own ``containers/api`` overrides it); it serves the
stock job's model, read from the job's SSM prefix, and requires that model before it is first created.
"""

from __future__ import annotations

from blueprints import api
from dsplatform.components.model import Component, Context, Image
from dsplatform.components.stock._pipeline import JOB, foreign_artifact_bucket
from dsplatform.stackspec import Requirement

NAME = "api"


def props(ctx: Context) -> api.ApiProps:
    """Api props from ``settings.api`` (and the job's prefix, model key, logs and storage settings)."""
    s = ctx.env.settings
    foreign = foreign_artifact_bucket(ctx)
    return api.ApiProps(
        name=f"{ctx.names.project}-{ctx.env.name}-{NAME}", repository_name=ctx.names.repository(NAME),
        task_family=ctx.names.task_family(NAME), container_name=ctx.names.container(NAME),
        log_group_name=ctx.names.log_group(NAME), ssm_prefix=ctx.names.ssm_prefix(JOB),
        model_key=s.parameters.model_key, alarm_prefix=ctx.names.alarm(NAME, "api").rsplit("-", 1)[0],
        image_tag=s.api.image_tag, container_port=s.api.container_port, cpu=s.api.cpu, memory=s.api.memory,
        desired_count=s.api.desired_count, min_capacity=s.api.min_capacity, max_capacity=s.api.max_capacity,
        cpu_target_percent=s.api.cpu_target_percent, requests_per_target=s.api.requests_per_target,
        health_check_grace_seconds=s.api.health_check_grace_seconds,
        health_check_interval_seconds=s.api.health_check_interval_seconds,
        deregistration_delay_seconds=s.api.deregistration_delay_seconds, internet_facing=s.api.internet_facing,
        allowed_cidrs=s.api.allowed_cidrs, certificate_arn=s.api.certificate_arn,
        max_body_bytes=s.api.max_body_bytes, log_retention_days=s.logs.retention_days,
        kms=s.storage.encryption == "kms", artifact_bucket_arn=f"arn:aws:s3:::{foreign}" if foreign else None,
        error_5xx_threshold=s.api.error_5xx_threshold, p99_latency_seconds=s.api.p99_latency_seconds)


def image_tag(ctx: Context) -> str:
    """The tag the task definition names (``settings.api.image_tag``)."""
    return ctx.env.settings.api.image_tag


def requires(ctx: Context) -> tuple[Requirement, ...]:
    """The job's model: the tasks load it at start and never get ready without it."""
    env, source = ctx.env.name, ctx.env.settings.parameters.artifacts_from
    bucket = foreign_artifact_bucket(ctx) or ctx.names.artifact_bucket
    if source:
        fix = f"train it in the environment that owns that bucket (`invoke model.train --env {source}`)"
    else:
        fix = (f"deploy its storage and parameters first (`invoke deploy --env {env} --stacks parameters`) and "
               f"train it (`invoke model.train --env {env}`)")
    return (Requirement("the job's preprocessing model", bucket,
                        ctx.env.settings.parameters.model_key, fix, provide="dsplatform.jobdata:provide_model"),)


COMPONENT = Component(NAME, api.build, props, api.ApiOutputs, ("network", "storage", "compute", "parameters", "alerts"),
                      images=(Image(NAME, tag=image_tag, bundled=True),), scenarios="harness.scenarios_api",
                      source="dsplatform.components.api:COMPONENT", requires=requires)
