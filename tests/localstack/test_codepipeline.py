"""A CodePipeline from a CloudFormation template runs for real: S3 source -> CodeBuild -> CloudFormation deploy
(CREATE_UPDATE) -> manual approval (SNS) -> CloudFormation change set (CHANGE_SET_REPLACE, CHANGE_SET_EXECUTE);
approving deploys, rejecting and a failing build fail the execution, and failures reach an EventBridge rule ->
SNS -> SQS as on AWS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.localstack.cicd_support import (
    ROLE,
    sns_messages,
    topic_queue,
    wait_action,
    wait_approval,
    wait_build,
    wait_execution,
    zipped,
)
from tests.localstack.support import ACCOUNT, unique

pytestmark = pytest.mark.localstack
STACK_WAITER = {"Delay": 1, "MaxAttempts": 120}
PROD = "210987654321"  # the prod account, rehearsed as a second simulated account

BUILDSPEC = """\
version: 0.2
env:
  exported-variables: [APP_VERSION]
phases:
  build:
    commands:
      - APP_VERSION=$(cat version.txt)
      - sh test.sh
      - python3 make_app.py > app.json
artifacts:
  files:
    - app.json
"""
MAKE_APP = """\
import json, os
value = os.environ["GREETING"] + " from " + open("version.txt").read().strip()
print(json.dumps({"Parameters": {"Name": {"Type": "String"}}, "Resources": {"P": {"Type": "AWS::SSM::Parameter",
      "Properties": {"Type": "String", "Name": {"Ref": "Name"}, "Value": value}}}}))
"""


def _action(name: str, category: str, provider: str, configuration: dict[str, Any], inputs: tuple[str, ...] = (),
            outputs: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"Name": name, "ActionTypeId": {"Category": category, "Owner": "AWS", "Provider": provider,
                                           "Version": "1"},
            "Configuration": configuration, "InputArtifacts": [{"Name": n} for n in inputs],
            "OutputArtifacts": [{"Name": n} for n in outputs], "RunOrder": 1}


def _template(world: dict[str, Any]) -> str:
    stages = [
        {"Name": "Source", "Actions": [{**_action("Fetch", "Source", "S3", {
            "S3Bucket": world["source"], "S3ObjectKey": "source.zip", "PollForSourceChanges": False},
            outputs=("Src",)), "Namespace": "SourceVariables"}]},
        {"Name": "Build", "Actions": [{**_action("Test", "Build", "CodeBuild", {
            "ProjectName": {"Ref": "Project"},
            "EnvironmentVariables": json.dumps([
                {"name": "GREETING", "value": "hello", "type": "PLAINTEXT"},
                {"name": "EXECUTION", "value": "#{codepipeline.PipelineExecutionId}", "type": "PLAINTEXT"},
                {"name": "SOURCE_ETAG", "value": "#{SourceVariables.ETag}", "type": "PLAINTEXT"}])},
            inputs=("Src",), outputs=("Built",)), "Namespace": "BuildVariables"}]},
        {"Name": "DeployDev", "Actions": [_action("Stack", "Deploy", "CloudFormation", {
            "ActionMode": "CREATE_UPDATE", "StackName": f"{world['app_stack']}-dev", "TemplatePath": "Built::app.json",
            "ParameterOverrides": json.dumps({"Name": f"{world['app_param']}-dev"}), "RoleArn": ROLE},
            inputs=("Built",))]},
        {"Name": "Approve", "Actions": [_action("Prod", "Approval", "Manual", {
            "NotificationArn": world["approval_topic"],
            "CustomData": "Approve the prod deploy of #{BuildVariables.APP_VERSION}"})]},
        {"Name": "DeployProd", "Actions": [
            {**_action("Plan", "Deploy", "CloudFormation", {
                "ActionMode": "CHANGE_SET_REPLACE", "StackName": world["app_stack"], "ChangeSetName": "release",
                "TemplatePath": "Built::app.json", "RoleArn": world["prod_role"],
                "ParameterOverrides": json.dumps({"Name": world["app_param"]})}, inputs=("Built",)),
             "RoleArn": world["prod_role"]},  # a cross-account action: it acts in the prod account
            {**_action("Apply", "Deploy", "CloudFormation", {
                "ActionMode": "CHANGE_SET_EXECUTE", "StackName": world["app_stack"], "ChangeSetName": "release"}),
             "RunOrder": 2, "RoleArn": world["prod_role"]}]},
    ]
    return json.dumps({
        "Resources": {
            "Project": {"Type": "AWS::CodeBuild::Project", "Properties": {
                "Source": {"Type": "CODEPIPELINE", "BuildSpec": BUILDSPEC}, "Artifacts": {"Type": "CODEPIPELINE"},
                "Environment": {"Type": "LINUX_CONTAINER", "Image": "aws/codebuild/standard:7.0",
                                "ComputeType": "BUILD_GENERAL1_SMALL"},
                "ServiceRole": ROLE, "TimeoutInMinutes": "10"}},
            "Pipeline": {"Type": "AWS::CodePipeline::Pipeline", "Properties": {
                "Name": world["pipeline"], "RoleArn": ROLE, "PipelineType": "V2",
                "ArtifactStore": {"Type": "S3", "Location": world["artifacts"]}, "Stages": stages}},
            "Failures": {"Type": "AWS::Events::Rule", "Properties": {
                "EventPattern": {"source": ["aws.codepipeline"],
                                 "detail-type": ["CodePipeline Pipeline Execution State Change"],
                                 "detail": {"state": ["FAILED"], "pipeline": [world["pipeline"]]}},
                "Targets": [{"Arn": world["failure_topic"], "Id": "notify"}]}},
        },
        "Outputs": {"Pipeline": {"Value": {"Ref": "Pipeline"}},
                    "Version": {"Value": {"Fn::GetAtt": ["Pipeline", "Version"]}},
                    "ProjectArn": {"Value": {"Fn::GetAtt": ["Project", "Arn"]}}},
    })


def _source(world: dict[str, Any], version: str, test: str = "exit 0\n") -> None:
    world["s3"].put_object(Bucket=world["source"], Key="source.zip",
                           Body=zipped({"version.txt": version, "test.sh": test, "make_app.py": MAKE_APP}))


@pytest.fixture(scope="module")
def world(localstack: Any) -> Iterator[dict[str, Any]]:
    """Source and artifact buckets, approval and failure topics with queues, then the pipeline's stack."""
    client = lambda service: localstack.client(service, ACCOUNT)  # noqa: E731
    s3, sns, sqs, cfn = client("s3"), client("sns"), client("sqs"), client("cloudformation")
    name = unique("cp")
    prod_iam = localstack.client("iam", PROD)
    prod_iam.create_role(RoleName=f"{name}-deploy", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}]}))
    world: dict[str, Any] = {"s3": s3, "sqs": sqs, "cfn": cfn, "ssm": client("ssm"), "cp": client("codepipeline"),
                             "prod_ssm": localstack.client("ssm", PROD),
                             "prod_role": f"arn:aws:iam::{PROD}:role/{name}-deploy",
                             "codebuild": client("codebuild"), "pipeline": name, "source": f"{name}-src",
                             "artifacts": f"{name}-artifacts", "app_stack": f"{name}-app", "app_param": f"/{name}/app"}
    for bucket in (world["source"], world["artifacts"]):
        s3.create_bucket(Bucket=bucket)
    world["approval_topic"], world["approval_queue"] = topic_queue(sns, sqs, "approve")
    world["failure_topic"], world["failure_queue"] = topic_queue(sns, sqs, "fail")
    _source(world, "v1")
    cfn.create_stack(StackName=name, TemplateBody=_template(world))
    cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=STACK_WAITER)
    world["outputs"] = {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName=name)["Stacks"][0][
        "Outputs"]}
    yield world
    prod_cfn = localstack.client("cloudformation", PROD)
    stacks = ((prod_cfn, world["app_stack"]), (cfn, f"{world['app_stack']}-dev"), (cfn, name))
    for owner, stack in stacks:
        owner.delete_stack(StackName=stack)
    for owner, stack in stacks:
        owner.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=STACK_WAITER)
    prod_iam.delete_role(RoleName=f"{name}-deploy")
    assert name not in [p["name"] for p in world["cp"].list_pipelines()["pipelines"]]


def _approve(world: dict[str, Any], status: str) -> dict[str, Any]:
    """Wait for the approval request, check its SNS message, answer it; the message."""
    token = wait_approval(world["cp"], world["pipeline"])
    (message,) = sns_messages(world["sqs"], world["approval_queue"])
    world["cp"].put_approval_result(pipelineName=world["pipeline"], stageName="Approve", actionName="Prod",
                                    result={"summary": f"{status} by the test", "status": status}, token=token)
    assert message["Message"]["approval"]["token"] == token
    return message


def _failures(world: dict[str, Any]) -> list[dict[str, Any]]:
    return [m["Message"] for m in sns_messages(world["sqs"], world["failure_queue"])]


def test_the_stack_creates_the_pipeline_which_starts_builds_waits_for_approval_and_deploys(
        world: dict[str, Any]) -> None:
    cp, name = world["cp"], world["pipeline"]
    assert world["outputs"]["Pipeline"] == name and world["outputs"]["Version"] == "1"
    assert world["outputs"]["ProjectArn"].startswith(f"arn:aws:codebuild:us-east-1:{ACCOUNT}:project/")
    (first,) = cp.list_pipeline_executions(pipelineName=name)["pipelineExecutionSummaries"]
    assert first["trigger"]["triggerType"] == "CreatePipeline"  # AWS starts a new pipeline once

    wait_approval(cp, name)  # dev is deployed before the approval is asked
    assert world["ssm"].get_parameter(Name=f"{world['app_param']}-dev")["Parameter"]["Value"] == "hello from v1"
    message = _approve(world, "Approved")
    assert message["Subject"] == f"APPROVAL NEEDED: AWS CodePipeline {name} for action Prod"
    approval = message["Message"]["approval"]
    assert (approval["pipelineName"], approval["stageName"], approval["actionName"], approval["customData"]) == (
        name, "Approve", "Prod", "Approve the prod deploy of v1")
    execution = wait_execution(cp, name, first["pipelineExecutionId"])
    assert execution["status"] == "Succeeded"
    assert world["prod_ssm"].get_parameter(Name=world["app_param"])["Parameter"]["Value"] == "hello from v1"
    with pytest.raises(world["ssm"].exceptions.ParameterNotFound):  # prod went to the prod account only
        world["ssm"].get_parameter(Name=world["app_param"])

    state = cp.get_pipeline_state(name=name)
    assert [(s["stageName"], s["latestExecution"]["status"]) for s in state["stageStates"]] == [
        ("Source", "Succeeded"), ("Build", "Succeeded"), ("DeployDev", "Succeeded"), ("Approve", "Succeeded"),
        ("DeployProd", "Succeeded")]
    build_id = state["stageStates"][1]["actionStates"][0]["latestExecution"]["externalExecutionId"]
    build = wait_build(world["codebuild"], build_id)
    assert build["initiator"] == f"codepipeline/{name}" and build["buildStatus"] == "SUCCEEDED"
    variables = {v["name"]: v["value"] for v in build["environment"]["environmentVariables"]}
    assert variables["EXECUTION"] == first["pipelineExecutionId"] and len(variables["SOURCE_ETAG"]) == 32
    assert build["exportedEnvironmentVariables"] == [{"name": "APP_VERSION", "value": "v1"}]


def test_rejecting_fails_the_execution_deploys_nothing_and_notifies(world: dict[str, Any]) -> None:
    cp, name = world["cp"], world["pipeline"]
    _source(world, "v2")
    execution_id = cp.start_pipeline_execution(name=name)["pipelineExecutionId"]
    _approve(world, "Rejected")
    execution = wait_execution(cp, name, execution_id)

    assert execution["status"] == "Failed"
    approve = cp.get_pipeline_state(name=name)["stageStates"][3]
    assert approve["latestExecution"] == {"pipelineExecutionId": execution_id, "status": "Failed"}
    assert approve["actionStates"][0]["latestExecution"]["summary"] == "Rejected by the test"
    assert world["prod_ssm"].get_parameter(Name=world["app_param"])["Parameter"]["Value"] == "hello from v1"
    assert world["ssm"].get_parameter(Name=f"{world['app_param']}-dev")["Parameter"]["Value"] == "hello from v2"
    (event,) = _failures(world)
    assert (event["source"], event["detail-type"]) == ("aws.codepipeline",
                                                       "CodePipeline Pipeline Execution State Change")
    assert event["detail"]["execution-id"] == execution_id and event["detail"]["state"] == "FAILED"


def test_a_failing_build_fails_the_execution_before_approval_and_notifies(world: dict[str, Any]) -> None:
    cp, name = world["cp"], world["pipeline"]
    _source(world, "v3", test="echo 1 test failed; exit 1\n")
    execution_id = cp.start_pipeline_execution(name=name)["pipelineExecutionId"]
    execution = wait_execution(cp, name, execution_id)

    assert execution["status"] == "Failed"
    build_stage = cp.get_pipeline_state(name=name)["stageStates"][1]
    latest = build_stage["actionStates"][0]["latestExecution"]
    assert latest["status"] == "Failed" and latest["errorDetails"]["code"] == "JobFailed"
    assert latest["errorDetails"]["message"].startswith("Build terminated with state: FAILED. Phase: BUILD, "
                                                        "Code: COMMAND_EXECUTION_ERROR")
    assert [e["detail"]["execution-id"] for e in _failures(world)] == [execution_id]
    assert world["ssm"].get_parameter(Name=f"{world['app_param']}-dev")["Parameter"]["Value"] == "hello from v2"
    assert sns_messages(world["sqs"], world["approval_queue"], seconds=1) == []  # no approval was asked
    summaries = cp.list_pipeline_executions(pipelineName=name)["pipelineExecutionSummaries"]
    assert [s["status"] for s in summaries] == ["Failed", "Failed", "Succeeded"]


def test_a_newer_execution_supersedes_one_waiting_for_a_stage_and_a_stop_abandons_the_approval(
        world: dict[str, Any]) -> None:
    cp, name = world["cp"], world["pipeline"]
    _source(world, "v4")
    first = cp.start_pipeline_execution(name=name)["pipelineExecutionId"]
    wait_approval(cp, name)  # the first holds the Approve stage
    second = cp.start_pipeline_execution(name=name)["pipelineExecutionId"]
    wait_action(cp, name, second, "DeployDev")  # the second waits for Approve
    third = cp.start_pipeline_execution(name=name)["pipelineExecutionId"]

    assert wait_execution(cp, name, second)["status"] == "Superseded"
    cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=first, abandon=True, reason="test")
    stopped = wait_execution(cp, name, first)
    assert (stopped["status"], stopped["statusSummary"]) == ("Stopped", "test")
    token = wait_approval(cp, name)  # now the third's
    cp.put_approval_result(pipelineName=name, stageName="Approve", actionName="Prod", token=token,
                           result={"summary": "no", "status": "Rejected"})
    assert wait_execution(cp, name, third)["status"] == "Failed"
    messages = sns_messages(world["sqs"], world["approval_queue"], want=2)
    assert [m["Message"]["approval"]["token"] for m in messages][-1] == token
    assert [e["detail"]["execution-id"] for e in _failures(world)] == [third]  # stopped/superseded are not FAILED
