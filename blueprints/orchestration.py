"""Orchestration: the Step Functions state machine that runs the job as a Fargate task and waits for it.

Flow: Defaults -> MergeInput -> RunJob (``ecs:runTask.sync``, retried on transient ECS errors) ->
Succeeded; any failure -> NotifyFailure (SNS) -> Failed, which keeps the task's error (``States.TaskFailed``)
and cause. The execution input ``{"run_id": ..., "input_key": ...}`` (both optional) reaches the container
as ``DS_RUN_ID`` / ``DS_INPUT_KEY``; without ``run_id`` the execution's name is used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from awacs import ecs as ecs_actions
from awacs import events as events_actions
from awacs import sns as sns_actions
from awacs.aws import Condition, StringEquals
from troposphere import GetAtt, Join, Ref, Split, Sub, Template, iam, stepfunctions

from blueprints.common import add_output, add_parameter, new_template
from blueprints.grants import assume_role_policy, grant_pass_role, policy, statement

# Errors ECS answers when it is briefly unable to place or start a task; worth a retry.
TRANSIENT_ECS_ERRORS = ("ECS.AmazonECSException", "ECS.ServerException", "ECS.ThrottlingException",
                        "ECS.LimitExceededException")


@dataclass(frozen=True)
class OrchestrationProps:
    """Inputs of the orchestration blueprint."""

    state_machine_name: str
    container_name: str
    timeout_seconds: int = 3600
    retry_attempts: int = 2
    retry_interval_seconds: int = 30


def definition(props: OrchestrationProps) -> dict[str, object]:
    """The state machine definition (ASL), with ${...} placeholders that the template substitutes."""
    run_job: dict[str, object] = {
        "Type": "Task",
        "Resource": "arn:${AWS::Partition}:states:::ecs:runTask.sync",
        "Parameters": {
            "LaunchType": "FARGATE",
            "Cluster": "${ClusterArn}",
            "TaskDefinition": "${TaskDefinitionArn}",
            "NetworkConfiguration": {"AwsvpcConfiguration": {
                "Subnets": ["${SubnetList}"], "SecurityGroups": ["${TaskSecurityGroupId}"],
                "AssignPublicIp": "DISABLED"}},
            "Overrides": {"ContainerOverrides": [{
                "Name": props.container_name,
                "Environment": [
                    {"Name": "DS_RUN_ID", "Value.$": "States.Format('{}', $.args.run_id)"},
                    {"Name": "DS_INPUT_KEY", "Value.$": "States.Format('{}', $.args.input_key)"},
                ]}]},
        },
        "ResultPath": None,
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "NotifyFailure"}],
        "Next": "Succeeded",
    }
    if props.retry_attempts:
        run_job["Retry"] = [{"ErrorEquals": list(TRANSIENT_ECS_ERRORS), "IntervalSeconds": props.retry_interval_seconds,
                             "MaxAttempts": props.retry_attempts, "BackoffRate": 2.0}]
    return {
        "Comment": "dsplatform: run the preprocessing job on Fargate and report failures",
        "TimeoutSeconds": props.timeout_seconds,
        "StartAt": "Defaults",
        "States": {
            "Defaults": {"Type": "Pass", "Parameters": {"run_id.$": "$$.Execution.Name", "input_key": ""},
                         "ResultPath": "$.defaults", "Next": "MergeInput"},
            "MergeInput": {"Type": "Pass",
                           "Parameters": {"args.$": "States.JsonMerge($.defaults, $$.Execution.Input, false)"},
                           "Next": "RunJob"},
            "RunJob": run_job,
            "Succeeded": {"Type": "Succeed"},
            "NotifyFailure": {
                "Type": "Task",
                "Resource": "arn:${AWS::Partition}:states:::sns:publish",
                "Parameters": {
                    "TopicArn": "${AlertTopicArn}",
                    "Subject": "dsplatform: preprocessing pipeline failed",
                    "Message": {"state_machine.$": "$$.StateMachine.Name", "execution.$": "$$.Execution.Id",
                                "run_id.$": "$.args.run_id", "error.$": "$.error.Error", "cause.$": "$.error.Cause"},
                },
                "ResultPath": None,
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.notify_error", "Next": "Failed"}],
                "Next": "Failed",
            },
            "Failed": {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"},
        },
    }


def build(props: OrchestrationProps) -> Template:
    """Render the orchestration template."""
    template = new_template("orchestration (Step Functions state machine running the Fargate job)")
    p = {name: Ref(add_parameter(template, name, desc, kind)) for name, desc, kind in (
        ("ClusterArn", "ECS cluster ARN (compute stack)", "String"),
        ("ClusterName", "ECS cluster name (compute stack)", "String"),
        ("TaskDefinitionArn", "task definition ARN (compute stack)", "String"),
        ("TaskRoleArn", "task role ARN (compute stack)", "String"),
        ("ExecutionRoleArn", "execution role ARN (compute stack)", "String"),
        # A comma-joined String split here, not a CommaDelimitedList: LocalStack 2026.3 re-reads a list
        # parameter's previous value as a string on update and delete (docs/deployer.md); both work on AWS.
        ("SubnetIds", "private subnets, comma-separated (network stack)", "String"),
        ("TaskSecurityGroupId", "task security group (network stack)", "String"),
        ("AlertTopicArn", "alert topic ARN (alerts stack)", "String"),
    )}
    tasks_in_cluster = Sub("arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task/${Name}/*",
                           Name=p["ClusterName"])
    sync_rule = Sub("arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/"
                    "StepFunctionsGetEventsForECSTaskRule")
    role = template.add_resource(iam.Role(
        "StateMachineRole", Description="dsplatform pipeline: run this task definition in this cluster",
        AssumeRolePolicyDocument=assume_role_policy("states.amazonaws.com", Ref("AWS::AccountId")),
        Policies=[iam.Policy(PolicyName="run-job", PolicyDocument=policy(
            statement("RunTask", (ecs_actions.RunTask,), [p["TaskDefinitionArn"]],
                      Condition=Condition(StringEquals({"ecs:cluster": p["ClusterArn"]}))),
            statement("TrackTask", (ecs_actions.StopTask, ecs_actions.DescribeTasks), [tasks_in_cluster]),
            grant_pass_role("PassTaskRoles", [p["TaskRoleArn"], p["ExecutionRoleArn"]], "ecs-tasks.amazonaws.com"),
            # runTask.sync listens for task state changes through this managed rule (AWS docs, ECS integration).
            statement("SyncRule", (events_actions.PutTargets, events_actions.PutRule, events_actions.DescribeRule),
                      [sync_rule]),
            statement("PublishFailures", (sns_actions.Publish,), [p["AlertTopicArn"]])))]))
    body = json.dumps(definition(props), indent=2, sort_keys=True)
    machine = template.add_resource(stepfunctions.StateMachine(
        "StateMachine", StateMachineName=props.state_machine_name, StateMachineType="STANDARD",
        RoleArn=GetAtt(role, "Arn"),
        DefinitionString=Sub(body, SubnetList=Join('","', Split(",", p["SubnetIds"])), ClusterArn=p["ClusterArn"],
                             TaskDefinitionArn=p["TaskDefinitionArn"],
                             TaskSecurityGroupId=p["TaskSecurityGroupId"], AlertTopicArn=p["AlertTopicArn"])))
    add_output(template, "StateMachineArn", Ref(machine), "state machine ARN")
    add_output(template, "StateMachineName", GetAtt(machine, "Name"), "state machine name")
    return template
