"""AWS::ECS::Service: Ref is the service ARN; GetAtt Name and ServiceArn (as on AWS).

As on AWS, create and update wait until the service's deployment completes (its tasks run and pass the load
balancer's health checks); a deployment the circuit breaker fails fails the resource with AWS's message.
"""

from __future__ import annotations

from typing import Any, ClassVar

import localstack.services.cloudformation.provider_utils as util
from localstack.services.cloudformation.resource_provider import ResourceProvider

from dsplatform_localstack.cfn.convert import camel, ecs_tags, ok

_CREATE_ONLY = ("Cluster", "DeploymentController", "LaunchType", "Role", "SchedulingStrategy", "ServiceName")
_PASSTHROUGH = (
    "TaskDefinition",
    "LaunchType",
    "PlatformVersion",
    "SchedulingStrategy",
    "Role",
    "EnableECSManagedTags",
    "PropagateTags",
    "EnableExecuteCommand",
    "HealthCheckGracePeriodSeconds",
)


def _network(model: dict[str, Any]) -> dict[str, Any] | None:
    config = model.get("NetworkConfiguration")
    return camel(config) if config else None


def _deployment_state(request: Any, model: dict[str, Any]) -> Any:
    """SUCCESS once the awaited deployment completed, FAILED if it failed, else IN_PROGRESS (asked again)."""
    from localstack.services.cloudformation.resource_provider import OperationStatus, ProgressEvent

    from dsplatform_localstack.alb.deployments import CFN_CIRCUIT_BREAKER_MESSAGE

    context = dict(request.custom_context or {})
    awaited = context.get("DeploymentId")
    service = request.aws_client_factory.ecs.describe_services(
        cluster=model.get("Cluster", "default"), services=[model["ServiceArn"]]
    )["services"][0]
    deployment = next((d for d in service.get("deployments", []) if d["id"] == awaited), None)
    if awaited is None or (deployment is not None and deployment.get("rolloutState") == "COMPLETED"):
        return ok(request, model)
    failed = deployment is None or deployment.get("rolloutState") == "FAILED"
    if failed:
        tripped = any(f"(deployment {awaited}) deployment failed" in e["message"] for e in service.get("events", []))
        message = CFN_CIRCUIT_BREAKER_MESSAGE if tripped else f"ECS deployment {awaited} was superseded or failed."
        return ProgressEvent(status=OperationStatus.FAILED, resource_model=model, message=message)
    return ProgressEvent(status=OperationStatus.IN_PROGRESS, resource_model=model, custom_context=context)


def _await(request: Any, model: dict[str, Any], service: dict[str, Any]) -> Any:
    """Start waiting on the service's PRIMARY deployment."""
    primary = next((d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), None)
    request.custom_context = {**(request.custom_context or {}), "DeploymentId": primary["id"] if primary else None}
    return _deployment_state(request, model)


class EcsServiceProvider(ResourceProvider[dict]):
    """Creates services in moto's ECS backend; the extension's scheduler runs their tasks."""

    TYPE = "AWS::ECS::Service"
    SCHEMA: ClassVar[dict[str, Any]] = {
        "typeName": TYPE,
        "properties": {},
        "primaryIdentifier": ["/properties/ServiceArn"],
        "readOnlyProperties": ["/properties/ServiceArn", "/properties/Name"],
        "createOnlyProperties": [f"/properties/{name}" for name in _CREATE_ONLY],
    }

    def create(self, request: Any) -> Any:
        """CreateService."""
        model = request.desired_state
        if (request.custom_context or {}).get("DeploymentId"):
            return _deployment_state(request, model)
        if not model.get("ServiceName"):
            model["ServiceName"] = util.generate_default_name(request.stack_name, request.logical_resource_id)
        kwargs: dict[str, Any] = {"serviceName": model["ServiceName"], "cluster": model.get("Cluster", "default")}
        kwargs.update({n[:1].lower() + n[1:]: model[n] for n in _PASSTHROUGH if model.get(n) is not None})
        if "healthCheckGracePeriodSeconds" in kwargs:
            kwargs["healthCheckGracePeriodSeconds"] = int(kwargs["healthCheckGracePeriodSeconds"])
        if "enableECSManagedTags" in kwargs:
            kwargs["enableECSManagedTags"] = bool(kwargs["enableECSManagedTags"])
        kwargs["desiredCount"] = int(model.get("DesiredCount", 1))
        if _network(model):
            kwargs["networkConfiguration"] = _network(model)
        for name in (
            "LoadBalancers",
            "ServiceRegistries",
            "DeploymentConfiguration",
            "PlacementConstraints",
            "PlacementStrategies",
            "CapacityProviderStrategy",
            "DeploymentController",
        ):
            if model.get(name):
                key = "placementStrategy" if name == "PlacementStrategies" else name[:1].lower() + name[1:]
                kwargs[key] = camel(model[name])
        if model.get("Tags"):
            kwargs["tags"] = ecs_tags(model["Tags"])
        service = request.aws_client_factory.ecs.create_service(**kwargs)["service"]
        model["ServiceArn"] = service["serviceArn"]
        model["Name"] = service["serviceName"]
        return _await(request, model, service)

    def update(self, request: Any) -> Any:
        """UpdateService (task definition, desired count, network, deployment settings), then wait as AWS does."""
        previous = request.previous_state or {}
        model = {**previous, **request.desired_state}
        model["ServiceArn"], model["Name"] = previous.get("ServiceArn"), previous.get("Name")
        if (request.custom_context or {}).get("DeploymentId"):
            return _deployment_state(request, model)
        kwargs: dict[str, Any] = {"cluster": model.get("Cluster", "default"), "service": model["Name"]}
        if model.get("TaskDefinition"):
            kwargs["taskDefinition"] = model["TaskDefinition"]
        kwargs["desiredCount"] = int(model.get("DesiredCount", 1))
        if _network(model):
            kwargs["networkConfiguration"] = _network(model)
        for name in ("DeploymentConfiguration", "LoadBalancers"):
            if model.get(name):
                kwargs[name[:1].lower() + name[1:]] = camel(model[name])
        if model.get("HealthCheckGracePeriodSeconds") is not None:
            kwargs["healthCheckGracePeriodSeconds"] = int(model["HealthCheckGracePeriodSeconds"])
        service = request.aws_client_factory.ecs.update_service(**kwargs)["service"]
        return _await(request, model, service)

    def delete(self, request: Any) -> Any:
        """DeleteService (forced, as CloudFormation drains it first)."""
        model = request.desired_state
        request.aws_client_factory.ecs.delete_service(
            cluster=model.get("Cluster", "default"), service=model.get("Name") or model["ServiceArn"], force=True
        )
        return ok(request, model)
