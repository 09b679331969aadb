"""AWS::EC2::SecurityGroupIngress and ::SecurityGroupEgress (the community runtime has no provider for them).

Stand-alone rules are how a template lets two groups reference each other without a cycle (the ALB's egress
to the tasks' group, the tasks' ingress from the ALB's group). Each becomes one rule in EC2 (moto); Ref is
the rule id. Rules are stored, never enforced, like every security group here.
"""

from __future__ import annotations

from typing import Any, ClassVar

from localstack.services.cloudformation.resource_provider import ResourceProvider

from dsplatform_localstack.cfn.convert import ok
from dsplatform_localstack.cfn.plugins import _Plugin
from dsplatform_localstack.cfn.shapes import permission


class _RuleProvider(ResourceProvider[dict]):
    _direction = ""
    _peer = ""
    _cidr = ""

    def create(self, request: Any) -> Any:
        """Authorize the rule."""
        model = request.desired_state
        ec2 = request.aws_client_factory.ec2
        call = getattr(ec2, f"authorize_security_group_{self._direction}")
        answer = call(GroupId=model["GroupId"], IpPermissions=[permission(model, self._peer, self._cidr)])
        rules = answer.get("SecurityGroupRules") or [{}]
        model["Id"] = rules[0].get("SecurityGroupRuleId") or f"{model['GroupId']}-{self._direction}"
        return ok(request, model)

    def update(self, request: Any) -> Any:
        """Every property is create-only on AWS; an update replaces the rule."""
        raise NotImplementedError

    def delete(self, request: Any) -> Any:
        """Revoke the rule (a group deleted first took it along)."""
        model = request.desired_state
        ec2 = request.aws_client_factory.ec2
        try:
            getattr(ec2, f"revoke_security_group_{self._direction}")(
                GroupId=model["GroupId"], IpPermissions=[permission(model, self._peer, self._cidr)]
            )
        except ec2.exceptions.ClientError as err:
            if "NotFound" not in str(err):
                raise
        return ok(request, model)


def _schema(type_name: str) -> dict[str, Any]:
    return {
        "typeName": type_name,
        "properties": {},
        "primaryIdentifier": ["/properties/Id"],
        "readOnlyProperties": ["/properties/Id"],
        "createOnlyProperties": [],
    }


class IngressProvider(_RuleProvider):
    """AuthorizeSecurityGroupIngress."""

    TYPE = "AWS::EC2::SecurityGroupIngress"
    SCHEMA: ClassVar[dict[str, Any]] = _schema(TYPE)
    _direction, _peer, _cidr = "ingress", "SourceSecurityGroupId", "CidrIp"


class EgressProvider(_RuleProvider):
    """AuthorizeSecurityGroupEgress."""

    TYPE = "AWS::EC2::SecurityGroupEgress"
    SCHEMA: ClassVar[dict[str, Any]] = _schema(TYPE)
    _direction, _peer, _cidr = "egress", "DestinationSecurityGroupId", "CidrIp"


class IngressPlugin(_Plugin):
    """AWS::EC2::SecurityGroupIngress."""

    name = "AWS::EC2::SecurityGroupIngress"
    _module, _class = "dsplatform_localstack.cfn.ec2_sg_rules", "IngressProvider"


class EgressPlugin(_Plugin):
    """AWS::EC2::SecurityGroupEgress."""

    name = "AWS::EC2::SecurityGroupEgress"
    _module, _class = "dsplatform_localstack.cfn.ec2_sg_rules", "EgressProvider"
