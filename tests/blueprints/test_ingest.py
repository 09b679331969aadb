"""The ingest blueprint: what matters in its template, asserted directly, for every setting that changes it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from blueprints import ingest
from dsplatform.lint import check_policies
from tests.blueprints.conftest import resources_of

ENVS = ("dev", "stg", "prod")


def _props(**overrides: Any) -> ingest.IngestProps:
    base = dict(
        function_name="ds-ingest",
        status_function_name="ds-ingest-status",
        queue_name="ds-ingest-failures",
        arrival_rule_name="ds-ingest-arrivals",
        status_rule_name="ds-ingest-outcomes",
        alarm_name="ds-ingest-Errors",
    )
    return ingest.IngestProps(**{**base, **overrides})


def _render(**overrides: Any) -> dict[str, Any]:
    return dict(ingest.build(_props(**overrides)).to_dict())


def _one(template: dict[str, Any], kind: str) -> dict[str, Any]:
    (resource,) = resources_of(template, kind).values()
    return resource


def _role_actions(template: dict[str, Any], logical: str) -> dict[str, set[str]]:
    role = template["Resources"][logical]["Properties"]
    return {st["Sid"]: set(st["Action"]) for p in role["Policies"] for st in p["PolicyDocument"]["Statement"]}


@pytest.mark.parametrize("env", ENVS)
def test_every_policy_rule_holds_for_the_ingest_stack(plans: Any, env: str) -> None:
    spec = next(s for s in plans[env].stacks if s.component == "ingest")
    assert check_policies(spec.name, spec.template) == []
    assert [a.name for a in spec.assets] == ["ingest"] and spec.assets[0].source.name == "ingest"


def test_catalogue_table_is_on_demand_recoverable_encrypted_and_retained() -> None:
    table = _one(_render(), "AWS::DynamoDB::Table")
    props = table["Properties"]
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert props["KeySchema"] == [{"AttributeName": "object_key", "KeyType": "HASH"}]
    assert "TableName" not in props  # retained: a fixed name would block the stack's next create
    assert "TimeToLiveSpecification" not in props
    with_ttl = _one(_render(ttl_attribute="expires_at"), "AWS::DynamoDB::Table")["Properties"]
    assert with_ttl["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_roles_get_exactly_what_each_function_needs() -> None:
    template = _render()
    assert _role_actions(template, "FunctionRole") == {
        "WriteLogs": {"logs:CreateLogStream", "logs:PutLogEvents"},
        "ReadArrivals": {"s3:GetObject", "s3:GetObjectVersion"},
        "WriteCatalogue": {"dynamodb:UpdateItem"},
        "SendFailures": {"sqs:SendMessage"},
    }
    assert _role_actions(template, "StatusRole") == {
        "WriteLogs": {"logs:CreateLogStream", "logs:PutLogEvents"},
        "WriteCatalogue": {"dynamodb:UpdateItem"},
        "SendFailures": {"sqs:SendMessage"},
    }
    read = next(
        st
        for p in template["Resources"]["FunctionRole"]["Properties"]["Policies"]
        for st in p["PolicyDocument"]["Statement"]
        if st["Sid"] == "ReadArrivals"
    )
    assert read["Resource"] == [{"Fn::Join": ["", [{"Ref": "InputBucketArn"}, "/*"]]}]


def test_on_arrival_adds_start_execution_on_the_pipeline_only() -> None:
    actions = _role_actions(_render(trigger="on_arrival"), "FunctionRole")
    assert actions["StartPipeline"] == {"states:StartExecution"}
    template = _render(trigger="on_arrival")
    start = next(
        st
        for p in template["Resources"]["FunctionRole"]["Properties"]["Policies"]
        for st in p["PolicyDocument"]["Statement"]
        if st["Sid"] == "StartPipeline"
    )
    assert start["Resource"] == [{"Ref": "StateMachineArn"}]
    env = template["Resources"]["Function"]["Properties"]["Environment"]["Variables"]
    assert env["TRIGGER"] == "on_arrival" and env["PIPELINE_STATE_MACHINE_ARN"] == {"Ref": "StateMachineArn"}


def test_kms_buckets_add_decrypt_on_the_data_key() -> None:
    actions = _role_actions(_render(kms=True), "FunctionRole")
    assert actions["UseDataKey"] == {"kms:Decrypt", "kms:DescribeKey"}
    assert "DataKeyArn" in _render(kms=True)["Parameters"]


def test_code_comes_from_the_asset_and_a_code_change_publishes_a_retained_version() -> None:
    template = _render()
    assert {"CodeBucket", "CodeKey", "CodeSha256"} <= set(template["Parameters"])
    function = template["Resources"]["Function"]["Properties"]
    assert function["Code"] == {"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}}
    assert function["Runtime"] == "python3.11" and function["Handler"] == ingest.HANDLER
    version = template["Resources"]["FunctionVersion"]
    assert version["Properties"]["CodeSha256"] == {"Ref": "CodeSha256"}
    assert (version["DeletionPolicy"], version["UpdateReplacePolicy"]) == ("Retain", "Retain")
    alias = _one(template, "AWS::Lambda::Alias")["Properties"]
    assert alias["Name"] == "live" and alias["FunctionVersion"] == {"Fn::GetAtt": ["FunctionVersion", "Version"]}


def test_arrivals_under_the_prefix_invoke_the_alias_and_failures_reach_the_queue() -> None:
    template = _render()
    rule = template["Resources"]["ArrivalRule"]["Properties"]
    assert rule["Targets"] == [{"Id": "Function", "Arn": {"Ref": "LiveAlias"}}]
    assert rule["EventPattern"]["detail"]["object"] == {"key": [{"prefix": "raw/"}]}
    assert rule["EventPattern"]["detail"]["bucket"] == {"name": [{"Ref": "InputBucketName"}]}
    permission = template["Resources"]["ArrivalRulePermission"]["Properties"]
    assert permission["FunctionName"] == {"Ref": "LiveAlias"} and permission["Principal"] == "events.amazonaws.com"
    assert permission["SourceArn"] == {"Fn::GetAtt": ["ArrivalRule", "Arn"]}
    invoke = template["Resources"]["FunctionInvokeConfig"]["Properties"]
    assert invoke["Qualifier"] == "live"
    assert invoke["DestinationConfig"] == {"OnFailure": {"Destination": {"Fn::GetAtt": ["FailureQueue", "Arn"]}}}
    assert _one(template, "AWS::SQS::Queue")["Properties"]["KmsMasterKeyId"] == "alias/aws/sqs"


def test_outcomes_rule_listens_to_the_pipelines_terminal_statuses() -> None:
    pattern = _render()["Resources"]["StatusRule"]["Properties"]["EventPattern"]
    assert pattern["detail"] == {
        "stateMachineArn": [{"Ref": "StateMachineArn"}],
        "status": ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"],
    }


def test_errors_alarm_notifies_the_alert_topic_and_log_groups_have_retention() -> None:
    template = _render(errors_threshold=3, log_retention_days=14)
    alarm = _one(template, "AWS::CloudWatch::Alarm")["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Threshold"]) == ("AWS/Lambda", "Errors", 3)
    assert alarm["AlarmActions"] == [{"Ref": "AlertTopicArn"}]
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "Function"}}]
    groups = resources_of(template, "AWS::Logs::LogGroup")
    assert {g["Properties"]["LogGroupName"] for g in groups.values()} == {
        "/aws/lambda/ds-ingest",
        "/aws/lambda/ds-ingest-status",
    }
    assert all(g["Properties"]["RetentionInDays"] == 14 for g in groups.values())


def test_outputs_are_exactly_the_outputs_class() -> None:
    assert set(_render()["Outputs"]) == set(ingest.IngestOutputs.key_names())


def test_input_bucket_sends_its_events_to_eventbridge(plans: Any) -> None:
    storage = next(s for s in plans["dev"].stacks if s.component == "storage").template
    config = storage["Resources"]["InputBucket"]["Properties"]["NotificationConfiguration"]
    assert config == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    assert "NotificationConfiguration" not in storage["Resources"]["OutputBucket"]["Properties"]


def test_on_arrival_disables_the_schedule_rule(project: Any) -> None:
    from dsplatform.synth import plan_from_config

    env = project.environments["dev"]
    settings = env.settings.model_copy(
        update={"schedule": env.settings.schedule.model_copy(update={"trigger": "on_arrival", "enabled": True})}
    )
    changed = project.model_copy(
        update={"environments": {**project.environments, "dev": env.model_copy(update={"settings": settings})}}
    )
    plan = plan_from_config(changed, "dev")
    rule = next(s for s in plan.stacks if s.component == "schedule").template["Resources"]["ScheduleRule"]
    assert rule["Properties"]["State"] == "DISABLED"
    fn_env = next(s for s in plan.stacks if s.component == "ingest").template["Resources"]["Function"]
    assert fn_env["Properties"]["Environment"]["Variables"]["TRIGGER"] == "on_arrival"
    assert json.dumps(plan.stack("ds-dev-ingest").template).count("states:StartExecution") == 1
