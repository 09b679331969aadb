"""Ingest: a Lambda function that catalogues every file arriving under the input bucket's raw/ prefix.

The input bucket sends its object events to EventBridge (storage blueprint); a rule here targets the alias
``live`` of the function, whose code comes from the deployer's assets bucket (parameters ``CodeBucket``,
``CodeKey``, ``CodeSha256``). ``CodeSha256`` is create-only on the version: changed code replaces the version
resource (a new version is published) and ``live`` moves to it; replaced versions are retained, so rolling
back is moving the alias. A second function records each pipeline execution's outcome on the file's item.
Failed asynchronous invocations go to an SQS queue; an alarm on the function's Errors notifies the alert topic.
The catalogue table is on-demand, point-in-time recoverable, encrypted and retained (it is data).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from awacs import dynamodb as ddb_actions
from awacs import sqs as sqs_actions
from awacs.aws import Statement
from troposphere import GetAtt, Parameter, Ref, Template, awslambda, cloudwatch, dynamodb, events, iam, logs, sqs

from blueprints.alerts import AlertsOutputs
from blueprints.common import new_template, retain
from blueprints.grants import (
    KMS_DECRYPT,
    LOGS_WRITE,
    S3_READ,
    STATES_START,
    assume_role_policy,
    objects_of,
    policy,
    statement,
)
from blueprints.orchestration import OrchestrationOutputs
from blueprints.outputs import Key, Outputs
from blueprints.storage import StorageOutputs

HANDLER = "ds_ingest.handler.on_object_created"
STATUS_HANDLER = "ds_ingest.handler.on_execution_status"
RUNTIME = "python3.11"
CATALOGUE_WRITE = (ddb_actions.UpdateItem,)
QUEUE_SEND = (sqs_actions.SendMessage,)
TERMINAL_STATUSES = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
# The deployer fills these from the function's code asset (dsplatform.deployer.assets).
CODE_PARAMETERS = ("CodeBucket", "CodeKey", "CodeSha256")


class IngestOutputs(Outputs):
    """Outputs of the ingest stack."""

    catalogue_table_name = Key("DynamoDB catalogue table name")
    catalogue_table_arn = Key("DynamoDB catalogue table ARN")
    function_name = Key("ingest function name")
    function_alias_arn = Key("ARN of the alias `live` the input bucket's events invoke")
    function_version = Key("version `live` points to")
    status_function_name = Key("function recording pipeline outcomes")
    failure_queue_url = Key("SQS queue receiving failed invocations")
    failure_queue_arn = Key("SQS queue ARN receiving failed invocations")
    errors_alarm_name = Key("alarm on the function's Errors")


@dataclass(frozen=True)
class IngestProps:
    """Inputs of the ingest blueprint."""

    function_name: str
    status_function_name: str
    queue_name: str
    arrival_rule_name: str
    status_rule_name: str
    alarm_name: str
    trigger: str = "schedule"  # or on_arrival: accepted files start the pipeline
    input_prefix: str = "raw/"
    memory_mb: int = 256
    timeout_seconds: int = 60
    retry_attempts: int = 2
    ttl_attribute: str | None = None
    errors_threshold: int = 1
    log_retention_days: int = 30
    kms: bool = False  # the data buckets are KMS-encrypted: reading input needs the data key


def _table(template: Template, props: IngestProps) -> dynamodb.Table:
    extra = {}
    if props.ttl_attribute:
        extra["TimeToLiveSpecification"] = dynamodb.TimeToLiveSpecification(
            AttributeName=props.ttl_attribute, Enabled=True)
    # No TableName: the table is retained when its stack goes, and a fixed name would block the next create
    # (CloudFormation then names it after the stack; readers take the name from IngestOutputs).
    table = dynamodb.Table(
        "CatalogueTable", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[dynamodb.AttributeDefinition(AttributeName="object_key", AttributeType="S")],
        KeySchema=[dynamodb.KeySchema(AttributeName="object_key", KeyType="HASH")],
        PointInTimeRecoverySpecification=dynamodb.PointInTimeRecoverySpecification(PointInTimeRecoveryEnabled=True),
        SSESpecification=dynamodb.SSESpecification(SSEEnabled=True), **extra)
    return template.add_resource(retain(table))


def _role(template: Template, logical: str, description: str, log_group: logs.LogGroup,
          statements: list[Statement]) -> iam.Role:
    return template.add_resource(iam.Role(
        logical, Description=description,
        AssumeRolePolicyDocument=assume_role_policy("lambda.amazonaws.com", Ref("AWS::AccountId")),
        Policies=[iam.Policy(PolicyName="least-privilege", PolicyDocument=policy(
            statement("WriteLogs", LOGS_WRITE, [GetAtt(log_group, "Arn")]), *statements))]))


def _function(template: Template, logical: str, name: str, handler: str, role: iam.Role, log_group: logs.LogGroup,
              props: IngestProps, env: dict[str, object]) -> awslambda.Function:
    return template.add_resource(awslambda.Function(
        logical, FunctionName=name, Runtime=RUNTIME, Handler=handler, Role=GetAtt(role, "Arn"),
        Code=awslambda.Code(S3Bucket=Ref("CodeBucket"), S3Key=Ref("CodeKey")),
        MemorySize=props.memory_mb, Timeout=props.timeout_seconds,
        Environment=awslambda.Environment(Variables=env), DependsOn=[log_group.title]))


def _log_group(template: Template, logical: str, function_name: str, days: int) -> logs.LogGroup:
    # Created before the function, so Lambda never makes its own group without a retention.
    return template.add_resource(logs.LogGroup(logical, LogGroupName=f"/aws/lambda/{function_name}",
                                               RetentionInDays=days))


def _invoked_by_rule(template: Template, logical: str, rule_name: str, pattern: dict[str, Any],
                     target_arn: object, description: str) -> events.Rule:
    rule = template.add_resource(events.Rule(
        logical, Name=rule_name, Description=description, State="ENABLED", EventPattern=pattern,
        Targets=[events.Target(Id="Function", Arn=target_arn)]))
    template.add_resource(awslambda.Permission(
        f"{logical}Permission", Action="lambda:InvokeFunction", FunctionName=target_arn,
        Principal="events.amazonaws.com", SourceArn=GetAtt(rule, "Arn"), SourceAccount=Ref("AWS::AccountId")))
    return rule


def build(props: IngestProps) -> Template:
    """Render the ingest template."""
    template = new_template("ingest (S3 arrivals catalogued by a Lambda function in DynamoDB)")
    bucket_name = Ref(StorageOutputs.input_bucket_name.parameter(template, "input bucket name (storage stack)"))
    bucket_arn = Ref(StorageOutputs.input_bucket_arn.parameter(template, "input bucket ARN (storage stack)"))
    machine_arn = Ref(OrchestrationOutputs.state_machine_arn.parameter(
        template, "state machine ARN (orchestration stack)"))
    topic_arn = Ref(AlertsOutputs.alert_topic_arn.parameter(template, "alert topic ARN (alerts stack)"))
    key_arn = (Ref(StorageOutputs.data_key_arn.parameter(template, "KMS data key ARN (storage stack)"))
               if props.kms else None)
    for name, what in zip(CODE_PARAMETERS, ("assets bucket", "code zip key", "base64 SHA-256 of the zip"),
                          strict=True):
        template.add_parameter(Parameter(name, Type="String", Description=f"function code: {what} (deployer)"))

    table = _table(template, props)
    queue = template.add_resource(sqs.Queue(
        # KMS with the account's AWS-managed SQS key: failed events carry object keys, encrypted at rest.
        "FailureQueue", QueueName=props.queue_name, KmsMasterKeyId="alias/aws/sqs", MessageRetentionPeriod=1209600))
    log_group = _log_group(template, "FunctionLogGroup", props.function_name, props.log_retention_days)
    status_log_group = _log_group(template, "StatusLogGroup", props.status_function_name, props.log_retention_days)

    reads = [statement("ReadArrivals", S3_READ, [objects_of(bucket_arn)])]
    if key_arn is not None:
        reads.append(statement("UseDataKey", KMS_DECRYPT, [key_arn]))
    role = _role(template, "FunctionRole", "dsplatform ingest: read arrivals, write the catalogue", log_group, [
        *reads,
        statement("WriteCatalogue", CATALOGUE_WRITE, [GetAtt(table, "Arn")]),
        statement("SendFailures", QUEUE_SEND, [GetAtt(queue, "Arn")]),
        *([statement("StartPipeline", STATES_START, [machine_arn])] if props.trigger == "on_arrival" else []),
    ])
    status_role = _role(template, "StatusRole", "dsplatform ingest: record pipeline outcomes", status_log_group, [
        statement("WriteCatalogue", CATALOGUE_WRITE, [GetAtt(table, "Arn")]),
        statement("SendFailures", QUEUE_SEND, [GetAtt(queue, "Arn")]),
    ])
    env: dict[str, object] = {"CATALOGUE_TABLE": Ref(table), "TRIGGER": props.trigger,
                              "PIPELINE_STATE_MACHINE_ARN": machine_arn, "INPUT_PREFIX": props.input_prefix}
    function = _function(template, "Function", props.function_name, HANDLER, role, log_group, props, env)
    status_function = _function(template, "StatusFunction", props.status_function_name, STATUS_HANDLER,
                                status_role, status_log_group, props, env)

    version = template.add_resource(retain(awslambda.Version(
        "FunctionVersion", FunctionName=Ref(function), CodeSha256=Ref("CodeSha256"),
        Description="published by dsplatform when the code changes")))
    alias = template.add_resource(awslambda.Alias(
        "LiveAlias", FunctionName=Ref(function), Name="live", FunctionVersion=GetAtt(version, "Version")))
    for logical, qualifier_of, target in (("FunctionInvokeConfig", alias, Ref(function)),
                                          ("StatusInvokeConfig", None, Ref(status_function))):
        template.add_resource(awslambda.EventInvokeConfig(
            logical, FunctionName=target, Qualifier="live" if qualifier_of is not None else "$LATEST",
            MaximumRetryAttempts=props.retry_attempts,
            DestinationConfig=awslambda.DestinationConfig(OnFailure=awslambda.OnFailure(
                Destination=GetAtt(queue, "Arn"))),
            **({"DependsOn": [alias.title]} if qualifier_of is not None else {})))

    arrivals: dict[str, Any] = {"source": ["aws.s3"], "detail-type": ["Object Created"],
                "detail": {"bucket": {"name": [bucket_name]}, "object": {"key": [{"prefix": props.input_prefix}]}}}
    _invoked_by_rule(template, "ArrivalRule", props.arrival_rule_name, arrivals, Ref(alias),
                     "dsplatform ingest: objects created under the input prefix")
    outcomes: dict[str, Any] = {"source": ["aws.states"], "detail-type": ["Step Functions Execution Status Change"],
                "detail": {"stateMachineArn": [machine_arn], "status": list(TERMINAL_STATUSES)}}
    _invoked_by_rule(template, "StatusRule", props.status_rule_name, outcomes, GetAtt(status_function, "Arn"),
                     "dsplatform ingest: pipeline outcomes back to the catalogue")

    alarm = template.add_resource(cloudwatch.Alarm(
        "ErrorsAlarm", AlarmName=props.alarm_name, AlarmDescription="dsplatform: the ingest function failed",
        Namespace="AWS/Lambda", MetricName="Errors",
        Dimensions=[cloudwatch.MetricDimension(Name="FunctionName", Value=Ref(function))],
        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=props.errors_threshold,
        ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="notBreaching",
        AlarmActions=[topic_arn]))

    IngestOutputs.catalogue_table_name.emit(template, Ref(table))
    IngestOutputs.catalogue_table_arn.emit(template, GetAtt(table, "Arn"))
    IngestOutputs.function_name.emit(template, Ref(function))
    IngestOutputs.function_alias_arn.emit(template, Ref(alias))
    IngestOutputs.function_version.emit(template, GetAtt(version, "Version"))
    IngestOutputs.status_function_name.emit(template, Ref(status_function))
    IngestOutputs.failure_queue_url.emit(template, Ref(queue))
    IngestOutputs.failure_queue_arn.emit(template, GetAtt(queue, "Arn"))
    IngestOutputs.errors_alarm_name.emit(template, Ref(alarm))
    return template
