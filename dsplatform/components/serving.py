"""Component ``serving`` (opt-in): a SageMaker endpoint for one registered model version.

Not a stock component, because it needs a staged model first: list it in ``dsplatform.yml`` under
``components.plugins: [serving]`` (an entry point; it brings ``serving-registry``, its image repository) and set
``settings.serving.model_version`` (printed by ``invoke model.stage``) for every environment that deploys it.

The serving image's repository is a stack of its own (``serving-registry``) so that, as for the stock job, the
deployer can create it, push the image and then deploy the endpoint's model naming the pushed digest.
"""

from __future__ import annotations

from blueprints import registry, serving
from dsplatform.components.model import Component, Context, Image
from dsplatform.errors import ConfigError
from dsplatform.stackspec import Requirement

JOB = "serving"  # its image: containers/serving under the project root, else the copy dsplatform ships


def model_key(name: str, version: str) -> str:
    """Artifact-bucket key of an exported version (where `invoke model.stage` uploads it)."""
    return f"models/{name}/{version}/model.tar.gz"


def image_tag(ctx: Context) -> str:
    """The tag the serving image is pushed under (``settings.serving.image_tag``)."""
    return ctx.env.settings.serving.image_tag


def registry_props(ctx: Context) -> registry.RegistryProps:
    """The serving image's ECR repository: ``<project>-serving``, tags immutable where the environment is protected."""
    s = ctx.env.settings.registry
    mutability = s.tag_mutability or ("IMMUTABLE" if ctx.env.protected else "MUTABLE")
    return registry.RegistryProps(repository_name=ctx.names.repository(JOB), tag_mutability=mutability,
                                  scan_on_push=s.scan_on_push, max_images=s.max_images)


def props(ctx: Context) -> serving.ServingProps:
    """Serving props from ``settings.serving`` and the environment's names."""
    s = ctx.env.settings.serving
    if s.model_version is None:
        raise ConfigError([f"{ctx.project.source}: environments.{ctx.env.name}.settings.serving.model_version is "
                           f"unset; stage a version (`invoke model.stage --env {ctx.env.name} --version N`) and set "
                           f"it, or remove the serving component from components.plugins"])
    name = s.model_name or f"{ctx.project.project.name}-model"
    return serving.ServingProps(
        endpoint_name=ctx.names.endpoint,
        model_name=ctx.names.endpoint_version("model", s.model_version),
        config_name=ctx.names.endpoint_version("config", s.model_version),
        image_tag=s.image_tag,
        artifact_bucket=ctx.names.artifact_bucket, model_key=model_key(name, s.model_version),
        model_sha256=s.model_sha256, instance_type=s.instance_type, instance_count=s.instance_count,
        max_instances=s.max_instances, invocations_per_instance=s.invocations_per_instance,
        capture_bucket=ctx.names.output_bucket if s.data_capture else None, capture_percent=s.capture_percent,
        latency_threshold_ms=s.latency_threshold_ms, errors_threshold=s.errors_threshold)


def requires(ctx: Context) -> tuple[Requirement, ...]:
    """The served version's model.tar.gz: the Model reads it when the endpoint is first created."""
    s = ctx.env.settings.serving
    if s.model_version is None:
        return ()  # props refuses the config with its fix
    name = s.model_name or f"{ctx.project.project.name}-model"
    env, version = ctx.env.name, s.model_version
    return (Requirement(f"{name} v{version}'s model.tar.gz", ctx.names.artifact_bucket, model_key(name, version),
                        f"stage it (`invoke model.stage --env {env} --version {version}`) or promote it from the "
                        f"environment before (`invoke model.promote --to {env}`)"),)


REGISTRY = Component("serving-registry", registry.build, registry_props, registry.RegistryOutputs,
                     source="dsplatform.components.serving:REGISTRY")
COMPONENT = Component("serving", serving.build, props, serving.ServingOutputs,
                      ("storage", "alerts", "serving-registry"), images=(Image(JOB, tag=image_tag, bundled=True),),
                      brings=(REGISTRY,),
                      scenarios="harness.scenarios_serving", source="dsplatform.components.serving:COMPONENT",
                      requires=requires)
