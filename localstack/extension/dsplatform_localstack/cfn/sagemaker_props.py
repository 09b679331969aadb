"""CloudFormation SageMaker properties -> API parameters: same names, numbers as numbers, tags as the API wants."""

from __future__ import annotations

from typing import Any

import localstack.services.cloudformation.provider_utils as util

_INTS = {"InitialInstanceCount", "VolumeSizeInGB", "ModelDataDownloadTimeoutInSeconds",
         "ContainerStartupHealthCheckTimeoutInSeconds", "InitialSamplingPercentage", "MaxConcurrency",
         "MemorySizeInMB", "ProvisionedConcurrency"}
_FLOATS = {"InitialVariantWeight"}
_BOOLS = {"EnableCapture", "EnableSSMAccess", "EnableNetworkIsolation", "EnableIntraNodeIsolation"}
_FREE_FORM = {"Environment"}  # user keys, kept as written


def api_value(value: Any, key: str | None = None) -> Any:
    """Cast the numbers and booleans CloudFormation hands over as strings, recursively."""
    if isinstance(value, dict):
        if key in _FREE_FORM:
            return {str(k): str(v) for k, v in value.items()}
        return {k: api_value(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [api_value(v, key) for v in value]
    if key in _INTS and isinstance(value, str):
        return int(value)
    if key in _FLOATS and isinstance(value, str):
        return float(value)
    if key in _BOOLS and isinstance(value, str):
        return value.lower() == "true"
    return value


def default_name(request: Any) -> str:
    """A name SageMaker accepts (letters, digits, '-', up to 63) from the stack and logical id."""
    name = util.generate_default_name(request.stack_name, request.logical_resource_id)
    cleaned = "".join(c if c.isalnum() else "-" for c in name).strip("-")
    return cleaned[-63:].lstrip("-")


def tags(model: dict[str, Any]) -> list[dict[str, str]]:
    """The resource's Tags as the API's Key/Value list."""
    return [{"Key": t["Key"], "Value": t["Value"]} for t in model.get("Tags") or []]
