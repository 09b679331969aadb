"""AWS::CodeBuild::Project and AWS::CodePipeline::Pipeline through CloudFormation: created (the pipeline starts
once, as on AWS), updated in place (project settings, a new stage, RestartExecutionOnUpdate), deleted."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.localstack.cicd_support import ROLE, log_lines, wait_action, wait_build, wait_execution, zipped
from tests.localstack.support import ACCOUNT, unique

pytestmark = pytest.mark.localstack
STACK_WAITER = {"Delay": 1, "MaxAttempts": 120}
BUILDSPEC = "version: 0.2\nphases:\n  build:\n    commands:\n      - echo \"mode=$MODE\"\n"


def _template(name: str, bucket: str, mode: str, extra_stage: bool, frozen: bool = False, poll: bool = True,
              buildspec: str = BUILDSPEC) -> str:
    def action(action_name: str, category: str, provider: str, configuration: dict[str, Any],
               **artifacts: list[dict[str, str]]) -> dict[str, Any]:
        return {"Name": action_name, "ActionTypeId": {"Category": category, "Owner": "AWS", "Provider": provider,
                                                      "Version": "1"},
                "Configuration": configuration, **artifacts}

    build = {"ProjectName": {"Ref": "Project"}}
    stages = [
        {"Name": "Source", "Actions": [action("Fetch", "Source", "S3", {"S3Bucket": bucket, "S3ObjectKey": "src.zip",
                                                                **({} if poll else {"PollForSourceChanges": False})},
                                              OutputArtifacts=[{"Name": "Src"}])]},
        {"Name": "Build", "Actions": [action("Build", "Build", "CodeBuild", build, InputArtifacts=[{"Name": "Src"}])]},
    ]
    if extra_stage:
        stages.append({"Name": "Check", "Actions": [action("Check", "Test", "CodeBuild", build,
                                                           InputArtifacts=[{"Name": "Src"}])]})
    return json.dumps({"Resources": {
        "Project": {"Type": "AWS::CodeBuild::Project", "Properties": {
            "Name": name, "ServiceRole": ROLE, "Source": {"Type": "CODEPIPELINE", "BuildSpec": buildspec},
            "Artifacts": {"Type": "CODEPIPELINE"},
            "Environment": {"Type": "LINUX_CONTAINER", "Image": "aws/codebuild/standard:7.0",
                            "ComputeType": "BUILD_GENERAL1_SMALL",
                            "EnvironmentVariables": [{"Name": "MODE", "Value": mode}]},
            "LogsConfig": {"CloudWatchLogs": {"Status": "ENABLED", "GroupName": f"/ci/{name}", "StreamName": "b"}}}},
        "Pipeline": {"Type": "AWS::CodePipeline::Pipeline", "Properties": {
            "Name": name, "RoleArn": ROLE, "RestartExecutionOnUpdate": True,
            "ArtifactStore": {"Type": "S3", "Location": bucket}, "Stages": stages,
            **({"DisableInboundStageTransitions": [{"StageName": "Build", "Reason": "freeze"}]} if frozen else {})}}},
        "Outputs": {"Version": {"Value": {"Fn::GetAtt": ["Pipeline", "Version"]}}}})


def _executions(cp: Any, name: str) -> list[dict[str, Any]]:
    return list(cp.list_pipeline_executions(pipelineName=name)["pipelineExecutionSummaries"])


def test_project_and_pipeline_are_created_updated_in_place_and_deleted(localstack: Any) -> None:
    cfn, cp = localstack.client("cloudformation", ACCOUNT), localstack.client("codepipeline", ACCOUNT)
    codebuild, logs = localstack.client("codebuild", ACCOUNT), localstack.client("logs", ACCOUNT)
    name = unique("cicd-cfn")
    localstack.client("s3", ACCOUNT).create_bucket(Bucket=name)
    localstack.client("s3", ACCOUNT).put_object(Bucket=name, Key="src.zip", Body=zipped({"a.txt": "a"}))
    logs.create_log_group(logGroupName=f"/ci/{name}")

    cfn.create_stack(StackName=name, TemplateBody=_template(name, name, "first", extra_stage=False))
    cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=STACK_WAITER)
    (created,) = _executions(cp, name)
    assert wait_execution(cp, name, created["pipelineExecutionId"])["status"] == "Succeeded"
    (build_id,) = codebuild.list_builds_for_project(projectName=name)["ids"]
    build = wait_build(codebuild, build_id)
    assert (build["logs"]["groupName"], build["logs"]["streamName"]) == (f"/ci/{name}",
                                                                        f"b/{build_id.split(':')[1]}")
    assert "mode=first" in log_lines(logs, build)

    cfn.update_stack(StackName=name, TemplateBody=_template(name, name, "second", extra_stage=True))
    cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=STACK_WAITER)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName=name)["Stacks"][0]["Outputs"]}
    pipeline = cp.get_pipeline(name=name)["pipeline"]
    assert outputs["Version"] == "2" and pipeline["version"] == 2
    assert [s["name"] for s in pipeline["stages"]] == ["Source", "Build", "Check"]
    (project,) = codebuild.batch_get_projects(names=[name])["projects"]
    assert project["environment"]["environmentVariables"] == [{"name": "MODE", "value": "second"}]
    restarted = _executions(cp, name)[0]  # RestartExecutionOnUpdate started one more
    assert restarted["pipelineExecutionId"] != created["pipelineExecutionId"]
    assert wait_execution(cp, name, restarted["pipelineExecutionId"])["status"] == "Succeeded"
    newest = wait_build(codebuild, codebuild.list_builds_for_project(projectName=name)["ids"][0])
    assert "mode=second" in log_lines(logs, newest)

    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=STACK_WAITER)
    assert name not in codebuild.list_projects()["projects"]
    assert name not in [p["name"] for p in cp.list_pipelines()["pipelines"]]


def test_an_s3_upload_starts_the_pipeline_through_an_eventbridge_rule(localstack: Any) -> None:
    cfn, cp = localstack.client("cloudformation", ACCOUNT), localstack.client("codepipeline", ACCOUNT)
    s3, events = localstack.client("s3", ACCOUNT), localstack.client("events", ACCOUNT)
    name = unique("cicd-ev")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration={"EventBridgeConfiguration": {}})
    localstack.client("logs", ACCOUNT).create_log_group(logGroupName=f"/ci/{name}")
    cfn.create_stack(StackName=name, TemplateBody=_template(name, name, "event", extra_stage=False, poll=False))
    cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=STACK_WAITER)
    (created,) = _executions(cp, name)  # no source yet: this one fails at Source
    assert wait_execution(cp, name, created["pipelineExecutionId"])["status"] == "Failed"
    events.put_rule(Name=name, EventPattern=json.dumps({
        "source": ["aws.s3"], "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [name]}, "object": {"key": ["src.zip"]}}}))
    events.put_targets(Rule=name, Targets=[{"Id": "pipeline", "RoleArn": ROLE,
                                            "Arn": f"arn:aws:codepipeline:us-east-1:{ACCOUNT}:{name}"}])

    s3.put_object(Bucket=name, Key="src.zip", Body=zipped({"a.txt": "a"}))
    started = _wait_for_executions(cp, name, 2)[0]
    assert started["trigger"] == {"triggerType": "CloudWatchEvent",
                                  "triggerDetail": f"arn:aws:events:us-east-1:{ACCOUNT}:rule/{name}"}
    assert wait_execution(cp, name, started["pipelineExecutionId"])["status"] == "Succeeded"
    events.remove_targets(Rule=name, Ids=["pipeline"])
    events.delete_rule(Name=name)
    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=STACK_WAITER)


def _wait_for_executions(cp: Any, name: str, count: int) -> list[dict[str, Any]]:
    """The pipeline's executions once there are ``count`` (a botocore waiter on ListPipelineExecutions)."""
    from botocore.waiter import WaiterModel, create_waiter_with_client

    model = WaiterModel({"version": 2, "waiters": {"Count": {
        "operation": "ListPipelineExecutions", "delay": 0.2, "maxAttempts": 150, "acceptors": [{
            "state": "success", "matcher": "path", "expected": True,
            "argument": f"length(pipelineExecutionSummaries) >= `{count}`"}]}}})
    create_waiter_with_client("Count", model, cp).wait(pipelineName=name)
    return _executions(cp, name)


def test_a_disabled_inbound_transition_holds_the_execution_until_it_is_enabled(localstack: Any) -> None:
    cfn, cp = localstack.client("cloudformation", ACCOUNT), localstack.client("codepipeline", ACCOUNT)
    name = unique("cicd-tr")
    localstack.client("s3", ACCOUNT).create_bucket(Bucket=name)
    localstack.client("s3", ACCOUNT).put_object(Bucket=name, Key="src.zip", Body=zipped({"a.txt": "a"}))
    localstack.client("logs", ACCOUNT).create_log_group(logGroupName=f"/ci/{name}")
    cfn.create_stack(StackName=name, TemplateBody=_template(name, name, "held", extra_stage=False, frozen=True))
    cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=STACK_WAITER)
    (created,) = _executions(cp, name)
    wait_action(cp, name, created["pipelineExecutionId"], "Source")

    build = {s["stageName"]: s for s in cp.get_pipeline_state(name=name)["stageStates"]}["Build"]
    assert build["inboundTransitionState"]["enabled"] is False
    assert build["inboundTransitionState"]["disabledReason"] == "freeze" and "latestExecution" not in build
    assert _executions(cp, name)[0]["status"] == "InProgress"
    cp.enable_stage_transition(pipelineName=name, stageName="Build", transitionType="Inbound")
    assert wait_execution(cp, name, created["pipelineExecutionId"])["status"] == "Succeeded"
    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=STACK_WAITER)


def test_an_s3_source_that_polls_starts_the_pipeline_when_its_object_changes(localstack: Any) -> None:
    cfn, cp = localstack.client("cloudformation", ACCOUNT), localstack.client("codepipeline", ACCOUNT)
    s3 = localstack.client("s3", ACCOUNT)
    name = unique("cicd-poll")
    s3.create_bucket(Bucket=name)
    localstack.client("logs", ACCOUNT).create_log_group(logGroupName=f"/ci/{name}")
    cfn.create_stack(StackName=name, TemplateBody=_template(name, name, "polled", extra_stage=False))  # default
    cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=STACK_WAITER)
    (created,) = _executions(cp, name)
    assert wait_execution(cp, name, created["pipelineExecutionId"])["status"] == "Failed"  # no object yet

    s3.put_object(Bucket=name, Key="src.zip", Body=zipped({"a.txt": "a"}))
    polled = _wait_for_executions(cp, name, 2)[0]
    assert polled["trigger"] == {"triggerType": "PollForSourceChanges", "triggerDetail": f"{name}/src.zip"}
    assert wait_execution(cp, name, polled["pipelineExecutionId"])["status"] == "Succeeded"
    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=STACK_WAITER)


GATE = """\
import os, boto3
value = boto3.client("ssm").get_parameter(Name=os.environ["GATE"])["Parameter"]["Value"]
print("gate", value)
raise SystemExit(value != "open")
"""


def test_a_failed_stage_is_retried_in_the_same_execution_and_a_build_reaches_localstack_through_the_sdk(
        localstack: Any) -> None:
    cfn, cp = localstack.client("cloudformation", ACCOUNT), localstack.client("codepipeline", ACCOUNT)
    ssm, s3 = localstack.client("ssm", ACCOUNT), localstack.client("s3", ACCOUNT)
    name = unique("cicd-retry")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="src.zip", Body=zipped({"gate.py": GATE}))
    ssm.put_parameter(Name=f"/{name}/gate", Value="closed", Type="String")
    localstack.client("logs", ACCOUNT).create_log_group(logGroupName=f"/ci/{name}")
    buildspec = f"version: 0.2\nenv:\n  variables:\n    GATE: /{name}/gate\nphases:\n  build:\n    commands:\n" \
                "      - python3 gate.py\n"
    cfn.create_stack(StackName=name, TemplateBody=_template(name, name, "gate", extra_stage=False, poll=False,
                                                            buildspec=buildspec))
    cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=STACK_WAITER)
    (created,) = _executions(cp, name)
    execution_id = created["pipelineExecutionId"]
    assert wait_execution(cp, name, execution_id)["status"] == "Failed"  # the build read "closed" from SSM

    ssm.put_parameter(Name=f"/{name}/gate", Value="open", Type="String", Overwrite=True)
    assert cp.retry_stage_execution(pipelineName=name, stageName="Build", pipelineExecutionId=execution_id,
                                    retryMode="ALL_ACTIONS")["pipelineExecutionId"] == execution_id
    assert wait_execution(cp, name, execution_id)["status"] == "Succeeded"
    details = cp.list_action_executions(pipelineName=name, filter={"pipelineExecutionId": execution_id})[
        "actionExecutionDetails"]
    assert sorted((d["actionName"], d["status"]) for d in details) == [
        ("Build", "Failed"), ("Build", "Succeeded"), ("Fetch", "Succeeded")]  # the source is not fetched again
    with pytest.raises(cp.exceptions.StageNotRetryableException):
        cp.retry_stage_execution(pipelineName=name, stageName="Build", pipelineExecutionId=execution_id,
                                 retryMode="FAILED_ACTIONS")
    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=STACK_WAITER)
