"""Lambda through CloudFormation: an S3 notification -> alias `live` -> function -> DynamoDB item, a code change
that publishes a version and moves the alias in place (the extension's fix), and the table's properties."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import WaiterError

from tests.localstack.lambda_support import wait_item, zip_source
from tests.localstack.support import ACCOUNT, REGION, unique

pytestmark = pytest.mark.localstack
WAITER = {"Delay": 1, "MaxAttempts": 300}

SOURCE = """
import os
from urllib.parse import unquote_plus
import boto3

TABLE = boto3.resource("dynamodb").Table(os.environ["TABLE"])


def handler(event, context):
    for record in event["Records"]:
        key = unquote_plus(record["s3"]["object"]["key"])
        TABLE.put_item(Item={"pk": key, "version": context.function_version, "tag": os.environ["TAG"],
                             "arn": context.invoked_function_arn})
"""


def _template(bucket: str, code_bucket: str, tag: str) -> str:
    version = f"Version{tag.upper()}"  # a new logical id per code change publishes a new version
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    return json.dumps(
        {
            "Resources": {
                "Table": {
                    "Type": "AWS::DynamoDB::Table",
                    "Properties": {
                        "BillingMode": "PAY_PER_REQUEST",
                        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                        "SSESpecification": {"SSEEnabled": True},
                        "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
                    },
                },
                "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": trust}},
                "Function": {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {
                        "Runtime": "python3.11",
                        "Handler": "app.handler",
                        "Timeout": 10,
                        "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                        "Code": {"S3Bucket": code_bucket, "S3Key": f"{tag}.zip"},
                        "Environment": {"Variables": {"TABLE": {"Ref": "Table"}, "TAG": tag}},
                    },
                },
                version: {
                    "Type": "AWS::Lambda::Version",
                    "DeletionPolicy": "Retain",  # the previous version stays, so `live` can be moved back
                    "Properties": {"FunctionName": {"Ref": "Function"}},
                },
                "Live": {
                    "Type": "AWS::Lambda::Alias",
                    "Properties": {
                        "FunctionName": {"Ref": "Function"},
                        "Name": "live",
                        "FunctionVersion": {"Fn::GetAtt": [version, "Version"]},
                    },
                },
                "Permission": {
                    "Type": "AWS::Lambda::Permission",
                    "Properties": {
                        "Action": "lambda:InvokeFunction",
                        "FunctionName": {"Ref": "Live"},
                        "Principal": "s3.amazonaws.com",
                        "SourceArn": f"arn:aws:s3:::{bucket}",
                        "SourceAccount": ACCOUNT,
                    },
                },
                "Bucket": {
                    "Type": "AWS::S3::Bucket",
                    "DependsOn": "Permission",
                    "Properties": {
                        "BucketName": bucket,
                        "NotificationConfiguration": {
                            "LambdaConfigurations": [
                                {
                                    "Event": "s3:ObjectCreated:*",
                                    "Function": {"Ref": "Live"},
                                    "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": "raw/"}]}},
                                }
                            ]
                        },
                    },
                },
            },
            "Outputs": {
                "Table": {"Value": {"Ref": "Table"}},
                "Alias": {"Value": {"Ref": "Live"}},
                "Function": {"Value": {"Ref": "Function"}},
            },
        }
    )


def _outputs(cfn: Any, name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


@pytest.fixture
def stack(localstack: Any) -> Any:
    """A stack name and the code bucket with v1.zip and v2.zip; the stack and buckets are removed after."""
    cfn, s3 = localstack.client("cloudformation", ACCOUNT), localstack.client("s3", ACCOUNT)
    name, code_bucket = unique("lslambda"), unique("lscode")
    s3.create_bucket(Bucket=code_bucket)
    for tag in ("v1", "v2"):
        s3.put_object(Bucket=code_bucket, Key=f"{tag}.zip", Body=zip_source({"app.py": SOURCE}))
    data_bucket = unique("lsdata")
    yield {"name": name, "bucket": data_bucket, "code_bucket": code_bucket}
    # As on AWS, a stack's bucket must be empty before the stack can delete it.
    with contextlib.suppress(s3.exceptions.NoSuchBucket):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=data_bucket):
            for item in page.get("Contents", []):
                s3.delete_object(Bucket=data_bucket, Key=item["Key"])
    cfn.delete_stack(StackName=name)
    try:
        cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=WAITER)
    except WaiterError:
        events = cfn.describe_stack_events(StackName=name)["StackEvents"]
        failed = [f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}" for e in events
                  if e["ResourceStatus"].endswith("FAILED")]
        raise AssertionError(f"stack {name} was not deleted: {failed}") from None


def _table(localstack: Any, name: str) -> Any:
    return boto3.resource(
        "dynamodb",
        endpoint_url=localstack.endpoint_url,
        region_name=REGION,
        aws_access_key_id=ACCOUNT,
        aws_secret_access_key="test",
    ).Table(name)


def test_s3_notification_reaches_the_alias_and_a_code_change_moves_it(localstack: Any, stack: dict[str, Any]) -> None:
    cfn, s3, lam = (localstack.client(s, ACCOUNT) for s in ("cloudformation", "s3", "lambda"))
    name, bucket = stack["name"], stack["bucket"]
    cfn.create_stack(
        StackName=name, TemplateBody=_template(bucket, stack["code_bucket"], "v1"), Capabilities=["CAPABILITY_IAM"]
    )
    cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=WAITER)
    out = _outputs(cfn, name)
    table = _table(localstack, out["Table"])

    s3.put_object(Bucket=bucket, Key="raw/first file.csv", Body=b"a,b\n1,2\n")
    s3.put_object(Bucket=bucket, Key="other/ignored.csv", Body=b"a,b\n")
    item = wait_item(table, {"pk": "raw/first file.csv"})
    assert (item["version"], item["tag"]) == ("1", "v1")
    assert item["arn"] == out["Alias"]  # invoked through the alias, not $LATEST

    cfn.update_stack(
        StackName=name, TemplateBody=_template(bucket, stack["code_bucket"], "v2"), Capabilities=["CAPABILITY_IAM"]
    )
    cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=WAITER)
    assert lam.get_alias(FunctionName=out["Function"], Name="live")["FunctionVersion"] == "2"
    versions = {v["Version"] for v in lam.list_versions_by_function(FunctionName=out["Function"])["Versions"]}
    assert {"1", "2"} <= versions  # the previous version still exists

    s3.put_object(Bucket=bucket, Key="raw/second.csv", Body=b"a,b\n1,2\n")
    item = wait_item(table, {"pk": "raw/second.csv"})
    assert (item["version"], item["tag"]) == ("2", "v2")
    assert table.get_item(Key={"pk": "other/ignored.csv"}).get("Item") is None  # outside the prefix filter


def test_table_from_cloudformation_has_pitr_sse_and_ttl(localstack: Any, stack: dict[str, Any]) -> None:
    cfn, ddb = localstack.client("cloudformation", ACCOUNT), localstack.client("dynamodb", ACCOUNT)
    name = stack["name"]
    cfn.create_stack(
        StackName=name,
        TemplateBody=_template(stack["bucket"], stack["code_bucket"], "v1"),
        Capabilities=["CAPABILITY_IAM"],
    )
    cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=WAITER)
    table = _outputs(cfn, name)["Table"]
    described = ddb.describe_table(TableName=table)["Table"]
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert described["SSEDescription"]["Status"] == "ENABLED"
    backups = ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    ttl = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")
