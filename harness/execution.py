"""Run the pipeline the way its schedule does, wait for it, and gather its history and task logs."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from harness.platform import Platform
from harness.runs import Clients
from harness.waiting import Waiter, WaitTimeout

_TASK_ARN = re.compile(r"arn:aws[\w-]*:ecs:[\w-]+:\d{12}:task/[\w/-]+")
FINISHED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


@dataclass
class Execution:
    """One finished state machine execution: status, error, history and the job's log lines."""

    arn: str
    name: str
    input: dict[str, Any]
    status: str
    error: str = ""
    cause: str = ""
    output: str = ""
    seconds: float = 0.0
    history: list[dict[str, Any]] = field(default_factory=list)
    task_arns: list[str] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)

    def event_types(self) -> list[str]:
        """The history's event types, in order."""
        return [str(event["type"]) for event in self.history]

    def failed_task_errors(self) -> list[str]:
        """The ``error`` of every TaskFailed event (e.g. States.TaskFailed)."""
        return [
            str(event.get("taskFailedEventDetails", {}).get("error", ""))
            for event in self.history
            if event["type"] == "TaskFailed"
        ]

    def exit_codes(self) -> list[int]:
        """Container exit codes found in the TaskFailed causes (the DescribeTasks task, as on AWS)."""
        codes: list[int] = []
        for event in self.history:
            cause = event.get("taskFailedEventDetails", {}).get("cause", "")
            try:
                codes.extend(_find_exit_codes(json.loads(cause)))
            except (TypeError, ValueError):
                continue
        return codes

    def to_report(self) -> dict[str, Any]:
        """A JSON-friendly summary for the run report."""
        return {
            "arn": self.arn,
            "name": self.name,
            "input": self.input,
            "status": self.status,
            "error": self.error,
            "cause": self.cause[:2000],
            "seconds": round(self.seconds, 2),
            "history": [_event_summary(e) for e in self.history],
            "task_arns": self.task_arns,
            "logs": self.logs[-400:],
        }


def schedule_input(platform: Platform, clients: Clients) -> dict[str, Any]:
    """The input the schedule rule passes to the state machine (its target's Input), or {}."""
    events = clients.client("events")
    for page in events.get_paginator("list_targets_by_rule").paginate(Rule=platform.rule_name):
        for target in page.get("Targets", []):
            if target.get("Arn") == platform.state_machine_arn and target.get("Input"):
                loaded = json.loads(target["Input"])
                return loaded if isinstance(loaded, dict) else {}
    return {}


def start_execution(
    platform: Platform, clients: Clients, run_id: str, input_key: str | None = None,
    extra: dict[str, Any] | None = None, name: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """Start an execution as the schedule would (its Input), plus this run's id and input key.

    ``extra`` adds execution input (e.g. ``shard_size_bytes``); ``name`` names the execution (default: the run
    id; a re-run of a run id needs another name, as execution names are unique).
    """
    payload = schedule_input(platform, clients)
    payload["run_id"] = run_id
    if input_key is not None:
        payload["input_key"] = input_key
    payload.update(extra or {})
    sfn = clients.client("stepfunctions")
    started = sfn.start_execution(stateMachineArn=platform.state_machine_arn, name=name or run_id,
                                  input=json.dumps(payload))
    return str(started["executionArn"]), payload


def wait_execution(
    platform: Platform,
    clients: Clients,
    waiter: Waiter,
    arn: str,
    payload: dict[str, Any],
    timeout: float = 300.0,
) -> Execution:
    """Wait for the execution to finish, then read its history and its task's log lines."""
    sfn = clients.client("stepfunctions")
    began = time.monotonic()
    described = waiter.aws(
        sfn,
        "DescribeExecution",
        executionArn=arn,
        success_path="status != 'RUNNING'",
        success=True,
        what=f"execution {arn.rsplit(':', 1)[-1]} to finish",
        timeout=timeout,
    )
    history: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
        history.extend(page["events"])
    execution = Execution(
        arn=arn,
        name=str(described.get("name", arn.rsplit(":", 1)[-1])),
        input=payload,
        status=str(described["status"]),
        error=str(described.get("error", "")),
        cause=str(described.get("cause", "")),
        output=str(described.get("output", "")),
        seconds=time.monotonic() - began,
        history=history,
    )
    execution.task_arns = sorted(set(_TASK_ARN.findall(json.dumps(history, default=str))))
    execution.logs = task_logs(platform, clients, waiter, execution.task_arns)
    return execution


def task_logs(platform: Platform, clients: Clients, waiter: Waiter, task_arns: list[str]) -> list[str]:
    """The awslogs lines of the given tasks (stream ``<prefix>/<container>/<task id>``), waiting briefly."""
    if not task_arns:
        return []
    logs = clients.client("logs")
    prefix = _stream_prefix(platform, clients)
    streams = [f"{prefix}/{platform.container_name}/{arn.rsplit('/', 1)[-1]}" for arn in task_arns]

    def read() -> list[str]:
        lines: list[str] = []
        paginator = logs.get_paginator("filter_log_events")
        try:
            for page in paginator.paginate(logGroupName=platform.log_group, logStreamNames=streams):
                lines.extend(str(e["message"]) for e in page.get("events", []))
        except logs.exceptions.ResourceNotFoundException:
            return []
        return lines

    try:
        # Log shipping may trail the task's STOPPED state by a moment, as with the awslogs driver.
        return waiter.until(read, bool, what=f"log lines in {platform.log_group} for {streams}", timeout=30)
    except WaitTimeout:
        return []


def _stream_prefix(platform: Platform, clients: Clients) -> str:
    ecs = clients.client("ecs")
    definition = ecs.describe_task_definition(taskDefinition=platform.task_definition_arn)["taskDefinition"]
    for container in definition.get("containerDefinitions", []):
        if container.get("name") == platform.container_name:
            options = (container.get("logConfiguration") or {}).get("options") or {}
            return str(options.get("awslogs-stream-prefix", platform.container_name))
    return platform.container_name


def _find_exit_codes(value: Any) -> list[int]:
    if isinstance(value, dict):
        found = [int(v) for k, v in value.items() if k.lower() == "exitcode" and isinstance(v, int)]
        for v in value.values():
            found.extend(_find_exit_codes(v))
        return found
    if isinstance(value, list):
        return [code for item in value for code in _find_exit_codes(item)]
    return []


def _event_summary(event: dict[str, Any]) -> dict[str, Any]:
    details = {k: v for k, v in event.items() if k.endswith("EventDetails")}
    text = json.dumps(details, default=str)
    return {
        "id": event.get("id"),
        "type": event.get("type"),
        "timestamp": str(event.get("timestamp", "")),
        "details": text if len(text) < 1500 else text[:1497] + "...",
    }
