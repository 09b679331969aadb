"""The stock batch pipeline of a deployed environment as one typed object, read only from its stacks' outputs.

Built on the one typed reader (``dsplatform.deployer.read_deployed``): every value comes from a component's
Outputs class, never from local config, so it describes what is deployed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

from blueprints.alerts import AlertsOutputs
from blueprints.compute import ComputeOutputs
from blueprints.monitoring import MonitoringOutputs
from blueprints.network import NetworkOutputs
from blueprints.orchestration import OrchestrationOutputs
from blueprints.parameters import ParametersOutputs
from blueprints.registry import RegistryOutputs
from blueprints.schedule import ScheduleOutputs
from blueprints.storage import StorageOutputs
from dsplatform.deployer.outputs import Deployed
from dsplatform.errors import DsPlatformError
from dsplatform.stackspec import Plan

# The stock components the pipeline's facts come from; the network is optional (an existing VPC).
PIPELINE_COMPONENTS = ("storage", "registry", "parameters", "alerts", "compute", "orchestration", "schedule",
                       "monitoring")


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
    deployed: Deployed | None = None  # every deployed component's typed outputs (a consumer's too)
    stack_names: Mapping[str, str] = field(default_factory=dict)  # component -> stack name, from the plan

    @property
    def project(self) -> str:
        """The project's name: the first part of its SSM prefix (``/{project}/...``, naming.ssm_prefix); the
        harness names what it creates (probe rules, alert queues) with it, inside the deploy role's scope."""
        return self.ssm_prefix.strip("/").split("/", 1)[0]

    @property
    def alarm_names(self) -> tuple[str, str, str]:
        """The three failure alarms: failed, timed out, throttled."""
        return (self.failed_alarm, self.timed_out_alarm, self.throttled_alarm)

    def stack_name(self, component: str) -> str:
        """The stack name of ``component`` in this environment (as the plan names it)."""
        return self.stack_names[component]


def platform_from_deployed(plan: Plan, deployed: Deployed) -> Platform:
    """Build the pipeline's Platform from the typed outputs; raise naming every stack that is not deployed.

    Stack names come from the plan (the naming module), never rebuilt here, so a project with its own
    ``project.name`` is found too.
    """
    missing = [plan_stack for component, plan_stack in deployed.stack_names.items()
               if component in PIPELINE_COMPONENTS and component not in deployed]
    missing += [f"component {c} (not in the plan)" for c in PIPELINE_COMPONENTS if c not in deployed.stack_names]
    if missing:
        raise PlatformNotDeployedError(plan.target.env, missing)
    # By name: the api's image repository (api-registry) has the same outputs class as the job's.
    storage, registry = deployed.get(StorageOutputs), cast(RegistryOutputs, deployed["registry"])
    compute, orchestration = deployed.get(ComputeOutputs), deployed.get(OrchestrationOutputs)
    monitoring = deployed.get(MonitoringOutputs)
    network = deployed["network"] if "network" in deployed else NetworkOutputs({})
    return Platform(
        env=plan.target.env,
        account_id=plan.target.account_id,
        region=plan.target.region,
        input_bucket=storage.input_bucket_name,
        output_bucket=storage.output_bucket_name,
        artifact_bucket=storage.artifact_bucket_name,
        repository_name=registry.repository_name,
        repository_uri=registry.repository_uri,
        ssm_prefix=deployed.get(ParametersOutputs).parameter_prefix,
        topic_arn=deployed.get(AlertsOutputs).alert_topic_arn,
        cluster_arn=compute.cluster_arn,
        cluster_name=compute.cluster_name,
        task_definition_arn=compute.task_definition_arn,
        task_role_arn=compute.task_role_arn,
        execution_role_arn=compute.execution_role_arn,
        log_group=compute.log_group_name,
        container_name=compute.container_name,
        state_machine_arn=orchestration.state_machine_arn,
        state_machine_name=orchestration.state_machine_name,
        rule_name=deployed.get(ScheduleOutputs).schedule_rule_name,
        failed_alarm=monitoring.failed_alarm_name,
        timed_out_alarm=monitoring.timed_out_alarm_name,
        throttled_alarm=monitoring.throttled_alarm_name,
        dashboard_name=monitoring.dashboard_name,
        subnet_ids=tuple(s for s in network.subnet_ids.split(",") if s),
        security_group_id=network.task_security_group_id,
        deployed=deployed,
        stack_names=dict(deployed.stack_names),
    )
