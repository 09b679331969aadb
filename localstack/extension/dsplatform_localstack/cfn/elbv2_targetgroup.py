"""AWS::ElasticLoadBalancingV2::TargetGroup: Ref is the ARN; GetAtt TargetGroupFullName, LoadBalancerArns..."""

from __future__ import annotations

from typing import Any, ClassVar

from localstack.services.cloudformation.resource_provider import ResourceProvider

from dsplatform_localstack.cfn.convert import ok
from dsplatform_localstack.cfn.elbv2_common import attributes, default_name, replace_tags, tags

_CREATE_ONLY = ("Name", "Port", "Protocol", "ProtocolVersion", "TargetType", "VpcId", "IpAddressType")
_HEALTH = (
    "HealthCheckProtocol",
    "HealthCheckPort",
    "HealthCheckPath",
    "HealthCheckEnabled",
    "HealthCheckIntervalSeconds",
    "HealthCheckTimeoutSeconds",
    "HealthyThresholdCount",
    "UnhealthyThresholdCount",
    "Matcher",
)
_INTS = {
    "Port",
    "HealthCheckIntervalSeconds",
    "HealthCheckTimeoutSeconds",
    "HealthyThresholdCount",
    "UnhealthyThresholdCount",
}


def _value(key: str, value: Any) -> Any:
    if key in _INTS:
        return int(value)
    if key == "HealthCheckEnabled" and isinstance(value, str):
        return value.lower() == "true"
    if key == "HealthCheckPort":
        return str(value)
    return value


def _targets(model: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"Id": t["Id"], **({"Port": int(t["Port"])} if t.get("Port") else {})} for t in model.get("Targets") or []]


def _read(client: Any, model: dict[str, Any]) -> None:
    group = client.describe_target_groups(TargetGroupArns=[model["TargetGroupArn"]])["TargetGroups"][0]
    model["TargetGroupName"] = group["TargetGroupName"]
    model["TargetGroupFullName"] = "targetgroup/" + group["TargetGroupArn"].split(":targetgroup/")[1]
    model["LoadBalancerArns"] = group.get("LoadBalancerArns", [])


class TargetGroupProvider(ResourceProvider[dict]):
    """CreateTargetGroup in moto's ELBv2; the extension health-checks its targets for real."""

    TYPE = "AWS::ElasticLoadBalancingV2::TargetGroup"
    SCHEMA: ClassVar[dict[str, Any]] = {
        "typeName": TYPE,
        "properties": {},
        "primaryIdentifier": ["/properties/TargetGroupArn"],
        "readOnlyProperties": [
            f"/properties/{name}"
            for name in ("TargetGroupArn", "TargetGroupFullName", "TargetGroupName", "LoadBalancerArns")
        ],
        "createOnlyProperties": [f"/properties/{name}" for name in _CREATE_ONLY],
    }

    def create(self, request: Any) -> Any:
        """CreateTargetGroup, then attributes and targets."""
        model = request.desired_state
        client = request.aws_client_factory.elbv2
        kwargs: dict[str, Any] = {
            "Name": model.get("Name") or default_name(request.stack_name, request.logical_resource_id)
        }
        for key in ("Port", "Protocol", "ProtocolVersion", "TargetType", "VpcId", "IpAddressType", *_HEALTH):
            if model.get(key) is not None:
                kwargs[key] = _value(key, model[key])
        if tags(model):
            kwargs["Tags"] = tags(model)
        group = client.create_target_group(**kwargs)["TargetGroups"][0]
        model["TargetGroupArn"] = group["TargetGroupArn"]
        if model.get("TargetGroupAttributes"):
            client.modify_target_group_attributes(
                TargetGroupArn=model["TargetGroupArn"], Attributes=attributes(model["TargetGroupAttributes"])
            )
        if _targets(model):
            client.register_targets(TargetGroupArn=model["TargetGroupArn"], Targets=_targets(model))
        _read(client, model)
        return ok(request, model)

    def update(self, request: Any) -> Any:
        """ModifyTargetGroup (health check), attributes, targets and tags in place."""
        previous = request.previous_state or {}
        model = {**request.desired_state, "TargetGroupArn": previous["TargetGroupArn"]}
        client = request.aws_client_factory.elbv2
        arn = model["TargetGroupArn"]
        health = {k: _value(k, model[k]) for k in _HEALTH if model.get(k) is not None}
        if health:
            client.modify_target_group(TargetGroupArn=arn, **health)
        if model.get("TargetGroupAttributes"):
            client.modify_target_group_attributes(
                TargetGroupArn=arn, Attributes=attributes(model["TargetGroupAttributes"])
            )
        old, new = _targets(previous), _targets(model)
        gone = [t for t in old if t not in new]
        if gone:
            client.deregister_targets(TargetGroupArn=arn, Targets=gone)
        added = [t for t in new if t not in old]
        if added:
            client.register_targets(TargetGroupArn=arn, Targets=added)
        replace_tags(client, arn, tags(previous), tags(model))
        _read(client, model)
        return ok(request, model)

    def delete(self, request: Any) -> Any:
        """DeleteTargetGroup."""
        model = request.desired_state
        if model.get("TargetGroupArn"):
            request.aws_client_factory.elbv2.delete_target_group(TargetGroupArn=model["TargetGroupArn"])
        return ok(request, model)
