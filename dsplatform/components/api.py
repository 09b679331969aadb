"""Component ``api``: the real-time API on ECS behind an ALB (opt in: ``components.plugins: [api]``).

Not a stock component, so an environment deploys it only when its project asks for it. Its image source
(``containers/api``) ships with dsplatform (a project's own ``containers/api`` overrides it); it serves the
stock job's model, read from the job's SSM prefix, and requires that model before it is first created.

The image's repository is a stack of its own (``api-registry``, selected with ``api``) so that, as for the
stock job, the deployer creates it, pushes the image and then creates the service on the pushed digest.
"""

from __future__ import annotations

from blueprints import api, registry
from dsplatform.components.model import Component, Context, Image
from dsplatform.components.stock._pipeline import JOB, foreign_artifact_bucket
from dsplatform.components.stock.registry import repository_props
from dsplatform.errors import ConfigError
from dsplatform.stackspec import Requirement

NAME = "api"
REGISTRY_NAME = "api-registry"
PLAIN_HTTP_REASON = ("LocalStack target: no ACM certificate to serve locally, so the local ALB listens in plain "
                     "HTTP; an aws target is refused without api.certificate_arn and serves HTTPS only")


def _plain_http_reason(ctx: Context) -> str | None:
    """None with a certificate; the reason on LocalStack; ConfigError on AWS (TLS only, secure by default)."""
    if ctx.env.settings.api.certificate_arn:
        return None
    if ctx.env.target == "localstack":
        return PLAIN_HTTP_REASON
    raise ConfigError([f"{ctx.project.source}: environments.{ctx.env.name}.settings.api.certificate_arn: is unset "
                       f"(got null) on target aws, where the api serves HTTPS only; set it to the ACM certificate "
                       f"ARN of the api's domain, e.g. arn:aws:acm:{ctx.env.region}:{ctx.env.account_id}:"
                       f"certificate/0a1b2c3d"])


def props(ctx: Context) -> api.ApiProps:
    """Api props from ``settings.api`` (and the job's prefix, model key, logs and storage settings)."""
    s = ctx.env.settings
    plain_http_reason = _plain_http_reason(ctx)
    foreign = foreign_artifact_bucket(ctx)
    return api.ApiProps(
        name=f"{ctx.names.project}-{ctx.env.name}-{NAME}", task_family=ctx.names.task_family(NAME),
        container_name=ctx.names.container(NAME),
        log_group_name=ctx.names.log_group(NAME), ssm_prefix=ctx.names.ssm_prefix(JOB),
        model_key=s.parameters.model_key, alarm_prefix=ctx.names.alarm(NAME, "api").rsplit("-", 1)[0],
        access_log_bucket=ctx.names.api_log_bucket, region=ctx.env.region, access_log_days=s.api.access_log_days,
        plain_http_reason=plain_http_reason,
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


def registry_props(ctx: Context) -> registry.RegistryProps:
    """The API image's ECR repository, as the stock job's: ``settings.registry``, IMMUTABLE where protected."""
    return repository_props(ctx, NAME)


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


REGISTRY = Component(REGISTRY_NAME, registry.build, registry_props, registry.RegistryOutputs,
                     source="dsplatform.components.api:REGISTRY")
COMPONENT = Component(NAME, api.build, props, api.ApiOutputs,
                      ("network", "storage", "compute", "parameters", "alerts", REGISTRY_NAME), brings=(REGISTRY,),
                      images=(Image(NAME, tag=image_tag, bundled=True),), scenarios="harness.scenarios_api",
                      source="dsplatform.components.api:COMPONENT", requires=requires)
