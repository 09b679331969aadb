"""Component ``serving`` (opt-in): a SageMaker endpoint for one registered model version.

Not a stock component, because it needs a staged model first: list it in ``dsplatform.yml`` under
``components.plugins: ["dsplatform.components.serving:COMPONENT"]`` and set ``settings.serving.model_version``
(printed by ``invoke model.stage``) for every environment that deploys it.
"""

from __future__ import annotations

from blueprints import serving
from dsplatform.components.model import Component, Context, Image
from dsplatform.errors import ConfigError

JOB = "serving"  # its image source is containers/serving under the project root


def model_key(name: str, version: str) -> str:
    """Artifact-bucket key of an exported version (where `invoke model.stage` uploads it)."""
    return f"models/{name}/{version}/model.tar.gz"


def image_uri(ctx: Context, repository: str, tag: str) -> str:
    """The serving image in this environment's ECR, by digest when the tag is ``sha256:...``."""
    registry = f"{ctx.env.account_id}.dkr.ecr.{ctx.env.region}.amazonaws.com/{repository}"
    return f"{registry}@{tag}" if tag.startswith("sha256:") else f"{registry}:{tag}"


def props(ctx: Context) -> serving.ServingProps:
    """Serving props from ``settings.serving`` and the environment's names."""
    s = ctx.env.settings.serving
    if s.model_version is None:
        raise ConfigError([f"{ctx.project.source}: environments.{ctx.env.name}.settings.serving.model_version is "
                           f"unset; stage a version (`invoke model.stage --env {ctx.env.name} --version N`) and set "
                           f"it, or remove the serving component from components.plugins"])
    name = s.model_name or f"{ctx.project.project.name}-model"
    repository = ctx.names.repository(JOB)
    return serving.ServingProps(
        endpoint_name=ctx.names.endpoint,
        model_name=ctx.names.endpoint_version("model", s.model_version),
        config_name=ctx.names.endpoint_version("config", s.model_version),
        image=image_uri(ctx, repository, s.image_tag),
        repository_arn=f"arn:aws:ecr:{ctx.env.region}:{ctx.env.account_id}:repository/{repository}",
        artifact_bucket=ctx.names.artifact_bucket, model_key=model_key(name, s.model_version),
        model_sha256=s.model_sha256, instance_type=s.instance_type, instance_count=s.instance_count,
        max_instances=s.max_instances, invocations_per_instance=s.invocations_per_instance,
        capture_bucket=ctx.names.output_bucket if s.data_capture else None, capture_percent=s.capture_percent,
        latency_threshold_ms=s.latency_threshold_ms, errors_threshold=s.errors_threshold)


COMPONENT = Component("serving", serving.build, props, serving.ServingOutputs, ("storage", "alerts"),
                      images=(Image(JOB),))
