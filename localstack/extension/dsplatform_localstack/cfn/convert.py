"""CloudFormation property names (PascalCase) to ECS API names (camelCase), keeping free-form maps intact."""

from __future__ import annotations

from typing import Any

# Maps whose keys are user data, not property names (e.g. awslogs-group, docker labels).
_FREE_FORM = {"Options", "DockerLabels", "SecretOptions_", "Labels", "DriverOpts"}
_INT_FIELDS = {
    "cpu",
    "memory",
    "memoryReservation",
    "containerPort",
    "hostPort",
    "startTimeout",
    "stopTimeout",
    "desiredCount",
    "healthCheckGracePeriodSeconds",
    "sizeInGiB",
    "interval",
    "timeout",
    "retries",
    "startPeriod",
    "weight",
    "base",
    "maximumPercent",
    "minimumHealthyPercent",
}


def camel(value: Any, key: str | None = None) -> Any:
    """Recursively lower the first letter of every key, except inside free-form maps; cast known integers."""
    if isinstance(value, dict):
        if key in _FREE_FORM:
            return {k: v for k, v in value.items()}
        out = {}
        for k, v in value.items():
            name = k[:1].lower() + k[1:]
            converted = camel(v, k)
            if name in _INT_FIELDS and isinstance(converted, str) and converted.lstrip("-").isdigit():
                converted = int(converted)
            out[name] = converted
        return out
    if isinstance(value, list):
        return [camel(v, key) for v in value]
    return value


def ecs_tags(tags: list[dict[str, str]] | None) -> list[dict[str, str]]:
    """CloudFormation Tags -> ECS tags (lower-case key/value)."""
    return [{"key": t["Key"], "value": t["Value"]} for t in tags or []]


def ok(request: Any, model: dict[str, Any]) -> Any:
    """A SUCCESS progress event carrying ``model``."""
    from localstack.services.cloudformation.resource_provider import OperationStatus, ProgressEvent

    return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model, custom_context=request.custom_context)


def failed(request: Any, model: dict[str, Any], message: str, error_code: str) -> Any:
    """A FAILED progress event: the resource fails with ``message`` (the stack's event reason)."""
    from localstack.services.cloudformation.resource_provider import OperationStatus, ProgressEvent

    return ProgressEvent(status=OperationStatus.FAILED, resource_model=model, message=message,
                         error_code=error_code, custom_context=request.custom_context)
