"""AWS::ElasticLoadBalancingV2::Listener and ListenerRule: Ref is the ARN (as on AWS)."""

from __future__ import annotations

from typing import Any, ClassVar

from localstack.services.cloudformation.resource_provider import ResourceProvider

from dsplatform_localstack.cfn.convert import ok
from dsplatform_localstack.cfn.elbv2_common import actions


def _certificates(model: dict[str, Any]) -> list[dict[str, str]]:
    return [{"CertificateArn": c["CertificateArn"]} for c in model.get("Certificates") or []]


class ListenerProvider(ResourceProvider[dict]):
    """CreateListener in moto's ELBv2; the extension serves it on a local port (tag dsplatform:local-url)."""

    TYPE = "AWS::ElasticLoadBalancingV2::Listener"
    SCHEMA: ClassVar[dict[str, Any]] = {
        "typeName": TYPE,
        "properties": {},
        "primaryIdentifier": ["/properties/ListenerArn"],
        "readOnlyProperties": ["/properties/ListenerArn"],
        "createOnlyProperties": ["/properties/LoadBalancerArn"],
    }

    def create(self, request: Any) -> Any:
        """CreateListener."""
        model = request.desired_state
        kwargs: dict[str, Any] = {
            "LoadBalancerArn": model["LoadBalancerArn"],
            "DefaultActions": actions(model.get("DefaultActions")),
        }
        if model.get("Port") is not None:
            kwargs["Port"] = int(model["Port"])
        for key in ("Protocol", "SslPolicy", "AlpnPolicy"):
            if model.get(key):
                kwargs[key] = model[key]
        if _certificates(model):
            kwargs["Certificates"] = _certificates(model)
        listener = request.aws_client_factory.elbv2.create_listener(**kwargs)["Listeners"][0]
        model["ListenerArn"] = listener["ListenerArn"]
        return ok(request, model)

    def update(self, request: Any) -> Any:
        """ModifyListener (port, protocol, certificates, default actions)."""
        previous = request.previous_state or {}
        model = {**request.desired_state, "ListenerArn": previous["ListenerArn"]}
        kwargs: dict[str, Any] = {
            "ListenerArn": model["ListenerArn"],
            "DefaultActions": actions(model.get("DefaultActions")),
        }
        if model.get("Port") is not None:
            kwargs["Port"] = int(model["Port"])
        for key in ("Protocol", "SslPolicy"):
            if model.get(key):
                kwargs[key] = model[key]
        if _certificates(model):
            kwargs["Certificates"] = _certificates(model)
        request.aws_client_factory.elbv2.modify_listener(**kwargs)
        return ok(request, model)

    def delete(self, request: Any) -> Any:
        """DeleteListener (its local server stops)."""
        model = request.desired_state
        if model.get("ListenerArn"):
            request.aws_client_factory.elbv2.delete_listener(ListenerArn=model["ListenerArn"])
        return ok(request, model)


class ListenerRuleProvider(ResourceProvider[dict]):
    """CreateRule in moto's ELBv2; the local listener evaluates it."""

    TYPE = "AWS::ElasticLoadBalancingV2::ListenerRule"
    SCHEMA: ClassVar[dict[str, Any]] = {
        "typeName": TYPE,
        "properties": {},
        "primaryIdentifier": ["/properties/RuleArn"],
        "readOnlyProperties": ["/properties/RuleArn", "/properties/IsDefault"],
        "createOnlyProperties": ["/properties/ListenerArn"],
    }

    def create(self, request: Any) -> Any:
        """CreateRule."""
        model = request.desired_state
        rule = request.aws_client_factory.elbv2.create_rule(
            ListenerArn=model["ListenerArn"],
            Priority=int(model["Priority"]),
            Conditions=model.get("Conditions") or [],
            Actions=actions(model.get("Actions")),
        )["Rules"][0]
        model["RuleArn"], model["IsDefault"] = rule["RuleArn"], bool(rule.get("IsDefault"))
        return ok(request, model)

    def update(self, request: Any) -> Any:
        """ModifyRule and SetRulePriorities."""
        previous = request.previous_state or {}
        model = {**request.desired_state, "RuleArn": previous["RuleArn"], "IsDefault": previous.get("IsDefault")}
        client = request.aws_client_factory.elbv2
        client.modify_rule(
            RuleArn=model["RuleArn"], Conditions=model.get("Conditions") or [], Actions=actions(model.get("Actions"))
        )
        if str(model.get("Priority")) != str(previous.get("Priority")):
            client.set_rule_priorities(
                RulePriorities=[{"RuleArn": model["RuleArn"], "Priority": int(model["Priority"])}]
            )
        return ok(request, model)

    def delete(self, request: Any) -> Any:
        """DeleteRule."""
        model = request.desired_state
        if model.get("RuleArn"):
            request.aws_client_factory.elbv2.delete_rule(RuleArn=model["RuleArn"])
        return ok(request, model)
