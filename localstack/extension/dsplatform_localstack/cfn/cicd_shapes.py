"""CloudFormation properties of AWS::CodeBuild::Project and AWS::CodePipeline::Pipeline -> API requests.

Pure (no LocalStack import), so it is unit-tested on its own.
"""

from __future__ import annotations

import json
from typing import Any

_RENAMES = {"BuildSpec": "buildspec", "S3Logs": "s3Logs", "GitCloneDepth": "gitCloneDepth"}
_INTS = {"timeoutInMinutes", "queuedTimeoutInMinutes", "concurrentBuildLimit", "gitCloneDepth", "runOrder"}
_BOOLS = {"privilegedMode", "encryptionDisabled", "insecureSsl", "reportBuildStatus", "overrideArtifactName",
          "badgeEnabled", "enabled"}
_FREE_FORM = {"Configuration"}  # action configuration keys are the provider's own, kept as written


def _lower(key: str) -> str:
    return _RENAMES.get(key, key[:1].lower() + key[1:])


def api(value: Any, key: str | None = None) -> Any:
    """PascalCase properties -> camelCase API members; numbers and booleans from CloudFormation's strings."""
    if isinstance(value, dict):
        if key in _FREE_FORM:
            return {str(k): _string(v) for k, v in value.items()}
        out: dict[str, Any] = {}
        for k, v in value.items():
            name = _lower(k)
            converted = api(v, k)
            if name in _INTS and isinstance(converted, str) and converted.isdigit():
                converted = int(converted)
            if name in _BOOLS and isinstance(converted, str):
                converted = converted.lower() == "true"
            out[name] = converted
        return out
    if isinstance(value, list):
        return [api(v, key) for v in value]
    return value


def _string(value: Any) -> str:
    """An action configuration value as the API's string (CloudFormation accepts booleans and JSON objects)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


_PROJECT_KEYS = ("Description", "Source", "SecondarySources", "SourceVersion", "Artifacts", "SecondaryArtifacts",
                 "Environment", "ServiceRole", "TimeoutInMinutes", "QueuedTimeoutInMinutes", "EncryptionKey", "Tags",
                 "VpcConfig", "LogsConfig", "Cache", "ConcurrentBuildLimit", "BadgeEnabled")


def project_request(model: dict[str, Any]) -> dict[str, Any]:
    """CreateProject/UpdateProject parameters from an AWS::CodeBuild::Project's properties."""
    chosen = {key: model[key] for key in _PROJECT_KEYS if model.get(key) is not None}
    return {"name": model["Name"], **api(chosen)}


def pipeline_request(model: dict[str, Any]) -> dict[str, Any]:
    """The `pipeline` structure of CreatePipeline/UpdatePipeline from an AWS::CodePipeline::Pipeline."""
    pipeline: dict[str, Any] = {"name": model["Name"], "roleArn": model["RoleArn"],
                                "stages": api(model.get("Stages") or [])}
    if model.get("ArtifactStore"):
        pipeline["artifactStore"] = api(model["ArtifactStore"])
    if model.get("ArtifactStores"):  # a list of {Region, ArtifactStore} in CloudFormation, a map in the API
        pipeline["artifactStores"] = {s["Region"]: api(s["ArtifactStore"]) for s in model["ArtifactStores"]}
    for key in ("PipelineType", "ExecutionMode", "Variables", "Triggers"):
        if model.get(key):
            pipeline[_lower(key)] = api(model[key])
    return pipeline


def pipeline_tags(model: dict[str, Any]) -> list[dict[str, str]]:
    """The pipeline's Tags as CodePipeline's key/value list."""
    return [{"key": t["Key"], "value": t["Value"]} for t in model.get("Tags") or []]
