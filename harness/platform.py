"""Typed view of a deployed environment, built only from its stacks' outputs (never from local config)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dsplatform.errors import DsPlatformError
from dsplatform.stackspec import Plan

# component -> output keys the harness needs from it (the shared stack-output contract).
REQUIRED_OUTPUTS: dict[str, tuple[str, ...]] = {
    "storage": ("InputBucketName", "OutputBucketName", "ArtifactBucketName"),
    "registry": ("RepositoryName", "RepositoryUri"),
    "parameters": ("ParameterPrefix",),
    "alerts": ("AlertTopicArn",),
    "compute": (
        "ClusterArn",
        "ClusterName",
        "TaskDefinitionArn",
        "TaskRoleArn",
        "LogGroupName",
        "ContainerName",
    ),
    "orchestration": ("StateMachineArn", "StateMachineName"),
    "schedule": ("ScheduleRuleName",),
    "monitoring": ("FailedAlarmName", "TimedOutAlarmName", "ThrottledAlarmName"),
}


class PlatformNotDeployedError(DsPlatformError):
    """The environment's stacks (or outputs the harness needs) are not there."""

    exit_code = 2

    def __init__(self, env: str, missing: list[str]) -> None:
        self.env, self.missing = env, missing
        super().__init__(
            f"environment {env!r} is not deployed (missing: {', '.join(missing)}); "
            f"run `invoke deploy --env {env}` or drop --ds-reuse"
        )


@dataclass(frozen=True)
class Platform:
    """Facts about one deployed environment, as its stacks report them."""

    env: str
    account_id: str
    region: str
    input_bucket: str
    output_bucket: str
    artifact_bucket: str
    repository_name: str
    repository_uri: str
    ssm_prefix: str
    topic_arn: str
    cluster_arn: str
    cluster_name: str
    task_definition_arn: str
    task_role_arn: str
    execution_role_arn: str
    log_group: str
    container_name: str
    state_machine_arn: str
    state_machine_name: str
    rule_name: str
    failed_alarm: str
    timed_out_alarm: str
    throttled_alarm: str
    dashboard_name: str = ""
    subnet_ids: tuple[str, ...] = ()
    security_group_id: str = ""
    stacks: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    stack_names: Mapping[str, str] = field(default_factory=dict)  # component -> stack name, from the plan

    @property
    def alarm_names(self) -> tuple[str, str, str]:
        """The three failure alarms: failed, timed out, throttled."""
        return (self.failed_alarm, self.timed_out_alarm, self.throttled_alarm)

    def stack_name(self, component: str) -> str:
        """The stack name of ``component`` in this environment (as the plan names it)."""
        return self.stack_names[component]


def platform_from_outputs(plan: Plan, outputs: Mapping[str, Mapping[str, str]]) -> Platform:
    """Build a Platform from ``{stack name: {output key: value}}``; raise naming every missing output.

    Stack names come from the plan (the naming module), never rebuilt here, so a project with its own
    ``project.name`` is found too.
    """
    env, account_id, region = plan.target.env, plan.target.account_id, plan.target.region
    stack_names = {spec.component: spec.name for spec in plan.stacks}
    missing: list[str] = []

    def get(component: str, key: str, required: bool = True) -> str:
        name = stack_names.get(component, component)
        value = (outputs.get(name) or {}).get(key)
        if value is None:
            if required:
                missing.append(f"{name}.{key}")
            return ""
        return value

    for component, keys in REQUIRED_OUTPUTS.items():
        for key in keys:
            get(component, key)
    if missing:
        raise PlatformNotDeployedError(env, missing)
    subnets = get("network", "SubnetIds", required=False)
    return Platform(
        env=env,
        account_id=account_id,
        region=region,
        input_bucket=get("storage", "InputBucketName"),
        output_bucket=get("storage", "OutputBucketName"),
        artifact_bucket=get("storage", "ArtifactBucketName"),
        repository_name=get("registry", "RepositoryName"),
        repository_uri=get("registry", "RepositoryUri"),
        ssm_prefix=get("parameters", "ParameterPrefix"),
        topic_arn=get("alerts", "AlertTopicArn"),
        cluster_arn=get("compute", "ClusterArn"),
        cluster_name=get("compute", "ClusterName"),
        task_definition_arn=get("compute", "TaskDefinitionArn"),
        task_role_arn=get("compute", "TaskRoleArn"),
        execution_role_arn=get("compute", "ExecutionRoleArn", required=False),
        log_group=get("compute", "LogGroupName"),
        container_name=get("compute", "ContainerName"),
        state_machine_arn=get("orchestration", "StateMachineArn"),
        state_machine_name=get("orchestration", "StateMachineName"),
        rule_name=get("schedule", "ScheduleRuleName"),
        failed_alarm=get("monitoring", "FailedAlarmName"),
        timed_out_alarm=get("monitoring", "TimedOutAlarmName"),
        throttled_alarm=get("monitoring", "ThrottledAlarmName"),
        dashboard_name=get("monitoring", "DashboardName", required=False),
        subnet_ids=tuple(s for s in subnets.split(",") if s),
        security_group_id=get("network", "TaskSecurityGroupId", required=False),
        stacks={name: dict(values) for name, values in outputs.items()},
        stack_names=stack_names,
    )
