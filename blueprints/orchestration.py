"""Orchestration: the Step Functions state machine that runs the job on Fargate, sharded when the input is big.

Flow: Defaults -> MergeInput -> RunJob (``ecs:runTask.sync``, ``DS_MODE=auto``: an input up to the shard size is
processed whole and committed right there; a bigger one, or a prefix of files, is planned into shards written to
``processed/<run>/_shards.json``) -> Shards (a Distributed Map reading that plan: one ``runTask.sync`` per shard,
``MaxConcurrency`` and ``ToleratedFailureCount`` from config, no ItemBatcher) -> AnyShards (Choice: nothing ran,
the run is already committed) -> Commit (``DS_MODE=commit``: the run's one manifest, last) -> Succeeded. Any
failure -> NotifyFailure (SNS) -> Failed, which keeps the error (``States.TaskFailed``,
``States.ExceedToleratedFailureThreshold``) and cause. The execution input ``{"run_id", "input_key",
"shard_size_bytes"}`` (all optional) reaches the containers as ``DS_RUN_ID`` / ``DS_INPUT_KEY`` /
``DS_SHARD_SIZE_BYTES``; without ``run_id`` the execution's name is used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from awacs import ecs as ecs_actions
from awacs import events as events_actions
from awacs import s3 as s3_actions
from awacs import sns as sns_actions
from awacs import states as states_actions
from awacs.aws import Condition, StringEquals
from troposphere import GetAtt, Join, Ref, Split, Sub, Template, iam, logs, stepfunctions

from blueprints.alerts import AlertsOutputs
from blueprints.common import new_template
from blueprints.compute import ComputeOutputs
from blueprints.grants import (
    KMS_DECRYPT,
    KMS_PUBLISH,
    LOGS_DELIVERY,
    assume_role_policy,
    grant_pass_role,
    policy,
    statement,
)
from blueprints.network import NetworkOutputs
from blueprints.outputs import Key, Outputs
from blueprints.storage import StorageOutputs

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
    shard_size_bytes: int = 1 << 30
    max_concurrency: int = 4
    tolerated_failure_count: int = 0
    kms: bool = False  # the output bucket (holding the plan the map reads) is encrypted with the storage DataKey


def _run_task(props: OrchestrationProps, environment: list[dict[str, str]], next_state: str | None,
              catch: bool = True) -> dict[str, object]:
    """A ``runTask.sync`` state running the job container with ``environment``, retried on transient ECS errors."""
    state: dict[str, object] = {
        "Type": "Task",
        "Resource": "arn:${AWS::Partition}:states:::ecs:runTask.sync",
        "Parameters": {
            "LaunchType": "FARGATE",
            "Cluster": "${ClusterArn}",
            "TaskDefinition": "${TaskDefinitionArn}",
            "NetworkConfiguration": {"AwsvpcConfiguration": {
                "Subnets": ["${SubnetList}"], "SecurityGroups": ["${TaskSecurityGroupId}"],
                "AssignPublicIp": "DISABLED"}},
            "Overrides": {"ContainerOverrides": [{"Name": props.container_name, "Environment": environment}]},
        },
        "ResultPath": None,
    }
    if catch:
        state["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "NotifyFailure"}]
    if next_state:
        state["Next"] = next_state
    else:
        state["End"] = True
    if props.retry_attempts:
        state["Retry"] = [{"ErrorEquals": list(TRANSIENT_ECS_ERRORS), "IntervalSeconds": props.retry_interval_seconds,
                           "MaxAttempts": props.retry_attempts, "BackoffRate": 2.0}]
    return state


def _env(name: str, path: str) -> dict[str, str]:
    return {"Name": name, "Value.$": f"States.Format('{{}}', {path})"}


def _shards(props: OrchestrationProps) -> dict[str, object]:
    """The Distributed Map: one task per item of the plan the first task wrote (no ItemBatcher: one shard each)."""
    run_shard = _run_task(props, [
        _env("DS_RUN_ID", "$.run_id"), _env("DS_INPUT_KEY", "$.input_key"), {"Name": "DS_MODE", "Value": "shard"},
        _env("DS_SHARD_INDEX", "$.index")], None, catch=False)
    # Each item answers only its index, so the map's result stays far below the 256 KiB state limit.
    run_shard["OutputPath"] = "$.index"
    return {
        "Type": "Map",
        "ItemReader": {"Resource": "arn:${AWS::Partition}:states:::s3:getObject",
                       "ReaderConfig": {"InputType": "JSON"},
                       "Parameters": {"Bucket": "${OutputBucketName}",
                                      "Key.$": "States.Format('processed/{}/_shards.json', $.args.run_id)"}},
        # Only the index goes to the task (ECS overrides are limited to 8 KiB); the task reads its item from the plan.
        "ItemSelector": {"index.$": "$$.Map.Item.Value.index", "run_id.$": "$.args.run_id",
                         "input_key.$": "$.args.input_key"},
        "MaxConcurrency": props.max_concurrency,
        "ToleratedFailureCount": props.tolerated_failure_count,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                          "StartAt": "RunShard", "States": {"RunShard": run_shard}},
        "ResultPath": "$.shards",
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "NotifyFailure"}],
        "Next": "AnyShards",
    }


def definition(props: OrchestrationProps) -> dict[str, object]:
    """The state machine definition (ASL), with ${...} placeholders that the template substitutes."""
    run_args = [_env("DS_RUN_ID", "$.args.run_id"), _env("DS_INPUT_KEY", "$.args.input_key")]
    return {
        "Comment": "dsplatform: run the preprocessing job on Fargate (sharded when big) and report failures",
        "TimeoutSeconds": props.timeout_seconds,
        "StartAt": "Defaults",
        "States": {
            "Defaults": {"Type": "Pass", "Parameters": {"run_id.$": "$$.Execution.Name", "input_key": "",
                                                        "shard_size_bytes": props.shard_size_bytes},
                         "ResultPath": "$.defaults", "Next": "MergeInput"},
            "MergeInput": {"Type": "Pass",
                           "Parameters": {"args.$": "States.JsonMerge($.defaults, $$.Execution.Input, false)"},
                           "Next": "RunJob"},
            "RunJob": _run_task(props, [*run_args, {"Name": "DS_MODE", "Value": "auto"},
                                        _env("DS_SHARD_SIZE_BYTES", "$.args.shard_size_bytes")], "Shards"),
            "Shards": _shards(props),
            "AnyShards": {"Type": "Choice", "Choices": [{"Variable": "$.shards[0]", "IsPresent": True,
                                                         "Next": "Commit"}],
                          "Default": "Succeeded"},
            "Commit": _run_task(props, [*run_args, {"Name": "DS_MODE", "Value": "commit"}], "Succeeded"),
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
    output_bucket = Ref(StorageOutputs.output_bucket_name.parameter(template, "output bucket name (storage stack)"))
    output_arn = Ref(StorageOutputs.output_bucket_arn.parameter(template, "output bucket ARN (storage stack)"))
    data_key = (Ref(StorageOutputs.data_key_arn.parameter(template, "KMS data key ARN (storage stack)"))
                if props.kms else None)
    machine_arn = Sub("arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:" +
                      props.state_machine_name)
    executions = Sub("arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:" +
                     props.state_machine_name + "/*")
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
            # The Distributed Map starts child executions of this state machine and reads the plan's items.
            statement("RunShards", (states_actions.StartExecution,), [machine_arn]),
            statement("TrackShards", (states_actions.DescribeExecution, states_actions.StopExecution), [executions]),
            statement("ReadPlan", (s3_actions.GetObject,), [Join("", [output_arn, "/processed/*/_shards.json"])]),
            *([statement("DecryptPlan", KMS_DECRYPT, [data_key], Condition=Condition(StringEquals(
                {"kms:ViaService": Sub("s3.${AWS::Region}.amazonaws.com")})))] if data_key is not None else []),
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
                             TaskSecurityGroupId=task_sg, AlertTopicArn=topic, OutputBucketName=output_bucket)))
    OrchestrationOutputs.state_machine_arn.emit(template, Ref(machine))
    OrchestrationOutputs.state_machine_name.emit(template, GetAtt(machine, "Name"))
    OrchestrationOutputs.state_machine_log_group_name.emit(template, Ref(log_group))
    return template
