"""AWS::ECS::Service: Ref is the service ARN; GetAtt Name and ServiceArn (as on AWS)."""

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


class EcsServiceProvider(ResourceProvider[dict]):
    """Creates services in moto's ECS backend (moto does not schedule their tasks)."""

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
        if not model.get("ServiceName"):
            model["ServiceName"] = util.generate_default_name(request.stack_name, request.logical_resource_id)
        kwargs: dict[str, Any] = {"serviceName": model["ServiceName"], "cluster": model.get("Cluster", "default")}
        kwargs.update({n[:1].lower() + n[1:]: model[n] for n in _PASSTHROUGH if model.get(n) is not None})
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
        return ok(request, model)

    def update(self, request: Any) -> Any:
        """UpdateService (task definition, desired count, network configuration)."""
        previous = request.previous_state or {}
        model = {**previous, **request.desired_state}
        model["ServiceArn"], model["Name"] = previous.get("ServiceArn"), previous.get("Name")
        kwargs: dict[str, Any] = {"cluster": model.get("Cluster", "default"), "service": model["Name"]}
        if model.get("TaskDefinition"):
            kwargs["taskDefinition"] = model["TaskDefinition"]
        kwargs["desiredCount"] = int(model.get("DesiredCount", 1))
        if _network(model):
            kwargs["networkConfiguration"] = _network(model)
        request.aws_client_factory.ecs.update_service(**kwargs)
        return ok(request, model)

    def delete(self, request: Any) -> Any:
        """DeleteService (forced, as CloudFormation drains it first)."""
        model = request.desired_state
        request.aws_client_factory.ecs.delete_service(
            cluster=model.get("Cluster", "default"), service=model.get("Name") or model["ServiceArn"], force=True
        )
        return ok(request, model)
