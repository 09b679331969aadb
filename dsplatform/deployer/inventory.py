"""What is deployed now: the plan's stacks as CloudFormation describes them, read in one paginated listing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def deployed_stacks(cfn: Any, names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Descriptions of the named stacks that exist (not DELETE_COMPLETE), from one DescribeStacks listing.

    One listing instead of a call per stack keeps a no-op deploy to a couple of round trips.
    """
    wanted = set(names)
    found: dict[str, dict[str, Any]] = {}
    for page in cfn.get_paginator("describe_stacks").paginate():
        for stack in page.get("Stacks", []):
            name = stack.get("StackName")
            if name in wanted and stack.get("StackStatus") != "DELETE_COMPLETE":
                found[name] = dict(stack)
    return found


def stack_outputs(description: Mapping[str, Any] | None) -> dict[str, str]:
    """A described stack's outputs as {key: value}."""
    if not description:
        return {}
    return {o["OutputKey"]: str(o.get("OutputValue", "")) for o in description.get("Outputs", []) or []}


def stack_tag(description: Mapping[str, Any] | None, key: str) -> str | None:
    """The value of one stack tag, None when absent."""
    for tag in (description or {}).get("Tags", []) or []:
        if tag.get("Key") == key:
            return str(tag.get("Value"))
    return None
