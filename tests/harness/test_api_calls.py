"""The call recorder: botocore calls become IAM requests (action, resource, context) and are judged by a policy;
an unknown call or a missing parameter is reported, never passed. botocore's Stubber answers the calls."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from harness.api_arns import PLACEHOLDER_ID, Request
from harness.api_calls import CallRecorder, iam_prefix, load
from harness.policy_eval import parse_document

ACCOUNT, REGION = "123456789012", "eu-west-1"


def _session(recorder: CallRecorder) -> boto3.Session:
    return recorder.attach(boto3.Session(aws_access_key_id="x", aws_secret_access_key="y", region_name=REGION))


def _call(recorder: CallRecorder, service: str, operation: str, response: dict[str, Any], **params: Any) -> None:
    client = _session(recorder).client(service)
    with Stubber(client) as stub:
        stub.add_response(operation, response)
        getattr(client, operation)(**params)


def _requests(recorder: CallRecorder) -> list[Request]:
    return [r for _, r in recorder.requests]


def test_s3_calls_become_the_actions_iam_checks_not_the_operation_names() -> None:
    rec = CallRecorder(ACCOUNT, REGION)
    _call(rec, "s3", "head_object", {}, Bucket="ds-data", Key="a/b.csv")
    _call(rec, "s3", "list_objects_v2", {}, Bucket="ds-data", Prefix="a/")
    _call(rec, "s3", "delete_objects", {}, Bucket="ds-data",
          Delete={"Objects": [{"Key": "k1"}, {"Key": "k2", "VersionId": "v"}]})
    assert _requests(rec) == [Request("s3:GetObject", "arn:aws:s3:::ds-data/a/b.csv"),
                              Request("s3:ListBucket", "arn:aws:s3:::ds-data"),
                              Request("s3:DeleteObject", "arn:aws:s3:::ds-data/k1"),
                              Request("s3:DeleteObjectVersion", "arn:aws:s3:::ds-data/k2")]


def test_cloudwatch_is_signed_as_monitoring_but_authorized_as_cloudwatch() -> None:
    assert iam_prefix("monitoring") == "cloudwatch" and iam_prefix("states") == "states"
    rec = CallRecorder(ACCOUNT, REGION)
    _call(rec, "cloudwatch", "describe_alarms", {"MetricAlarms": []}, AlarmNames=["ds-a"])
    assert _requests(rec) == [Request("cloudwatch:DescribeAlarms", f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:ds-a")]


def test_a_change_set_with_a_role_also_asks_to_pass_that_role_to_cloudformation() -> None:
    rec = CallRecorder(ACCOUNT, REGION)
    role = f"arn:aws:iam::{ACCOUNT}:role/ds-cfn-exec-{REGION}"
    _call(rec, "cloudformation", "create_change_set", {"Id": "cs", "StackId": "s"}, StackName="ds-dev-storage",
          ChangeSetName="c1", TemplateBody="{}", RoleARN=role)
    assert _requests(rec) == [
        Request("cloudformation:CreateChangeSet",
                f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/ds-dev-storage/{PLACEHOLDER_ID}"),
        Request("iam:PassRole", role, (("iam:PassedToService", "cloudformation.amazonaws.com"),))]


def test_sagemaker_names_are_lower_cased_in_their_arns_and_updates_check_endpoint_and_config() -> None:
    rec = CallRecorder(ACCOUNT, REGION)
    answer = {"EndpointArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/x"}
    _call(rec, "sagemaker", "update_endpoint", answer, EndpointName="DS-Serving",
          EndpointConfigName="DS-Serving-config-2")
    assert [r.resource for r in _requests(rec)] == [
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/ds-serving",
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint-config/ds-serving-config-2"]


def test_an_unknown_call_is_reported_and_never_passes() -> None:
    rec = CallRecorder(ACCOUNT, REGION)
    _call(rec, "s3", "get_bucket_acl", {}, Bucket="ds-data")  # not in the tables
    _call(rec, "cloudformation", "describe_change_set", {}, ChangeSetName=f"arn:aws:cloudformation:{REGION}:"
          f"{ACCOUNT}:changeSet/c1/abc")  # by ARN alone: its stack is unknown
    everything = parse_document({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    problems = rec.check(everything)
    assert len(problems) == 2, problems
    assert any("s3:GetBucketAcl has no IAM mapping" in p for p in problems)
    assert any("change set call without StackName" in p for p in problems)


def test_check_names_each_denied_request_once() -> None:
    rec = CallRecorder(ACCOUNT, REGION)
    for _ in range(2):
        _call(rec, "ssm", "get_parameter", {"Parameter": {}}, Name="/ds/dev/lock")
    _call(rec, "ssm", "get_parameter", {"Parameter": {}}, Name="/dsplatform/locks/x")
    _call(rec, "sts", "get_caller_identity", {"Account": ACCOUNT})  # needs no permission: no request
    policy = parse_document({"Statement": [{"Effect": "Allow", "Action": "ssm:GetParameter",
                                            "Resource": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/dsplatform/*"}]})
    assert rec.check(policy) == [f"ssm:GetParameter on arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/ds/dev/lock: "
                                 "implicitDeny"]
    assert rec.actions() == {"ssm:GetParameter"}


@pytest.mark.parametrize(("name", "resource"), [
    ("ds-ingest", "function:ds-ingest"),
    (f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:ds-ingest:live", "function:ds-ingest"),
])
def test_alias_calls_are_authorized_on_the_function(name: str, resource: str) -> None:
    rec = CallRecorder(ACCOUNT, REGION)
    _call(rec, "lambda", "get_alias", {"FunctionVersion": "1"}, FunctionName=name, Name="live")
    assert _requests(rec) == [Request("lambda:GetAlias", f"arn:aws:lambda:{REGION}:{ACCOUNT}:{resource}")]


def test_roles_handed_to_a_service_are_passed_to_that_service() -> None:
    rec = CallRecorder(ACCOUNT, REGION)
    role = f"arn:aws:iam::{ACCOUNT}:role/ds-schedule-role"
    _call(rec, "events", "put_targets", {"FailedEntryCount": 0}, Rule="ds-probe",
          Targets=[{"Id": "t", "Arn": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:ds-p", "RoleArn": role}])
    _call(rec, "ecs", "register_task_definition", {}, family="ds-api", containerDefinitions=[],
          taskRoleArn=role)
    assert _requests(rec) == [
        Request("events:PutTargets", f"arn:aws:events:{REGION}:{ACCOUNT}:rule/ds-probe"),
        Request("iam:PassRole", role, (("iam:PassedToService", "events.amazonaws.com"),)),
        Request("ecs:RegisterTaskDefinition", "*"),
        Request("iam:PassRole", role, (("iam:PassedToService", "ecs-tasks.amazonaws.com"),))]


def test_operations_whose_action_has_another_name() -> None:
    rec = CallRecorder(ACCOUNT, REGION)
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:ds-alerts"
    _call(rec, "lambda", "invoke", {}, FunctionName="ds-ingest", Qualifier="live")
    _call(rec, "sns", "unsubscribe", {}, SubscriptionArn=f"{topic}:0b1d")
    function = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:ds-ingest:live"
    assert _requests(rec) == [Request("lambda:InvokeFunction", function), Request("sns:Unsubscribe", "*")]


def test_saved_requests_come_back_as_recorded(tmp_path) -> None:
    rec = CallRecorder(ACCOUNT, REGION)
    _call(rec, "cloudformation", "create_change_set", {"Id": "cs", "StackId": "s"}, StackName="ds-dev-storage",
          ChangeSetName="c1", TemplateBody="{}", RoleARN=f"arn:aws:iam::{ACCOUNT}:role/ds-cfn-exec-{REGION}")
    _call(rec, "s3", "get_bucket_acl", {}, Bucket="ds-data")
    path = tmp_path / "calls.jsonl"
    rec.save(path)
    rec.save(path)  # a second session appends; duplicates are harmless
    requests, unmapped = load(path)
    assert list(requests) == [(ACCOUNT, REGION)]
    assert list(dict.fromkeys(requests[ACCOUNT, REGION])) == [r for _, r in rec.requests]
    assert unmapped == rec.unmapped * 2 and load(tmp_path / "absent.jsonl") == ({}, [])
