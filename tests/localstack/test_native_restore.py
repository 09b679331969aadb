"""Native rollback of an ECS service on LocalStack: UpdateService back to the pinned task definition revision.
Its calls (capture, restore and the wait) are checked against the bootstrap's deploy role policy."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dsplatform.native import SERVICE, capture, restore
from dsplatform.stackspec import Plan, StackSpec, Target
from tests.deploy_role import assert_deploy_role_allows, recording_clients
from tests.localstack.support import ACCOUNT, REGION, network, unique

pytestmark = pytest.mark.localstack
WAITER = {"Delay": 1, "MaxAttempts": 120}


def _template(name: str, message: str, net: dict[str, Any], retain: bool) -> dict[str, Any]:
    definition: dict[str, Any] = {
        "Type": "AWS::ECS::TaskDefinition",
        "Properties": {
            "Family": name, "Cpu": "256", "Memory": "512", "NetworkMode": "awsvpc",
            "RequiresCompatibilities": ["FARGATE"],
            "ContainerDefinitions": [{"Name": "app", "Image": "python:3.11-slim",
                                      "Command": ["python", "-c", f"import time; print({message!r}); "
                                                                  "time.sleep(600)"]}],
        },
    }
    if retain:  # the revision stays registered when an update replaces it, so a rollback can run it again
        definition["UpdateReplacePolicy"] = "Retain"
    return {"Resources": {
        "Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {"ClusterName": name}},
        "TaskDefinition": definition,
        "Service": {"Type": "AWS::ECS::Service", "Properties": {
            "ServiceName": name, "Cluster": {"Ref": "Cluster"}, "TaskDefinition": {"Ref": "TaskDefinition"},
            "DesiredCount": 1, "LaunchType": "FARGATE",
            "NetworkConfiguration": {"AwsvpcConfiguration": {"Subnets": net["subnets"],
                                                             "SecurityGroups": net["securityGroups"]}}}},
    }}


@pytest.mark.parametrize("retain", [True, False])
def test_service_goes_back_to_the_pinned_revision_when_it_is_still_registered(localstack: Any, retain: bool) -> None:
    cfn, ecs = localstack.client("cloudformation", ACCOUNT), localstack.client("ecs", ACCOUNT)
    name = unique("native")
    net = network(localstack.client("ec2", ACCOUNT))["awsvpcConfiguration"]
    template = _template(name, "v1", net, retain)
    plan = Plan(Target(env="t", account_id=ACCOUNT, region=REGION, kind="localstack",
                       endpoint_url=localstack.endpoint_url, project="native"),
                (StackSpec(name=name, component="api", template=template),))
    clients, recorder = recording_clients(plan.target)  # what `invoke rollback` uses: checked against its role
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))
    try:
        cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=WAITER)
        (first,) = capture(plan, clients)
        assert first.kind == SERVICE and first.scope == name and first.target.endswith(":1")
        cfn.update_stack(StackName=name, TemplateBody=json.dumps(_template(name, "v2", net, retain)))
        cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=WAITER)
        (second,) = capture(plan, clients)
        assert second.target != first.target

        (switch,) = restore((first,), clients, delay=0.5)
        now = ecs.describe_services(cluster=name, services=[name])["services"][0]
        if retain:
            assert switch.outcome == "moved" and now["taskDefinition"] == first.target
            assert now["runningCount"] == 1 and len(now["deployments"]) == 1  # stable on release 1's revision
        else:  # CloudFormation deregistered the replaced revision: the change sets must register it again
            assert switch.outcome == "skipped" and "INACTIVE" in switch.detail
            assert now["taskDefinition"] == second.target
    finally:
        cfn.delete_stack(StackName=name)
        cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=WAITER)
    assert_deploy_role_allows(recorder, "native")
