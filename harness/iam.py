"""Read a role's deployed IAM policy documents and evaluate them (for targets without a policy simulator).

The documents are read back from the deployed role (never from local config); ``harness.policy_eval``
evaluates them with AWS's rules, conditions included.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from harness.policy_eval import ContextValue, Decision, Statement, evaluate, parse_document
from harness.runs import Clients

__all__ = ["Decision", "Statement", "allows", "evaluate", "role_statements", "wildcard_actions"]


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
        statements += parse_document(doc, source)
    return statements


def allows(statements: list[Statement], action: str, resource: str,
           context: Mapping[str, ContextValue] | None = None) -> bool:
    """Whether the statements allow ``action`` on ``resource`` in this request context (explicit Deny wins)."""
    return evaluate(statements, action, resource, context) is Decision.ALLOWED


def wildcard_actions(statements: list[Statement]) -> list[str]:
    """Allowed actions with a wildcard (``*``, ``s3:*``, ``s3:Get*``) or a NotAction, with their policy."""
    return [
        f"{s.source}: {a}"
        for s in statements
        if s.effect == "Allow"
        for a in s.actions
        if "*" in a or "?" in a
    ] + [f"{s.source}: NotAction {list(s.not_actions)}" for s in statements if s.effect == "Allow" and s.not_actions]
