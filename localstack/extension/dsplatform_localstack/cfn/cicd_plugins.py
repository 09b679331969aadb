"""plux plugins for the CodeBuild and CodePipeline resource types (kept apart from plugins.py, which others share)."""

from __future__ import annotations

from dsplatform_localstack.cfn.plugins import _Plugin


class CodeBuildProjectPlugin(_Plugin):
    """AWS::CodeBuild::Project."""

    name = "AWS::CodeBuild::Project"
    _module, _class = "dsplatform_localstack.cfn.cicd", "CodeBuildProjectProvider"


class CodePipelinePlugin(_Plugin):
    """AWS::CodePipeline::Pipeline."""

    name = "AWS::CodePipeline::Pipeline"
    _module, _class = "dsplatform_localstack.cfn.cicd", "CodePipelineProvider"
