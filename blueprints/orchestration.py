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
from troposphere import GetAtt, Join, Ref, Split, Sub, Template, iam, logs, stepfunctions

from blueprints.alerts import AlertsOutputs
from blueprints.common import new_template
from blueprints.compute import ComputeOutputs
from blueprints.grants import KMS_PUBLISH, LOGS_DELIVERY, assume_role_policy, grant_pass_role, policy, statement
from blueprints.network import NetworkOutputs
from blueprints.outputs import Key, Outputs

# Errors ECS answers when it is briefly unable to place or start a task; worth a retry.
TRANSIENT_ECS_ERRORS = ("ECS.AmazonECSException", "ECS.ServerException", "ECS.ThrottlingException",
                        "ECS.LimitExceededException")


class OrchestrationOutputs(Outputs):
    """Outputs of the orchestration stack."""

    state_machine_arn = Key("state machine ARN")
    state_machine_name = Key("state machine name")
    state_machine_log_group_name = Key("log group of the state machine's executions")


@dataclass(frozen=True)
class OrchestrationProps:
    """Inputs of the orchestration blueprint."""

    state_machine_name: str
    container_name: str
    timeout_seconds: int = 3600
    retry_attempts: int = 2
    retry_interval_seconds: int = 30
    log_group_name: str = "/aws/vendedlogs/states/dsplatform"
    log_retention_days: int = 30
    log_level: str = "ERROR"  # ERROR or ALL; execution data (inputs, outputs) is never logged


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
    cluster_arn, cluster_name, task_definition, task_role, execution_role, subnets, task_sg, topic, topic_key = (
        Ref(key.parameter(template, desc)) for key, desc in (
        (ComputeOutputs.cluster_arn, "ECS cluster ARN (compute stack)"),
        (ComputeOutputs.cluster_name, "ECS cluster name (compute stack)"),
        (ComputeOutputs.task_definition_arn, "task definition ARN (compute stack)"),
        (ComputeOutputs.task_role_arn, "task role ARN (compute stack)"),
        (ComputeOutputs.execution_role_arn, "execution role ARN (compute stack)"),
        # A comma-joined String split here, not a CommaDelimitedList: LocalStack 2026.3 re-reads a list
        # parameter's previous value as a string on update and delete (docs/deployer.md); both work on AWS.
        (NetworkOutputs.subnet_ids, "private subnets, comma-separated (network stack)"),
        (NetworkOutputs.task_security_group_id, "task security group (network stack)"),
        (AlertsOutputs.alert_topic_arn, "alert topic ARN (alerts stack)"),
        (AlertsOutputs.alert_key_arn, "KMS key of the alert topic (alerts stack)"),
    ))
    tasks_in_cluster = Sub("arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task/${Name}/*",
                           Name=cluster_name)
    sync_rule = Sub("arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/"
                    "StepFunctionsGetEventsForECSTaskRule")
    role = template.add_resource(iam.Role(
        "StateMachineRole", Description="dsplatform pipeline: run this task definition in this cluster",
        AssumeRolePolicyDocument=assume_role_policy("states.amazonaws.com", Ref("AWS::AccountId")),
        Policies=[iam.Policy(PolicyName="run-job", PolicyDocument=policy(
            statement("RunTask", (ecs_actions.RunTask,), [task_definition],
                      Condition=Condition(StringEquals({"ecs:cluster": cluster_arn}))),
            statement("TrackTask", (ecs_actions.StopTask, ecs_actions.DescribeTasks), [tasks_in_cluster]),
            grant_pass_role("PassTaskRoles", [task_role, execution_role], "ecs-tasks.amazonaws.com"),
            # runTask.sync listens for task state changes through this managed rule (AWS docs, ECS integration).
            statement("SyncRule", (events_actions.PutTargets, events_actions.PutRule, events_actions.DescribeRule),
                      [sync_rule]),
            statement("PublishFailures", (sns_actions.Publish,), [topic]),
            # The topic is KMS-encrypted: SNS encrypts with this key on the publisher's behalf, and only then.
            statement("EncryptFailures", KMS_PUBLISH, [topic_key], Condition=Condition(StringEquals(
                {"kms:ViaService": Sub("sns.${AWS::Region}.amazonaws.com")}))),
            # Vended-log delivery actions have no resource-level permissions (grants.UNSCOPED_ACTIONS).
            statement("DeliverLogs", LOGS_DELIVERY, ["*"])))]))
    log_group = template.add_resource(logs.LogGroup(
        "StateMachineLogGroup", LogGroupName=props.log_group_name, RetentionInDays=props.log_retention_days))
    logging = stepfunctions.LoggingConfiguration(
        Level=props.log_level, IncludeExecutionData=False,
        Destinations=[stepfunctions.LogDestination(CloudWatchLogsLogGroup=stepfunctions.CloudWatchLogsLogGroup(
            LogGroupArn=GetAtt(log_group, "Arn")))])
    body = json.dumps(definition(props), indent=2, sort_keys=True)
    machine = template.add_resource(stepfunctions.StateMachine(
        "StateMachine", StateMachineName=props.state_machine_name, StateMachineType="STANDARD",
        RoleArn=GetAtt(role, "Arn"), LoggingConfiguration=logging,
        DefinitionString=Sub(body, SubnetList=Join('","', Split(",", subnets)), ClusterArn=cluster_arn,
                             TaskDefinitionArn=task_definition,
                             TaskSecurityGroupId=task_sg, AlertTopicArn=topic)))
    OrchestrationOutputs.state_machine_arn.emit(template, Ref(machine))
    OrchestrationOutputs.state_machine_name.emit(template, GetAtt(machine, "Name"))
    OrchestrationOutputs.state_machine_log_group_name.emit(template, Ref(log_group))
    return template
