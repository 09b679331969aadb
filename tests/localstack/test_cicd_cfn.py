"""AWS::CodeBuild::Project and AWS::CodePipeline::Pipeline through CloudFormation: created (the pipeline starts
once, as on AWS), updated in place (project settings, a new stage, RestartExecutionOnUpdate), deleted."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.localstack.cicd_support import ROLE, log_lines, wait_build, wait_execution, zipped
from tests.localstack.support import ACCOUNT, unique

pytestmark = pytest.mark.localstack
STACK_WAITER = {"Delay": 1, "MaxAttempts": 120}
BUILDSPEC = "version: 0.2\nphases:\n  build:\n    commands:\n      - echo \"mode=$MODE\"\n"


def _template(name: str, bucket: str, mode: str, extra_stage: bool) -> str:
    def action(action_name: str, category: str, provider: str, configuration: dict[str, Any],
               **artifacts: list[dict[str, str]]) -> dict[str, Any]:
        return {"Name": action_name, "ActionTypeId": {"Category": category, "Owner": "AWS", "Provider": provider,
                                                      "Version": "1"},
                "Configuration": configuration, **artifacts}

    build = {"ProjectName": {"Ref": "Project"}}
    stages = [
        {"Name": "Source", "Actions": [action("Fetch", "Source", "S3", {"S3Bucket": bucket, "S3ObjectKey": "src.zip"},
                                              OutputArtifacts=[{"Name": "Src"}])]},
        {"Name": "Build", "Actions": [action("Build", "Build", "CodeBuild", build, InputArtifacts=[{"Name": "Src"}])]},
    ]
    if extra_stage:
        stages.append({"Name": "Check", "Actions": [action("Check", "Test", "CodeBuild", build,
                                                           InputArtifacts=[{"Name": "Src"}])]})
    return json.dumps({"Resources": {
        "Project": {"Type": "AWS::CodeBuild::Project", "Properties": {
            "Name": name, "ServiceRole": ROLE, "Source": {"Type": "CODEPIPELINE", "BuildSpec": BUILDSPEC},
            "Artifacts": {"Type": "CODEPIPELINE"},
            "Environment": {"Type": "LINUX_CONTAINER", "Image": "aws/codebuild/standard:7.0",
                            "ComputeType": "BUILD_GENERAL1_SMALL",
                            "EnvironmentVariables": [{"Name": "MODE", "Value": mode}]},
            "LogsConfig": {"CloudWatchLogs": {"Status": "ENABLED", "GroupName": f"/ci/{name}", "StreamName": "b"}}}},
        "Pipeline": {"Type": "AWS::CodePipeline::Pipeline", "Properties": {
            "Name": name, "RoleArn": ROLE, "RestartExecutionOnUpdate": True,
            "ArtifactStore": {"Type": "S3", "Location": bucket}, "Stages": stages}}},
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
