"""Make Step Functions' `ecs:runTask.sync` fail with States.TaskFailed when a container exits non-zero, as AWS does."""

from __future__ import annotations

from typing import Any

from dsplatform_localstack import ecs_runner

# Longest a `.sync` ECS step blocks on its task between LocalStack's checks that the execution still runs.
SYNC_WAIT_SECONDS = 2.0


def task_failed(task: dict[str, Any]) -> bool:
    """True when AWS would fail the state: an essential container exited non-zero or never ran (no exit code)."""
    containers = task.get("Containers") or []
    if not containers:
        return task.get("StopCode") == "TaskFailedToStart"
    return any(c.get("ExitCode") is None or c.get("ExitCode") != 0 for c in containers)


def install() -> None:
    """Replace LocalStack's resolver (which only waits for STOPPED) with one that also fails like AWS."""
    from localstack.aws.api.stepfunctions import HistoryEventType, TaskFailedEventDetails
    from localstack.services.stepfunctions.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from localstack.services.stepfunctions.asl.component.common.error_name.states_error_name import StatesErrorName
    from localstack.services.stepfunctions.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from localstack.services.stepfunctions.asl.component.state.state_execution.state_task.service import (
        state_task_service_ecs as ecs_module,
    )
    from localstack.services.stepfunctions.asl.eval.event.event_detail import EventDetails
    from localstack.services.stepfunctions.asl.utils.boto_client import boto_client_for
    from localstack.services.stepfunctions.asl.utils.encoding import to_json_str

    def _build_sync_resolver(self, env, resource_runtime_part, normalised_parameters, state_credentials):  # type: ignore[no-untyped-def]
        ecs_client = boto_client_for(
            service="ecs", region=resource_runtime_part.region, state_credentials=state_credentials
        )
        submission_output: dict = env.stack.pop()
        task_arn: str = submission_output["Tasks"][0]["TaskArn"]
        cluster_arn: str = submission_output["Tasks"][0]["ClusterArn"]

        def _sync_resolver() -> dict | None:
            output = ecs_client.describe_tasks(cluster=cluster_arn, tasks=[task_arn])
            if output["tasks"][0]["lastStatus"] != "STOPPED":
                # Wake on the task's stop instead of LocalStack's fixed 0.5 s poll between calls (each step of
                # a run paid up to that); bounded, so a stopped execution is still seen within SYNC_WAIT_SECONDS.
                if not ecs_runner.wait_stopped(task_arn, SYNC_WAIT_SECONDS):
                    return None
                output = ecs_client.describe_tasks(cluster=cluster_arn, tasks=[task_arn])
                if output["tasks"][0]["lastStatus"] != "STOPPED":
                    return None
            self._normalise_response(response=output, service_action_name="describe_tasks")
            task = output["Tasks"]
            task = task[0]
            if not task_failed(task):
                return task
            # AWS's cause is the stopped task, as DescribeTasks shows it (exit codes, stoppedReason).
            raise FailureEventException(
                FailureEvent(
                    env=env,
                    error_name=StatesErrorName(typ=StatesErrorNameType.StatesTaskFailed),
                    event_type=HistoryEventType.TaskFailed,
                    event_details=EventDetails(
                        taskFailedEventDetails=TaskFailedEventDetails(
                            resource=self._get_sfn_resource(),
                            resourceType=self._get_sfn_resource_type(),
                            error=StatesErrorNameType.StatesTaskFailed.to_name(),
                            cause=to_json_str(task),
                        )
                    ),
                )
            )

        return _sync_resolver

    ecs_module.StateTaskServiceEcs._build_sync_resolver = _build_sync_resolver
