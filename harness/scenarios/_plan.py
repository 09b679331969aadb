"""Expected values from the rendered templates of the plan (what the configuration asked for)."""

from __future__ import annotations

from typing import Any


def resource_properties(plan: Any, stack_name: str, resource_type: str) -> list[dict[str, Any]]:
    """Properties of every ``resource_type`` resource in the stack, with parameter ``Ref``s resolved."""
    spec = plan.stack(stack_name)
    template = spec.template
    params = {name: p.get("Default") for name, p in template.get("Parameters", {}).items()}
    params.update(spec.parameters)
    return [
        _resolve(resource.get("Properties", {}), params)
        for resource in template.get("Resources", {}).values()
        if resource.get("Type") == resource_type
    ]


def _resolve(value: Any, params: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in params and params[value["Ref"]] is not None:
            return params[value["Ref"]]
        return {k: _resolve(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, params) for v in value]
    return value
