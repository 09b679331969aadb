"""Stack updates through the extension's providers: new task definition revisions, services, retention."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.localstack.support import ACCOUNT, network, unique

pytestmark = pytest.mark.localstack
WAITER = {"Delay": 1, "MaxAttempts": 120}


def _template(name: str, message: str, retention: int, desired: int, net: dict[str, Any]) -> str:
    return json.dumps(
        {
            "Resources": {
                "Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {"ClusterName": name}},
                "Logs": {
                    "Type": "AWS::Logs::LogGroup",
                    "Properties": {"LogGroupName": f"/ecs/{name}", "RetentionInDays": retention},
                },
                "TaskDefinition": {
                    "Type": "AWS::ECS::TaskDefinition",
                    "Properties": {
                        "Family": name,
                        "Cpu": "256",
                        "Memory": "512",
                        "NetworkMode": "awsvpc",
                        "RequiresCompatibilities": ["FARGATE"],
                        "ContainerDefinitions": [
                            {
                                "Name": "job",
                                "Image": "python:3.11-slim",
                                # A service's task keeps running (one that exits is replaced, never stable).
                                "Command": ["python", "-c", _serve(message)],
                            }
                        ],
                    },
                },
                "Service": {
                    "Type": "AWS::ECS::Service",
                    "Properties": {
                        "ServiceName": name,
                        "Cluster": {"Ref": "Cluster"},
                        "TaskDefinition": {"Ref": "TaskDefinition"},
                        "DesiredCount": desired,
                        "LaunchType": "FARGATE",
                        "NetworkConfiguration": {
                            "AwsvpcConfiguration": {"Subnets": net["subnets"], "SecurityGroups": net["securityGroups"]}
                        },
                    },
                },
            },
            "Outputs": {
                "TaskDefinitionArn": {"Value": {"Ref": "TaskDefinition"}},
                "ServiceArn": {"Value": {"Ref": "Service"}},
                "ServiceName": {"Value": {"Fn::GetAtt": ["Service", "Name"]}},
            },
        }
    )


def _serve(message: str) -> str:
    return f"import time; print({message!r}); time.sleep(600)"


def _outputs(cfn: Any, name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_update_registers_a_new_revision_and_updates_service_and_retention(localstack: Any) -> None:
    cfn, ecs, logs = (localstack.client(s, ACCOUNT) for s in ("cloudformation", "ecs", "logs"))
    name = unique("lsupdate")
    net = network(localstack.client("ec2", ACCOUNT))["awsvpcConfiguration"]
    cfn.create_stack(StackName=name, TemplateBody=_template(name, "v1", 7, 0, net))
    try:
        cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=WAITER)
        before = _outputs(cfn, name)
        assert before["TaskDefinitionArn"].endswith(f":task-definition/{name}:1")
        assert before["ServiceArn"] == f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/{name}/{name}"
        assert before["ServiceName"] == name

        cfn.update_stack(StackName=name, TemplateBody=_template(name, "v2", 30, 1, net))
        cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=WAITER)
        after = _outputs(cfn, name)
        assert after["TaskDefinitionArn"].endswith(f":task-definition/{name}:2")
        revision = ecs.describe_task_definition(taskDefinition=after["TaskDefinitionArn"])["taskDefinition"]
        assert revision["containerDefinitions"][0]["command"] == ["python", "-c", _serve("v2")]
        service = ecs.describe_services(cluster=name, services=[name])["services"][0]
        assert service["taskDefinition"] == after["TaskDefinitionArn"]
        assert service["desiredCount"] == 1
        assert (service["runningCount"], service["deployments"][0]["rolloutState"]) == (1, "COMPLETED")
        group = logs.describe_log_groups(logGroupNamePrefix=f"/ecs/{name}")["logGroups"][0]
        assert group["retentionInDays"] == 30
    finally:
        cfn.delete_stack(StackName=name)
        cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=WAITER)
    clusters = ecs.describe_clusters(clusters=[name])["clusters"]
    assert [c["status"] for c in clusters] in ([], ["INACTIVE"])  # the stack's delete removed the cluster


def _update(cfn: Any, name: str, resources: dict[str, Any], via: str) -> None:
    body = json.dumps({"Resources": resources})
    if via == "update_stack":
        cfn.update_stack(StackName=name, TemplateBody=body)
        return
    change_set = unique("cs")
    cfn.create_change_set(StackName=name, ChangeSetName=change_set, TemplateBody=body, ChangeSetType="UPDATE")
    cfn.get_waiter("change_set_create_complete").wait(StackName=name, ChangeSetName=change_set, WaiterConfig=WAITER)
    cfn.execute_change_set(StackName=name, ChangeSetName=change_set)


@pytest.mark.parametrize("via", ["update_stack", "change_set"])
def test_after_a_failed_update_the_stack_keeps_its_old_template_and_updates_again(localstack: Any, via: str) -> None:
    cfn, ssm = localstack.client("cloudformation", ACCOUNT), localstack.client("ssm", ACCOUNT)
    name = unique("lsrollback")
    queue = {"Queue": {"Type": "AWS::SQS::Queue"}}
    bad = {
        "Bad": {"Type": "AWS::SSM::Parameter", "Properties": {"Name": f"/{name}/bad", "Type": "NotAType", "Value": "x"}}
    }
    param = {
        "Param": {"Type": "AWS::SSM::Parameter", "Properties": {"Name": f"/{name}/x", "Type": "String", "Value": "x"}}
    }
    cfn.create_stack(StackName=name, TemplateBody=json.dumps({"Resources": queue}))
    try:
        cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=WAITER)
        _update(cfn, name, {**queue, **bad}, via)
        with pytest.raises(Exception, match="UPDATE_ROLLBACK_COMPLETE"):
            cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=WAITER)
        assert set(cfn.get_template(StackName=name)["TemplateBody"]["Resources"]) == {"Queue"}
        _update(cfn, name, {**queue, **param}, via)
        cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=WAITER)
        assert ssm.get_parameter(Name=f"/{name}/x")["Parameter"]["Value"] == "x"
    finally:
        cfn.delete_stack(StackName=name)
        cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=WAITER)


def _monitoring(name: str, schedule: str, threshold: int, target_ids: list[str], sid: str) -> str:
    return json.dumps(
        {
            "Resources": {
                "Topic": {"Type": "AWS::SNS::Topic"},
                "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": name}},
                "Policy": {
                    "Type": "AWS::S3::BucketPolicy",
                    "Properties": {
                        "Bucket": {"Ref": "Bucket"},
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Sid": sid,
                                    "Effect": "Deny",
                                    "Principal": "*",
                                    "Action": "s3:GetObject",
                                    "Resource": f"arn:aws:s3:::{name}/*",
                                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                                }
                            ],
                        },
                    },
                },
                "Rule": {
                    "Type": "AWS::Events::Rule",
                    "Properties": {
                        "ScheduleExpression": schedule,
                        "State": "ENABLED",
                        "Targets": [{"Id": i, "Arn": {"Ref": "Topic"}} for i in target_ids],
                    },
                },
                "Alarm": {
                    "Type": "AWS::CloudWatch::Alarm",
                    "Properties": {
                        "MetricName": "ExecutionsFailed",
                        "Namespace": "AWS/States",
                        "Statistic": "Sum",
                        "Period": 300,
                        "EvaluationPeriods": 1,
                        "Threshold": threshold,
                        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                    },
                },
            },
            "Outputs": {"RuleName": {"Value": {"Ref": "Rule"}}, "AlarmName": {"Value": {"Ref": "Alarm"}}},
        }
    )


def test_rule_alarm_and_bucket_policy_updates_are_applied_in_place(localstack: Any) -> None:
    cfn, events = localstack.client("cloudformation", ACCOUNT), localstack.client("events", ACCOUNT)
    cloudwatch, s3 = localstack.client("cloudwatch", ACCOUNT), localstack.client("s3", ACCOUNT)
    name = unique("lsinplace")
    cfn.create_stack(StackName=name, TemplateBody=_monitoring(name, "rate(1 hour)", 1, ["a", "b"], "v1"))
    try:
        cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=WAITER)
        before = _outputs(cfn, name)
        cfn.update_stack(StackName=name, TemplateBody=_monitoring(name, "rate(2 hours)", 5, ["a"], "v2"))
        cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=WAITER)
        after = _outputs(cfn, name)
        assert after == before  # same physical names: updated in place, not replaced
        assert events.describe_rule(Name=after["RuleName"])["ScheduleExpression"] == "rate(2 hours)"
        assert [t["Id"] for t in events.list_targets_by_rule(Rule=after["RuleName"])["Targets"]] == ["a"]
        alarm = cloudwatch.describe_alarms(AlarmNames=[after["AlarmName"]])["MetricAlarms"][0]
        assert alarm["Threshold"] == 5
        assert json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])["Statement"][0]["Sid"] == "v2"
    finally:
        cfn.delete_stack(StackName=name)
        cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=WAITER)
