"""Code assets on LocalStack: a function deployed from its zip in the assets bucket, uploaded once, a code change
publishing a new version, and a template over the 51,200-byte inline limit deployed by TemplateURL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dsplatform.deployer import Outcome, deploy, diff
from dsplatform.deployer.assets import bucket_name
from dsplatform.stackspec import CodeAsset, Plan, StackSpec, Target
from tests.integration.conftest import clients_for, unique_env

pytestmark = pytest.mark.localstack
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def _template() -> dict[str, Any]:
    return {
        "Parameters": {name: {"Type": "String"} for name in ("CodeBucket", "CodeKey", "CodeSha256")},
        # Padding past CloudFormation's inline TemplateBody limit: the deployer must use TemplateURL.
        "Metadata": {"Padding": "x" * 52_000},
        "Resources": {
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": TRUST}},
            "Function": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Runtime": "python3.11",
                    "Handler": "app.handler",
                    "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                    "Code": {"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}},
                },
            },
            "Version": {
                "Type": "AWS::Lambda::Version",
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                # CodeSha256 is create-only: a code change replaces this resource, i.e. publishes a version.
                "Properties": {"FunctionName": {"Ref": "Function"}, "CodeSha256": {"Ref": "CodeSha256"}},
            },
        },
        "Outputs": {
            "FunctionName": {"Value": {"Ref": "Function"}},
            "Version": {"Value": {"Fn::GetAtt": ["Version", "Version"]}},
        },
    }


def _plan(target: Target, source: Path) -> Plan:
    asset = CodeAsset("fn", source, "CodeBucket", "CodeKey", "CodeSha256")
    spec = StackSpec(name=f"ds-{target.env}-fn", component="fn", template=_template(), assets=(asset,))
    return Plan(target, (spec,))


def test_function_code_is_uploaded_once_and_a_change_publishes_a_version(
    localstack: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSPLATFORM_CACHE_DIR", str(tmp_path / "cache"))
    env, account = unique_env()
    target = Target(
        env=env, account_id=account, region="us-east-1", kind="localstack", endpoint_url=localstack.endpoint_url
    )
    source = tmp_path / "fn"
    source.mkdir()
    (source / "app.py").write_text("def handler(event, context):\n    return {'v': 1}\n")
    plan = _plan(target, source)
    clients = clients_for(plan)
    s3, lam = clients.client("s3"), clients.client("lambda")
    bucket = bucket_name(account, "us-east-1")

    first = deploy(plan, clients)
    assert first.stacks[plan.stacks[0].name].outcome is Outcome.CREATED, first.stacks
    outputs = first.stacks[plan.stacks[0].name].outputs
    assert json.loads(lam.invoke(FunctionName=outputs["FunctionName"])["Payload"].read()) == {"v": 1}
    uploaded = s3.list_object_versions(Bucket=bucket, Prefix="assets/").get("Versions", [])
    assert len(uploaded) == 1
    code = lam.get_function(FunctionName=outputs["FunctionName"])["Configuration"]["CodeSha256"]

    again = deploy(plan, clients)
    assert again.stacks[plan.stacks[0].name].outcome is Outcome.UNCHANGED
    assert s3.list_object_versions(Bucket=bucket, Prefix="assets/").get("Versions", []) == uploaded

    (source / "app.py").write_text("def handler(event, context):\n    return {'v': 2}\n")
    # `invoke diff` shows the code change before anything is deployed: the function and a new version.
    shown = diff(_plan(target, source), clients)[plan.stacks[0].name]
    assert shown.state == "update", shown
    assert {"Function", "Version"} <= {c.logical_id for c in shown.changes}, shown.changes
    changed = deploy(_plan(target, source), clients)
    result = changed.stacks[plan.stacks[0].name]
    assert result.outcome is Outcome.UPDATED, result.reason
    assert result.outputs["Version"] == "2"
    assert lam.get_function(FunctionName=outputs["FunctionName"])["Configuration"]["CodeSha256"] != code
    assert json.loads(lam.invoke(FunctionName=outputs["FunctionName"], Qualifier="1")["Payload"].read()) == {"v": 1}
    assert json.loads(lam.invoke(FunctionName=outputs["FunctionName"], Qualifier="2")["Payload"].read()) == {"v": 2}
    assert len(s3.list_object_versions(Bucket=bucket, Prefix="templates/").get("Versions", [])) >= 1
