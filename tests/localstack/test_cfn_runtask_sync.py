"""A CloudFormation stack with cluster, task definition and a runTask.sync state machine behaves as on AWS."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.localstack.support import ACCOUNT, network, unique, wait_execution

pytestmark = pytest.mark.localstack

JOB = "import os, sys; print('job run', os.environ['DS_RUN_ID']); sys.exit(int(os.environ['EXIT_CODE']))"
WAITER = {"Delay": 1, "MaxAttempts": 120}


def _definition_string() -> dict[str, Any]:
    definition = {
        "StartAt": "RunJob",
        "States": {
            "RunJob": {
                "Type": "Task",
                "Resource": "arn:aws:states:::ecs:runTask.sync",
                "Parameters": {
                    "Cluster": "${ClusterArn}",
                    "TaskDefinition": "${TaskDefinitionArn}",
                    "LaunchType": "FARGATE",
                    "NetworkConfiguration": {
                        "AwsvpcConfiguration": {
                            "Subnets": ["${SubnetId}"],
                            "SecurityGroups": ["${SecurityGroupId}"],
                            "AssignPublicIp": "DISABLED",
                        }
                    },
                    "Overrides": {
                        "ContainerOverrides": [
                            {
                                "Name": "job",
                                "Environment": [
                                    {"Name": "DS_RUN_ID", "Value.$": "$.run_id"},
                                    {"Name": "EXIT_CODE", "Value.$": "$.exit_code"},
                                ],
                            }
                        ]
                    },
                },
                "End": True,
            }
        },
    }
    return {
        "Fn::Sub": [
            json.dumps(definition),
            {
                "ClusterArn": {"Fn::GetAtt": ["Cluster", "Arn"]},
                "TaskDefinitionArn": {"Ref": "TaskDefinition"},
                "SubnetId": {"Ref": "SubnetId"},
                "SecurityGroupId": {"Ref": "SecurityGroupId"},
            },
        ]
    }


def template(name: str) -> dict[str, Any]:
    """Cluster, log group, task definition, ECR repository, role and a runTask.sync state machine."""
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"SubnetId": {"Type": "String"}, "SecurityGroupId": {"Type": "String"}},
        "Resources": {
            "Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {"ClusterName": name}},
            "Logs": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"LogGroupName": f"/ecs/{name}", "RetentionInDays": 14},
            },
            "Repository": {
                "Type": "AWS::ECR::Repository",
                "Properties": {
                    "RepositoryName": f"{name}-repo",
                    "ImageTagMutability": "IMMUTABLE",
                    "EmptyOnDelete": True,
                },
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
                            "Essential": True,
                            "Command": ["python", "-c", JOB],
                            "LogConfiguration": {
                                "LogDriver": "awslogs",
                                "Options": {
                                    "awslogs-group": {"Ref": "Logs"},
                                    "awslogs-region": "us-east-1",
                                    "awslogs-stream-prefix": "job",
                                },
                            },
                        }
                    ],
                },
            },
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "sts:AssumeRole",
                                "Principal": {"Service": "states.amazonaws.com"},
                            }
                        ],
                    }
                },
            },
            "StateMachine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "StateMachineName": name,
                    "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
                    "DefinitionString": _definition_string(),
                },
            },
        },
        "Outputs": {
            "ClusterName": {"Value": {"Ref": "Cluster"}},
            "ClusterArn": {"Value": {"Fn::GetAtt": ["Cluster", "Arn"]}},
            "TaskDefinitionArn": {"Value": {"Ref": "TaskDefinition"}},
            "RepositoryName": {"Value": {"Ref": "Repository"}},
            "RepositoryUri": {"Value": {"Fn::GetAtt": ["Repository", "RepositoryUri"]}},
            "StateMachineArn": {"Value": {"Ref": "StateMachine"}},
        },
    }


@pytest.fixture(scope="module")
def stack(localstack: Any) -> dict[str, Any]:
    """The stack, deployed once for the module and deleted afterwards."""
    cfn = localstack.client("cloudformation", ACCOUNT)
    name = unique("lscfn")
    net = network(localstack.client("ec2", ACCOUNT))["awsvpcConfiguration"]
    cfn.create_stack(
        StackName=name,
        TemplateBody=json.dumps(template(name)),
        Capabilities=["CAPABILITY_IAM"],
        Parameters=[
            {"ParameterKey": "SubnetId", "ParameterValue": net["subnets"][0]},
            {"ParameterKey": "SecurityGroupId", "ParameterValue": net["securityGroups"][0]},
        ],
    )
    cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=WAITER)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName=name)["Stacks"][0]["Outputs"]}
    yield {"name": name, "outputs": outputs}
    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=WAITER)


def test_refs_and_getatts_are_real(localstack: Any, stack: dict[str, Any]) -> None:
    out = stack["outputs"]
    assert out["ClusterName"] == stack["name"]
    assert out["ClusterArn"] == f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/{stack['name']}"
    assert out["TaskDefinitionArn"] == f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/{stack['name']}:1"
    assert out["RepositoryUri"].endswith(f"/{stack['name']}-repo")
    repos = localstack.client("ecr", ACCOUNT).describe_repositories(repositoryNames=[out["RepositoryName"]])
    assert repos["repositories"][0]["imageTagMutability"] == "IMMUTABLE"
    clusters = localstack.client("ecs", ACCOUNT).describe_clusters(clusters=[out["ClusterArn"]])["clusters"]
    assert clusters[0]["status"] == "ACTIVE"


def test_log_group_retention_is_applied(localstack: Any, stack: dict[str, Any]) -> None:
    groups = localstack.client("logs", ACCOUNT).describe_log_groups(logGroupNamePrefix=f"/ecs/{stack['name']}")
    assert groups["logGroups"][0].get("retentionInDays") == 14


def test_successful_task_succeeds_the_execution(localstack: Any, stack: dict[str, Any]) -> None:
    sfn = localstack.client("stepfunctions", ACCOUNT)
    run = sfn.start_execution(
        stateMachineArn=stack["outputs"]["StateMachineArn"], input=json.dumps({"run_id": "run-ok", "exit_code": "0"})
    )
    execution = wait_execution(sfn, run["executionArn"])
    assert execution["status"] == "SUCCEEDED", execution
    output = json.loads(execution["output"])
    assert output["LastStatus"] == "STOPPED"
    assert output["Containers"][0]["ExitCode"] == 0
    task_id = output["TaskArn"].rsplit("/", 1)[-1]
    events = localstack.client("logs", ACCOUNT).get_log_events(
        logGroupName=f"/ecs/{stack['name']}", logStreamName=f"job/job/{task_id}"
    )["events"]
    assert [e["message"] for e in events] == ["job run run-ok"]


def test_non_zero_exit_fails_the_execution_with_task_failed(localstack: Any, stack: dict[str, Any]) -> None:
    sfn = localstack.client("stepfunctions", ACCOUNT)
    run = sfn.start_execution(
        stateMachineArn=stack["outputs"]["StateMachineArn"], input=json.dumps({"run_id": "run-bad", "exit_code": "4"})
    )
    execution = wait_execution(sfn, run["executionArn"])
    assert execution["status"] == "FAILED"
    assert execution["error"] == "States.TaskFailed"
    cause = json.loads(execution["cause"])
    assert cause["Containers"][0]["ExitCode"] == 4
    assert cause["StoppedReason"] == "Essential container in task exited"
    assert cause["StopCode"] == "EssentialContainerExited"


def test_caught_task_failure_can_be_re_raised_by_a_fail_state(localstack: Any, stack: dict[str, Any]) -> None:
    sfn = localstack.client("stepfunctions", ACCOUNT)
    net = network(localstack.client("ec2", ACCOUNT))["awsvpcConfiguration"]
    definition = {
        "StartAt": "Run",
        "States": {
            "Run": {
                "Type": "Task",
                "Resource": "arn:aws:states:::ecs:runTask.sync",
                "Next": "Done",
                "Parameters": {
                    "Cluster": stack["outputs"]["ClusterArn"],
                    "TaskDefinition": stack["outputs"]["TaskDefinitionArn"],
                    "LaunchType": "FARGATE",
                    "NetworkConfiguration": {
                        "AwsvpcConfiguration": {"Subnets": net["subnets"], "SecurityGroups": net["securityGroups"]}
                    },
                    "Overrides": {
                        "ContainerOverrides": [
                            {
                                "Name": "job",
                                "Environment": [
                                    {"Name": "DS_RUN_ID", "Value": "caught"},
                                    {"Name": "EXIT_CODE", "Value": "5"},
                                ],
                            }
                        ]
                    },
                },
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}],
            },
            "Failed": {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"},
            "Done": {"Type": "Succeed"},
        },
    }
    machine = sfn.create_state_machine(
        name=unique("lscatch"), definition=json.dumps(definition), roleArn=f"arn:aws:iam::{ACCOUNT}:role/unused"
    )["stateMachineArn"]
    try:
        execution = wait_execution(sfn, sfn.start_execution(stateMachineArn=machine)["executionArn"])
        assert execution["status"] == "FAILED"
        assert execution["error"] == "States.TaskFailed"
        assert json.loads(execution["cause"])["Containers"][0]["ExitCode"] == 5
    finally:
        sfn.delete_state_machine(stateMachineArn=machine)
