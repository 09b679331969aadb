"""Shared pieces of the ELBv2 CloudFormation providers: names, tags, attributes and actions."""

from __future__ import annotations

import re
import uuid
from typing import Any


def default_name(stack_name: str, logical_id: str) -> str:
    """A name as CloudFormation generates it for ELBv2 (at most 32 characters, letters, digits, hyphens)."""
    suffix = uuid.uuid4().hex[:12].upper()
    base = re.sub(r"[^A-Za-z0-9-]", "-", f"{stack_name[:10]}-{logical_id[:8]}").strip("-")
    return re.sub(r"-+", "-", f"{base}-{suffix}")[:32].strip("-")


def tags(model: dict[str, Any]) -> list[dict[str, str]]:
    """The model's Tags as the API takes them."""
    return [{"Key": t["Key"], "Value": str(t["Value"])} for t in model.get("Tags") or []]


def attributes(items: list[dict[str, Any]] | None) -> list[dict[str, str]]:
    """LoadBalancerAttributes / TargetGroupAttributes as the API takes them (values are strings)."""
    return [
        {"Key": a["Key"], "Value": str(a["Value"]).lower() if isinstance(a["Value"], bool) else str(a["Value"])}
        for a in items or []
    ]


def actions(items: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Listener/rule actions as the API takes them (numbers in redirect/fixed-response configs are strings)."""
    converted = []
    for item in items or []:
        action = {k: v for k, v in item.items() if v is not None}
        if "Order" in action:
            action["Order"] = int(action["Order"])
        if isinstance(action.get("RedirectConfig"), dict) and "Port" in action["RedirectConfig"]:
            action["RedirectConfig"] = {**action["RedirectConfig"], "Port": str(action["RedirectConfig"]["Port"])}
        if isinstance(action.get("FixedResponseConfig"), dict) and "StatusCode" in action["FixedResponseConfig"]:
            config = action["FixedResponseConfig"]
            action["FixedResponseConfig"] = {**config, "StatusCode": str(config["StatusCode"])}
        forward = action.get("ForwardConfig")
        if isinstance(forward, dict) and forward.get("TargetGroups"):
            groups = [{**g, **({"Weight": int(g["Weight"])} if "Weight" in g else {})} for g in forward["TargetGroups"]]
            action["ForwardConfig"] = {**forward, "TargetGroups": groups}
        converted.append(action)
    return converted


def replace_tags(client: Any, arn: str, old: list[dict[str, str]], new: list[dict[str, str]]) -> None:
    """Remove the tags the template dropped and set the ones it gives (tags the extension added stay)."""
    dropped = sorted({t["Key"] for t in old} - {t["Key"] for t in new})
    if dropped:
        client.remove_tags(ResourceArns=[arn], TagKeys=dropped)
    if new:
        client.add_tags(ResourceArns=[arn], Tags=new)
