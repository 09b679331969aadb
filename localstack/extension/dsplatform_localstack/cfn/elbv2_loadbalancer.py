"""AWS::ElasticLoadBalancingV2::LoadBalancer: Ref is the ARN; GetAtt DNSName, LoadBalancerFullName and more."""

from __future__ import annotations

from typing import Any, ClassVar

from localstack.services.cloudformation.resource_provider import ResourceProvider

from dsplatform_localstack.cfn.convert import ok
from dsplatform_localstack.cfn.elbv2_common import attributes, default_name, replace_tags, tags

_CREATE_ONLY = ("Name", "Scheme", "Type")


def _read(client: Any, model: dict[str, Any]) -> None:
    balancer = client.describe_load_balancers(LoadBalancerArns=[model["LoadBalancerArn"]])["LoadBalancers"][0]
    model["DNSName"] = balancer["DNSName"]
    model["CanonicalHostedZoneID"] = balancer.get("CanonicalHostedZoneId", "")
    model["LoadBalancerName"] = balancer["LoadBalancerName"]
    model["LoadBalancerFullName"] = "/".join(balancer["LoadBalancerArn"].split(":loadbalancer/")[1].split("/"))
    model["SecurityGroups"] = balancer.get("SecurityGroups", [])


class LoadBalancerProvider(ResourceProvider[dict]):
    """CreateLoadBalancer in moto's ELBv2 (its listeners are served locally by the extension)."""

    TYPE = "AWS::ElasticLoadBalancingV2::LoadBalancer"
    SCHEMA: ClassVar[dict[str, Any]] = {
        "typeName": TYPE,
        "properties": {},
        "primaryIdentifier": ["/properties/LoadBalancerArn"],
        "readOnlyProperties": [
            f"/properties/{name}"
            for name in (
                "LoadBalancerArn",
                "DNSName",
                "CanonicalHostedZoneID",
                "LoadBalancerFullName",
                "LoadBalancerName",
            )
        ],
        "createOnlyProperties": [f"/properties/{name}" for name in _CREATE_ONLY],
    }

    def create(self, request: Any) -> Any:
        """CreateLoadBalancer, then its attributes."""
        model = request.desired_state
        client = request.aws_client_factory.elbv2
        name = model.get("Name") or default_name(request.stack_name, request.logical_resource_id)
        kwargs: dict[str, Any] = {
            "Name": name,
            "Scheme": model.get("Scheme", "internet-facing"),
            "Type": model.get("Type", "application"),
        }
        for key in ("Subnets", "SubnetMappings", "SecurityGroups", "IpAddressType"):
            if model.get(key):
                kwargs[key] = model[key]
        if tags(model):
            kwargs["Tags"] = tags(model)
        balancer = client.create_load_balancer(**kwargs)["LoadBalancers"][0]
        model["LoadBalancerArn"] = balancer["LoadBalancerArn"]
        if model.get("LoadBalancerAttributes"):
            try:
                client.modify_load_balancer_attributes(
                    LoadBalancerArn=model["LoadBalancerArn"], Attributes=attributes(model["LoadBalancerAttributes"])
                )
            except Exception:
                # Refused attributes (an access-log bucket ELB may not write) fail the resource; AWS creates
                # nothing then, so the balancer made a moment ago goes too.
                client.delete_load_balancer(LoadBalancerArn=model["LoadBalancerArn"])
                raise
        _read(client, model)
        return ok(request, model)

    def update(self, request: Any) -> Any:
        """Security groups, subnets, attributes and tags in place."""
        previous = request.previous_state or {}
        model = {**request.desired_state, "LoadBalancerArn": previous["LoadBalancerArn"]}
        client = request.aws_client_factory.elbv2
        arn = model["LoadBalancerArn"]
        if model.get("SecurityGroups") and model["SecurityGroups"] != previous.get("SecurityGroups"):
            client.set_security_groups(LoadBalancerArn=arn, SecurityGroups=model["SecurityGroups"])
        if model.get("Subnets") and model["Subnets"] != previous.get("Subnets"):
            client.set_subnets(LoadBalancerArn=arn, Subnets=model["Subnets"])
        if model.get("LoadBalancerAttributes"):
            client.modify_load_balancer_attributes(
                LoadBalancerArn=arn, Attributes=attributes(model["LoadBalancerAttributes"])
            )
        replace_tags(client, arn, tags(previous), tags(model))
        _read(client, model)
        return ok(request, model)

    def delete(self, request: Any) -> Any:
        """DeleteLoadBalancer (its listeners' local servers stop)."""
        model = request.desired_state
        if model.get("LoadBalancerArn"):
            request.aws_client_factory.elbv2.delete_load_balancer(LoadBalancerArn=model["LoadBalancerArn"])
        return ok(request, model)
