"""Read a role's deployed IAM policy documents and evaluate them (for targets without a policy simulator)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import unquote

from harness.runs import Clients


@dataclass(frozen=True)
class Statement:
    """One policy statement, normalised to lists."""

    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    conditional: bool
    source: str


def role_statements(clients: Clients, role_arn: str) -> list[Statement]:
    """Every statement of the role's inline and attached managed policies (paginated)."""
    iam = clients.client("iam")
    role = role_arn.rsplit("/", 1)[-1]
    docs: list[tuple[str, Any]] = []
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=role):
        for name in page.get("PolicyNames", []):
            docs.append((f"inline {name}", iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]))
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role):
        for attached in page.get("AttachedPolicies", []):
            arn = attached["PolicyArn"]
            version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
            doc = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
            docs.append((f"managed {arn}", doc))
    statements: list[Statement] = []
    for source, doc in docs:
        if isinstance(doc, str):  # IAM returns URL-encoded JSON text from some endpoints
            doc = json.loads(unquote(doc))
        raw = doc.get("Statement", [])
        for st in raw if isinstance(raw, list) else [raw]:
            statements.append(
                Statement(
                    effect=str(st.get("Effect", "")),
                    actions=_tuple(st.get("Action")),
                    not_actions=_tuple(st.get("NotAction")),
                    resources=_tuple(st.get("Resource")),
                    not_resources=_tuple(st.get("NotResource")),
                    conditional=bool(st.get("Condition")),
                    source=source,
                )
            )
    return statements


def _tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)


def _matches(statement: Statement, action: str, resource: str) -> bool:
    if statement.actions:
        action_ok = any(fnmatchcase(action.lower(), a.lower()) for a in statement.actions)
    else:
        action_ok = not any(fnmatchcase(action.lower(), a.lower()) for a in statement.not_actions)
    if statement.resources:
        resource_ok = any(fnmatchcase(resource, r) for r in statement.resources)
    else:
        resource_ok = not any(fnmatchcase(resource, r) for r in statement.not_resources)
    return action_ok and resource_ok


def allows(statements: list[Statement], action: str, resource: str) -> bool:
    """Whether the statements allow ``action`` on ``resource`` (an unconditional Deny wins).

    Conditional Allows count as allowing: for the "cannot" checks that is the cautious reading.
    """
    if any(s.effect == "Deny" and not s.conditional and _matches(s, action, resource) for s in statements):
        return False
    return any(s.effect == "Allow" and _matches(s, action, resource) for s in statements)


def wildcard_actions(statements: list[Statement]) -> list[str]:
    """Allowed actions that are wildcards (``*`` or ``service:*``), with the policy they come from."""
    return [
        f"{s.source}: {a}"
        for s in statements
        if s.effect == "Allow"
        for a in s.actions
        if a == "*" or a.endswith(":*")
    ]
