"""AWS::CodeBuild::Project (Ref = name, GetAtt Arn) and AWS::CodePipeline::Pipeline (Ref = name, GetAtt Version),
created through this extension's CodeBuild and CodePipeline services; both update in place."""

from __future__ import annotations

from typing import Any, ClassVar

import localstack.services.cloudformation.provider_utils as util
from localstack.services.cloudformation.resource_provider import ResourceProvider

from dsplatform_localstack.cfn.cicd_shapes import pipeline_request, pipeline_tags, project_request
from dsplatform_localstack.cfn.convert import ok


def _name(request: Any) -> str:
    name = util.generate_default_name(request.stack_name, request.logical_resource_id)
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)[-100:].lstrip("-_")


class CodeBuildProjectProvider(ResourceProvider[dict]):
    """CreateProject / UpdateProject / DeleteProject."""

    TYPE = "AWS::CodeBuild::Project"
    SCHEMA: ClassVar[dict[str, Any]] = {
        "typeName": TYPE, "properties": {}, "primaryIdentifier": ["/properties/Id"],
        "readOnlyProperties": ["/properties/Arn", "/properties/Id"], "createOnlyProperties": ["/properties/Name"],
    }

    def create(self, request: Any) -> Any:
        """CreateProject with the template's properties; Id (Ref) is the name."""
        model = request.desired_state
        model.setdefault("Name", _name(request))
        project = request.aws_client_factory.codebuild.create_project(**project_request(model))["project"]
        model["Id"], model["Arn"] = project["name"], project["arn"]
        return ok(request, model)

    def update(self, request: Any) -> Any:
        """UpdateProject (the name is create-only: a new name replaces the project)."""
        previous = request.previous_state or {}
        model = request.desired_state
        model["Name"] = previous.get("Name") or model.get("Name")
        request.aws_client_factory.codebuild.update_project(**project_request(model))
        model["Id"], model["Arn"] = previous.get("Id"), previous.get("Arn")
        return ok(request, model)

    def delete(self, request: Any) -> Any:
        """DeleteProject."""
        model = request.desired_state
        request.aws_client_factory.codebuild.delete_project(name=model.get("Id") or model["Name"])
        return ok(request, model)


class CodePipelineProvider(ResourceProvider[dict]):
    """CreatePipeline / UpdatePipeline / DeletePipeline."""

    TYPE = "AWS::CodePipeline::Pipeline"
    SCHEMA: ClassVar[dict[str, Any]] = {
        "typeName": TYPE, "properties": {}, "primaryIdentifier": ["/properties/Id"],
        "readOnlyProperties": ["/properties/Version", "/properties/Id"], "createOnlyProperties": ["/properties/Name"],
    }

    def create(self, request: Any) -> Any:
        """CreatePipeline (which starts the pipeline once, as on AWS); Id (Ref) is the name."""
        model = request.desired_state
        model.setdefault("Name", _name(request))
        client = request.aws_client_factory.codepipeline
        kwargs: dict[str, Any] = {"pipeline": pipeline_request(model)}
        if pipeline_tags(model):
            kwargs["tags"] = pipeline_tags(model)
        pipeline = client.create_pipeline(**kwargs)["pipeline"]
        model["Id"], model["Version"] = pipeline["name"], str(pipeline.get("version", 1))
        _transitions(client, model, {})
        return ok(request, model)

    def update(self, request: Any) -> Any:
        """UpdatePipeline (the version goes up); RestartExecutionOnUpdate starts an execution."""
        previous = request.previous_state or {}
        model = request.desired_state
        model["Name"] = previous.get("Name") or model.get("Name")
        client = request.aws_client_factory.codepipeline
        pipeline = client.update_pipeline(pipeline=pipeline_request(model))["pipeline"]
        model["Id"], model["Version"] = previous.get("Id"), str(pipeline.get("version", 1))
        _transitions(client, model, previous)
        if str(model.get("RestartExecutionOnUpdate", "false")).lower() == "true":
            client.start_pipeline_execution(name=model["Name"])
        return ok(request, model)

    def delete(self, request: Any) -> Any:
        """DeletePipeline."""
        model = request.desired_state
        request.aws_client_factory.codepipeline.delete_pipeline(name=model.get("Id") or model["Name"])
        return ok(request, model)


def _transitions(client: Any, model: dict[str, Any], previous: dict[str, Any]) -> None:
    """DisableInboundStageTransitions: disable the listed stages' inbound transitions, enable those dropped."""
    wanted = {t["StageName"]: t.get("Reason", "") for t in model.get("DisableInboundStageTransitions") or []}
    for stage, reason in wanted.items():
        client.disable_stage_transition(pipelineName=model["Name"], stageName=stage, transitionType="Inbound",
                                        reason=reason or "Disabled by CloudFormation")
    for item in previous.get("DisableInboundStageTransitions") or []:
        if item["StageName"] not in wanted:
            client.enable_stage_transition(pipelineName=model["Name"], stageName=item["StageName"],
                                           transitionType="Inbound")
