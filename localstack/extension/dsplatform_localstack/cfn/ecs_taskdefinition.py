"""AWS::ECS::TaskDefinition: Ref and GetAtt TaskDefinitionArn are the revision's ARN (as on AWS)."""

from __future__ import annotations

from typing import Any, ClassVar

import localstack.services.cloudformation.provider_utils as util
from localstack.services.cloudformation.resource_provider import ResourceProvider

from dsplatform_localstack.cfn.convert import camel, ecs_tags, ok

_PROPERTIES = (
    "Family",
    "ContainerDefinitions",
    "Cpu",
    "Memory",
    "NetworkMode",
    "RequiresCompatibilities",
    "ExecutionRoleArn",
    "TaskRoleArn",
    "Volumes",
    "PlacementConstraints",
    "RuntimePlatform",
    "EphemeralStorage",
    "PidMode",
    "IpcMode",
    "ProxyConfiguration",
    "InferenceAccelerators",
)


class EcsTaskDefinitionProvider(ResourceProvider[dict]):
    """Registers task definitions in moto's ECS backend; any change registers a new revision, as on AWS."""

    TYPE = "AWS::ECS::TaskDefinition"
    SCHEMA: ClassVar[dict[str, Any]] = {
        "typeName": TYPE,
        "properties": {},
        "primaryIdentifier": ["/properties/TaskDefinitionArn"],
        "readOnlyProperties": ["/properties/TaskDefinitionArn"],
        "createOnlyProperties": [f"/properties/{name}" for name in _PROPERTIES if name != "Family"],
    }

    def _register(self, request: Any, model: dict[str, Any]) -> dict[str, Any]:
        if not model.get("Family"):
            model["Family"] = util.generate_default_name(request.stack_name, request.logical_resource_id)
        kwargs = {name[:1].lower() + name[1:]: camel(model[name], name) for name in _PROPERTIES if model.get(name)}
        for key in ("cpu", "memory"):  # task-level cpu/memory are strings in the API
            if key in kwargs:
                kwargs[key] = str(kwargs[key])
        if model.get("Tags"):
            kwargs["tags"] = ecs_tags(model["Tags"])
        result = request.aws_client_factory.ecs.register_task_definition(**kwargs)["taskDefinition"]
        model["TaskDefinitionArn"] = result["taskDefinitionArn"]
        return model

    def create(self, request: Any) -> Any:
        """RegisterTaskDefinition."""
        return ok(request, self._register(request, request.desired_state))

    def update(self, request: Any) -> Any:
        """Register a new revision and deregister the previous one."""
        previous = request.previous_state or {}
        model = self._register(request, dict(request.desired_state))
        if previous.get("TaskDefinitionArn") and previous["TaskDefinitionArn"] != model["TaskDefinitionArn"]:
            request.aws_client_factory.ecs.deregister_task_definition(taskDefinition=previous["TaskDefinitionArn"])
        return ok(request, model)

    def delete(self, request: Any) -> Any:
        """DeregisterTaskDefinition (the revision stays INACTIVE, as on AWS)."""
        request.aws_client_factory.ecs.deregister_task_definition(
            taskDefinition=request.desired_state["TaskDefinitionArn"]
        )
        return ok(request, request.desired_state)
