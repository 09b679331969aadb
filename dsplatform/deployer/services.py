"""After a stack update touches an ECS service: wait until it is stable (as `aws ecs wait services-stable`
does) and, when it is not, report the service's own events (the task failures CloudFormation only summarizes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from botocore.exceptions import WaiterError

from dsplatform.deployer.errors import DeployerError
from dsplatform.deployer.events import StackEvent
from dsplatform.deployer.waiters import Polling

SERVICE_TYPE = "AWS::ECS::Service"
SERVICE_EVENT = "SERVICE_EVENT"  # the status StackEvent carries for an ECS service event
_MAX_EVENTS = 20  # the newest ones; an unstable service repeats itself
_FAILED_DEPLOYMENT = "deployment failed"  # ECS's event wording when the circuit breaker trips
_BATCH = 10  # DescribeServices (and so the waiter) takes at most 10 services


class ServiceUnstableError(DeployerError):
    """A service did not reach a steady state on the deployment the stack asked for."""

    exit_code = 1

    def __init__(self, stack: str, service: str, reason: str, events: Sequence[StackEvent] = ()) -> None:
        self.stack, self.service, self.reason, self.events = stack, service, reason, tuple(events)
        lines = [f"stack {stack}: service {service} is not stable: {reason}"]
        lines += [f"  {ev.describe()}" for ev in self.events]
        super().__init__("\n".join(lines))


def cluster_of(service_arn: str) -> str:
    """The cluster of a service ARN (`service/<cluster>/<name>`; the old short form means `default`)."""
    parts = service_arn.split(":service/", 1)[-1].split("/")
    return parts[0] if len(parts) == 2 else "default"


def stack_services(cfn: Any, stack_id: str, logical_ids: Iterable[str] | None = None) -> dict[str, str]:
    """Logical id -> service ARN of a stack's ECS services (only ``logical_ids`` when given)."""
    wanted = set(logical_ids) if logical_ids is not None else None
    found: dict[str, str] = {}
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_id):
        for res in page.get("StackResourceSummaries", []):
            if res.get("ResourceType") != SERVICE_TYPE or not res.get("PhysicalResourceId"):
                continue
            if wanted is None or res["LogicalResourceId"] in wanted:
                found[res["LogicalResourceId"]] = res["PhysicalResourceId"]
    return found


def _events(service: dict[str, Any], logical_id: str, since: dt.datetime | None) -> list[StackEvent]:
    chosen = [
        StackEvent(e["createdAt"], logical_id, SERVICE_TYPE, SERVICE_EVENT, " ".join(str(e["message"]).split()))
        for e in service.get("events", [])
        if since is None or e["createdAt"] >= since
    ]
    return sorted(chosen, key=lambda ev: ev.timestamp)[-_MAX_EVENTS:]


def service_events(ecs: Any, service_arn: str, logical_id: str, since: dt.datetime | None = None) -> list[StackEvent]:
    """A service's events since ``since`` (oldest first, the newest 20), as StackEvents for the reports."""
    services = ecs.describe_services(cluster=cluster_of(service_arn), services=[service_arn]).get("services", [])
    return _events(services[0], logical_id, since) if services else []


def failed_service_events(
    cfn: Any, ecs: Any, stack_id: str, failures: Sequence[StackEvent], since: dt.datetime | None
) -> list[StackEvent]:
    """The events of every ECS service among a failed stack operation's failed resources."""
    ids = [ev.logical_id for ev in failures if ev.resource_type == SERVICE_TYPE]
    if not ids:
        return []
    found = stack_services(cfn, stack_id, ids)
    return [ev for logical_id, arn in found.items() for ev in service_events(ecs, arn, logical_id, since)]


def wait_stable(
    cfn: Any, ecs: Any, stack: str, stack_id: str, logical_ids: Iterable[str], polling: Polling, since: dt.datetime
) -> None:
    """Wait (botocore's services_stable waiter) for the stack's changed services; raise ServiceUnstableError
    when the waiter gives up, or when the service only settled by rolling its new deployment back."""
    found = stack_services(cfn, stack_id, logical_ids)
    by_arn = {arn: logical_id for logical_id, arn in found.items()}
    clusters: dict[str, list[str]] = {}
    for arn in by_arn:
        clusters.setdefault(cluster_of(arn), []).append(arn)
    for cluster, arns in clusters.items():
        for start in range(0, len(arns), _BATCH):
            batch = arns[start : start + _BATCH]
            try:
                ecs.get_waiter("services_stable").wait(cluster=cluster, services=batch, WaiterConfig=polling.config())
            except WaiterError as exc:
                arn = _first_unstable(exc, batch)
                reason = f"not stable after {polling.max_wait:.0f}s ({exc.kwargs.get('reason') or exc})"
                raise ServiceUnstableError(stack, arn, reason, service_events(ecs, arn, by_arn[arn], since)) from exc
            for service in ecs.describe_services(cluster=cluster, services=batch)["services"]:
                _check_rollout(stack, service, by_arn[service["serviceArn"]], since)


def _first_unstable(exc: WaiterError, arns: list[str]) -> str:
    for service in (exc.last_response or {}).get("services", []):
        if len(service.get("deployments", [])) != 1 or service.get("runningCount") != service.get("desiredCount"):
            return str(service["serviceArn"])
    return arns[0]


def _check_rollout(stack: str, service: dict[str, Any], logical_id: str, since: dt.datetime) -> None:
    primary = (service.get("deployments") or [{}])[0]
    events = _events(service, logical_id, since)
    if primary.get("rolloutState") == "FAILED":
        reason = primary.get("rolloutStateReason") or "its deployment failed"
        raise ServiceUnstableError(stack, service["serviceArn"], str(reason), events)
    failed = [ev for ev in events if _FAILED_DEPLOYMENT in ev.reason]
    if failed:
        # Stable, but on the deployment the circuit breaker rolled back to, not on the one the stack asked for.
        reason = f"the new deployment failed and was rolled back ({failed[-1].reason})"
        raise ServiceUnstableError(stack, service["serviceArn"], reason, events)
