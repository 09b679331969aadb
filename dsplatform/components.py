"""The component registry: which blueprint makes which stack, what it depends on, and its props from config.

This is the one place config meets blueprints (config -> props -> template). Adding a component means
a blueprint module plus one ``Component`` entry here; stack names come from ``dsplatform.naming``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from blueprints import alerts, compute, monitoring, network, orchestration, parameters, registry, schedule, storage
from dsplatform.config.models import EnvironmentConfig, ProjectConfig
from dsplatform.naming import Names


@dataclass(frozen=True)
class Context:
    """What a props factory may read: the whole project (for cross-environment facts) and one environment."""

    project: ProjectConfig
    env: EnvironmentConfig
    names: Names

    def names_of(self, env_name: str) -> Names:
        """Names of another environment of the same project."""
        return Names.for_environment(self.project.environments[env_name], self.project.project.name)


@dataclass(frozen=True)
class Component:
    """One stack: its blueprint, its dependencies, and how its props are made from config."""

    name: str
    build: Callable[[Any], Any]
    props: Callable[[Context], Any]
    depends_on: tuple[str, ...] = ()


def _network(ctx: Context) -> network.NetworkProps:
    s = ctx.env.settings.network
    return network.NetworkProps(name=f"{ctx.names.project}-{ctx.env.name}", cidr=s.cidr, existing_vpc_id=s.vpc_id,
                                existing_subnet_ids=s.subnet_ids, interface_endpoints=s.interface_endpoints)


def _artifact_readers(ctx: Context) -> tuple[str, ...]:
    # Environments that read this one's artifacts (parameters.artifacts_from) get read access automatically.
    readers = set(ctx.env.settings.storage.artifact_readers)
    readers |= {e.account_id for e in ctx.project.environments.values()
                if e.settings.parameters.artifacts_from == ctx.env.name}
    readers.discard(ctx.env.account_id)
    return tuple(sorted(readers))


def _storage(ctx: Context) -> storage.StorageProps:
    s = ctx.env.settings.storage
    return storage.StorageProps(
        input_bucket=ctx.names.input_bucket, output_bucket=ctx.names.output_bucket,
        artifact_bucket=ctx.names.artifact_bucket, encryption=s.encryption, versioning=s.versioning,
        input_expiration_days=s.lifecycle.input_expiration_days,
        output_expiration_days=s.lifecycle.output_expiration_days,
        noncurrent_expiration_days=s.lifecycle.noncurrent_expiration_days,
        abort_multipart_days=s.lifecycle.abort_multipart_days, artifact_readers=_artifact_readers(ctx))


def _registry(ctx: Context) -> registry.RegistryProps:
    s = ctx.env.settings.registry
    return registry.RegistryProps(repository_name=ctx.names.ecr_repository, tag_mutability=s.tag_mutability,
                                  scan_on_push=s.scan_on_push, max_images=s.max_images)


def _foreign_artifact_bucket(ctx: Context) -> str | None:
    source = ctx.env.settings.parameters.artifacts_from
    return ctx.names_of(source).artifact_bucket if source else None


def _parameters(ctx: Context) -> parameters.ParametersProps:
    s = ctx.env.settings.parameters
    return parameters.ParametersProps(
        prefix=ctx.names.ssm_prefix, input_key=s.input_key, model_key=s.model_key, script_key=s.script_key,
        package_key=s.package_key, model_version=s.model_version, artifact_bucket=_foreign_artifact_bucket(ctx))


def _alerts(ctx: Context) -> alerts.AlertsProps:
    return alerts.AlertsProps(topic_name=ctx.names.alert_topic, emails=ctx.env.settings.alerts.emails)


def _compute(ctx: Context) -> compute.ComputeProps:
    s = ctx.env.settings
    foreign = _foreign_artifact_bucket(ctx)
    return compute.ComputeProps(
        cluster_name=ctx.names.cluster, task_family=ctx.names.task_family, container_name=ctx.names.container,
        log_group_name=ctx.names.log_group, ssm_prefix=ctx.names.ssm_prefix, cpu=s.compute.cpu,
        memory=s.compute.memory, image_tag=s.compute.image_tag, log_retention_days=s.logs.retention_days,
        kms=s.storage.encryption == "kms", artifact_bucket_arn=f"arn:aws:s3:::{foreign}" if foreign else None)


def _orchestration(ctx: Context) -> orchestration.OrchestrationProps:
    s = ctx.env.settings.orchestration
    return orchestration.OrchestrationProps(
        state_machine_name=ctx.names.state_machine, container_name=ctx.names.container,
        timeout_seconds=s.timeout_seconds, retry_attempts=s.retry_attempts,
        retry_interval_seconds=s.retry_interval_seconds)


def _schedule(ctx: Context) -> schedule.ScheduleProps:
    s = ctx.env.settings.schedule
    return schedule.ScheduleProps(rule_name=ctx.names.schedule_rule, expression=s.expression, enabled=s.enabled)


def _monitoring(ctx: Context) -> monitoring.MonitoringProps:
    s = ctx.env.settings.alarms
    return monitoring.MonitoringProps(
        alarm_names={metric: ctx.names.alarm(metric) for metric, _ in monitoring.METRICS},
        dashboard_name=ctx.names.dashboard, failed_threshold=s.failed_threshold,
        timed_out_threshold=s.timed_out_threshold, throttled_threshold=s.throttled_threshold,
        period_seconds=s.period_seconds, evaluation_periods=s.evaluation_periods)


COMPONENTS: tuple[Component, ...] = (
    Component("network", network.build, _network),
    Component("storage", storage.build, _storage),
    Component("registry", registry.build, _registry),
    Component("alerts", alerts.build, _alerts),
    Component("parameters", parameters.build, _parameters, ("storage",)),
    Component("compute", compute.build, _compute, ("storage", "registry", "parameters")),
    Component("orchestration", orchestration.build, _orchestration, ("compute", "network", "alerts")),
    Component("schedule", schedule.build, _schedule, ("orchestration",)),
    Component("monitoring", monitoring.build, _monitoring, ("orchestration", "alerts")),
)


def component(name: str) -> Component:
    """The registered component called ``name``; KeyError if none."""
    for entry in COMPONENTS:
        if entry.name == name:
            return entry
    raise KeyError(name)
