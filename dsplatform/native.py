"""What runs, pinned by its service's own API: an ECS service's task definition, a Lambda alias's version, a
SageMaker endpoint's config. A release records them; a rollback moves each back natively (UpdateService,
UpdateAlias, UpdateEndpoint) before the stacks are reconciled through change sets.

Found by resource type in each deployed stack, so every component that has such a resource is covered (the
batch job has no service, `api` has an ECS service, `ingest` the alias `live`, `serving` an endpoint).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dsplatform.stackspec import Plan

SERVICE, ALIAS, ENDPOINT = "AWS::ECS::Service", "AWS::Lambda::Alias", "AWS::SageMaker::Endpoint"
KINDS = (SERVICE, ALIAS, ENDPOINT)


@dataclass(frozen=True)
class Pin:
    """One natively switchable resource and what it ran: ``target`` is the task definition ARN, the Lambda
    version or the endpoint config name; ``scope`` is the cluster (service) or the function (alias)."""

    stack: str
    logical_id: str
    kind: str
    scope: str
    name: str
    target: str


@dataclass(frozen=True)
class Switch:
    """What a native rollback did with one pin: ``moved``, ``unchanged`` or ``skipped`` (with the reason)."""

    pin: Pin
    outcome: str
    detail: str = ""

    def describe(self) -> str:
        """One line for the command's output."""
        what = {SERVICE: "ECS service", ALIAS: "Lambda alias", ENDPOINT: "endpoint"}[self.pin.kind]
        return f"{what} {self.pin.name}: {self.outcome}" + (f" ({self.detail})" if self.detail else "")


def capture(plan: Plan, clients: Any) -> tuple[Pin, ...]:
    """The pins of every deployed stack of ``plan``, read from the services (what runs now)."""
    cfn = clients.client("cloudformation")
    pins: list[Pin] = []
    for spec in plan.stacks:
        resources = (spec.template.get("Resources") or {}).values()
        if "Transform" not in spec.template and not any(res.get("Type") in KINDS for res in resources):
            continue  # nothing to pin, and no macro that could add it: no call for it (most stacks)
        try:
            pages = list(cfn.get_paginator("list_stack_resources").paginate(StackName=spec.name))
        except cfn.exceptions.ClientError:
            continue  # not deployed
        for page in pages:
            for res in page.get("StackResourceSummaries", []):
                kind, physical = res["ResourceType"], res.get("PhysicalResourceId") or ""
                if kind in KINDS and physical and res.get("ResourceStatus", "").endswith("COMPLETE"):
                    pin = _read(clients, spec.name, res["LogicalResourceId"], kind, physical)
                    if pin is not None:
                        pins.append(pin)
    return tuple(pins)


def _read(clients: Any, stack: str, logical_id: str, kind: str, physical: str) -> Pin | None:
    if kind == SERVICE:
        cluster, service = _service_of(physical)
        found = clients.client("ecs").describe_services(cluster=cluster, services=[service])["services"]
        return Pin(stack, logical_id, kind, cluster, service, found[0]["taskDefinition"]) if found else None
    if kind == ALIAS:
        function, alias = _alias_of(physical)
        got = clients.client("lambda").get_alias(FunctionName=function, Name=alias)
        return Pin(stack, logical_id, kind, function, alias, str(got["FunctionVersion"]))
    name = physical.rsplit("/", 1)[-1]
    got = clients.client("sagemaker").describe_endpoint(EndpointName=name)
    return Pin(stack, logical_id, kind, "", name, str(got["EndpointConfigName"]))


def _service_of(arn: str) -> tuple[str, str]:
    """(cluster, service) from a service ARN (``...:service/CLUSTER/NAME``; the old format has no cluster)."""
    parts = arn.split(":service/", 1)[-1].split("/")
    return (parts[0], parts[1]) if len(parts) == 2 else ("default", parts[0])


def _alias_of(arn: str) -> tuple[str, str]:
    """(function, alias) from an alias ARN (``...:function:NAME:ALIAS``)."""
    function, alias = arn.split(":function:", 1)[-1].split(":")[:2]
    return function, alias


def restore(pins: tuple[Pin, ...], clients: Any, wait: bool = True, delay: float = 1.0) -> list[Switch]:
    """Move each pinned resource back to what it ran, where that still exists; then wait until each serves."""
    switches = [_restore_one(pin, clients) for pin in pins]
    if wait:
        for switch in switches:
            if switch.outcome == "moved":
                _wait(switch.pin, clients, delay)
    return switches


def _restore_one(pin: Pin, clients: Any) -> Switch:
    now = _read(clients, pin.stack, pin.logical_id, pin.kind, _physical(pin))
    if now is not None and now.target == pin.target:
        return Switch(pin, "unchanged")
    if pin.kind == SERVICE:
        ecs = clients.client("ecs")
        status = ecs.describe_task_definition(taskDefinition=pin.target)["taskDefinition"].get("status", "ACTIVE")
        if status != "ACTIVE":  # a deregistered revision cannot start tasks; the change sets register it again
            return Switch(pin, "skipped", f"{pin.target.rsplit('/', 1)[-1]} is {status}")
        ecs.update_service(cluster=pin.scope, service=pin.name, taskDefinition=pin.target)
        return Switch(pin, "moved", f"to {pin.target.rsplit('/', 1)[-1]}")
    if pin.kind == ALIAS:
        clients.client("lambda").update_alias(FunctionName=pin.scope, Name=pin.name, FunctionVersion=pin.target)
        return Switch(pin, "moved", f"to version {pin.target}")
    sagemaker = clients.client("sagemaker")
    try:  # the serving blueprint keeps replaced configs and models (Retain); a stack without that loses them
        config = sagemaker.describe_endpoint_config(EndpointConfigName=pin.target)
    except sagemaker.exceptions.ClientError:
        return Switch(pin, "skipped", f"endpoint config {pin.target} no longer exists")
    for model in [v["ModelName"] for v in config.get("ProductionVariants", [])]:
        try:  # UpdateEndpoint would accept the config, then fail the update on the missing model
            sagemaker.describe_model(ModelName=model)
        except sagemaker.exceptions.ClientError:
            return Switch(pin, "skipped", f"model {model} of endpoint config {pin.target} no longer exists")
    sagemaker.update_endpoint(EndpointName=pin.name, EndpointConfigName=pin.target)
    return Switch(pin, "moved", f"to endpoint config {pin.target}")


def _physical(pin: Pin) -> str:
    if pin.kind == SERVICE:
        return f"arn:aws:ecs:::service/{pin.scope}/{pin.name}"
    if pin.kind == ALIAS:
        return f"arn:aws:lambda:::function:{pin.scope}:{pin.name}"
    return pin.name


def _wait(pin: Pin, clients: Any, delay: float) -> None:
    """Until the switched resource serves again: the service stable, the endpoint InService (an alias at once)."""
    config = {"Delay": delay, "MaxAttempts": int(1800 / max(delay, 0.1))}
    if pin.kind == SERVICE:
        clients.client("ecs").get_waiter("services_stable").wait(cluster=pin.scope, services=[pin.name],
                                                                 WaiterConfig=config)
    elif pin.kind == ENDPOINT:
        clients.client("sagemaker").get_waiter("endpoint_in_service").wait(EndpointName=pin.name,
                                                                           WaiterConfig=config)
