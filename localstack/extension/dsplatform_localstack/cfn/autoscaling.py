"""AWS::ApplicationAutoScaling::ScalableTarget and ::ScalingPolicy, stored in moto's backend (Ref as on AWS)."""

from __future__ import annotations

from typing import Any, ClassVar

from localstack.services.cloudformation.resource_provider import ResourceProvider

from dsplatform_localstack.cfn.convert import ok
from dsplatform_localstack.cfn.plugins import _Plugin
from dsplatform_localstack.cfn.shapes import cast_numbers, target_id


def _gone(call: Any, **kwargs: Any) -> None:
    """Make a delete call; a target or policy that does not exist (never created, or gone) is already deleted."""
    try:
        call(**kwargs)
    except Exception as err:
        if "NotFound" not in type(err).__name__ and "NotFound" not in str(err):
            raise


class ScalableTargetProvider(ResourceProvider[dict]):
    """RegisterScalableTarget."""

    TYPE = "AWS::ApplicationAutoScaling::ScalableTarget"
    SCHEMA: ClassVar[dict[str, Any]] = {
        "typeName": TYPE,
        "properties": {},
        "primaryIdentifier": ["/properties/Id"],
        "readOnlyProperties": ["/properties/Id"],
        "createOnlyProperties": [
            "/properties/ResourceId",
            "/properties/ScalableDimension",
            "/properties/ServiceNamespace",
        ],
    }

    def _register(self, request: Any, model: dict[str, Any]) -> Any:
        kwargs = {
            "ServiceNamespace": model["ServiceNamespace"],
            "ResourceId": model["ResourceId"],
            "ScalableDimension": model["ScalableDimension"],
            "MinCapacity": int(model["MinCapacity"]),
            "MaxCapacity": int(model["MaxCapacity"]),
        }
        if model.get("RoleARN"):
            kwargs["RoleARN"] = model["RoleARN"]
        request.aws_client_factory.application_autoscaling.register_scalable_target(**kwargs)
        model["Id"] = target_id(model["ResourceId"], model["ScalableDimension"], model["ServiceNamespace"])
        return ok(request, model)

    def create(self, request: Any) -> Any:
        """RegisterScalableTarget."""
        return self._register(request, request.desired_state)

    def update(self, request: Any) -> Any:
        """RegisterScalableTarget again (capacities, role)."""
        return self._register(request, {**(request.previous_state or {}), **request.desired_state})

    def delete(self, request: Any) -> Any:
        """DeregisterScalableTarget."""
        model = request.desired_state
        if model.get("Id"):
            _gone(
                request.aws_client_factory.application_autoscaling.deregister_scalable_target,
                ServiceNamespace=model["ServiceNamespace"],
                ResourceId=model["ResourceId"],
                ScalableDimension=model["ScalableDimension"],
            )
        return ok(request, model)


class ScalingPolicyProvider(ResourceProvider[dict]):
    """PutScalingPolicy (target tracking or step scaling)."""

    TYPE = "AWS::ApplicationAutoScaling::ScalingPolicy"
    SCHEMA: ClassVar[dict[str, Any]] = {
        "typeName": TYPE,
        "properties": {},
        "primaryIdentifier": ["/properties/Arn"],
        "readOnlyProperties": ["/properties/Arn"],
        "createOnlyProperties": ["/properties/PolicyName", "/properties/ScalingTargetId"],
    }

    def _target(self, model: dict[str, Any]) -> tuple[str, str, str]:
        if model.get("ScalingTargetId"):
            resource_id, dimension, namespace = str(model["ScalingTargetId"]).split("|")
            return resource_id, dimension, namespace
        return model["ResourceId"], model["ScalableDimension"], model["ServiceNamespace"]

    def _put(self, request: Any, model: dict[str, Any]) -> Any:
        resource_id, dimension, namespace = self._target(model)
        kwargs: dict[str, Any] = {
            "PolicyName": model["PolicyName"],
            "PolicyType": model["PolicyType"],
            "ServiceNamespace": namespace,
            "ResourceId": resource_id,
            "ScalableDimension": dimension,
        }
        for key in ("TargetTrackingScalingPolicyConfiguration", "StepScalingPolicyConfiguration"):
            if model.get(key):
                kwargs[key] = cast_numbers(model[key])
        arn = request.aws_client_factory.application_autoscaling.put_scaling_policy(**kwargs)["PolicyARN"]
        model["Arn"] = arn
        return ok(request, model)

    def create(self, request: Any) -> Any:
        """PutScalingPolicy."""
        return self._put(request, request.desired_state)

    def update(self, request: Any) -> Any:
        """PutScalingPolicy again (it replaces the configuration)."""
        return self._put(request, {**(request.previous_state or {}), **request.desired_state})

    def delete(self, request: Any) -> Any:
        """DeleteScalingPolicy."""
        model = request.desired_state
        if model.get("Arn"):
            resource_id, dimension, namespace = self._target(model)
            _gone(
                request.aws_client_factory.application_autoscaling.delete_scaling_policy,
                PolicyName=model["PolicyName"],
                ServiceNamespace=namespace,
                ResourceId=resource_id,
                ScalableDimension=dimension,
            )
        return ok(request, model)


class ScalableTargetPlugin(_Plugin):
    """AWS::ApplicationAutoScaling::ScalableTarget."""

    name = "AWS::ApplicationAutoScaling::ScalableTarget"
    _module, _class = "dsplatform_localstack.cfn.autoscaling", "ScalableTargetProvider"


class ScalingPolicyPlugin(_Plugin):
    """AWS::ApplicationAutoScaling::ScalingPolicy."""

    name = "AWS::ApplicationAutoScaling::ScalingPolicy"
    _module, _class = "dsplatform_localstack.cfn.autoscaling", "ScalingPolicyProvider"
