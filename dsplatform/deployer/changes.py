"""Resource changes read from a change set (or a template for a new stack), and the stateful-data check."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# The one list of resource types whose replacement or removal loses data.
STATEFUL_TYPES: frozenset[str] = frozenset(
    {
        "AWS::S3::Bucket",
        "AWS::Logs::LogGroup",
        "AWS::ECR::Repository",
        "AWS::DynamoDB::Table",
        "AWS::KMS::Key",
    }
)


@dataclass(frozen=True)
class Change:
    """One resource change: action Add/Modify/Remove (Import, Dynamic), replacement True/False/Conditional."""

    stack: str
    action: str
    logical_id: str
    resource_type: str
    replacement: str  # "True", "False", "Conditional" or "" (Add/Remove)
    properties: tuple[str, ...] = ()

    @property
    def stateful(self) -> bool:
        """True when the resource type holds data."""
        return self.resource_type in STATEFUL_TYPES

    @property
    def destructive(self) -> bool:
        """True when data would be lost: a stateful resource removed or (maybe) replaced."""
        if not self.stateful:
            return False
        return self.action == "Remove" or (self.action == "Modify" and self.replacement in ("True", "Conditional"))

    def describe(self) -> str:
        """One line for the diff output."""
        repl = f" replacement={self.replacement}" if self.action == "Modify" else ""
        props = f" [{', '.join(self.properties)}]" if self.properties else ""
        flag = " !! DATA LOSS" if self.destructive else ""
        return f"{self.action:<6} {self.logical_id} ({self.resource_type}){repl}{props}{flag}"

    def to_json(self) -> dict[str, Any]:
        """A JSON-friendly dict."""
        return {
            "stack": self.stack,
            "action": self.action,
            "logical_id": self.logical_id,
            "resource_type": self.resource_type,
            "replacement": self.replacement,
            "properties": list(self.properties),
            "stateful": self.stateful,
            "destructive": self.destructive,
        }


def changes_from_change_set(stack: str, pages: Iterable[dict[str, Any]]) -> list[Change]:
    """Changes from DescribeChangeSet pages (a paginator's output)."""
    out: list[Change] = []
    for page in pages:
        for item in page.get("Changes", []):
            rc = item.get("ResourceChange") or {}
            props: list[str] = []
            for detail in rc.get("Details", []) or []:
                target = detail.get("Target") or {}
                name = target.get("Name") or target.get("Attribute")
                if name and name not in props:
                    props.append(str(name))
            out.append(
                Change(
                    stack=stack,
                    action=str(rc.get("Action", "")),
                    logical_id=str(rc.get("LogicalResourceId", "")),
                    resource_type=str(rc.get("ResourceType", "")),
                    replacement=str(rc.get("Replacement", "") or ""),
                    properties=tuple(props),
                )
            )
    return out


def changes_for_new_stack(stack: str, template: dict[str, Any]) -> list[Change]:
    """Every resource of a template as an Add (a stack not deployed yet)."""
    return [
        Change(stack=stack, action="Add", logical_id=lid, resource_type=str(res.get("Type", "")), replacement="")
        for lid, res in sorted((template.get("Resources") or {}).items())
    ]


def refused_changes(changes: Iterable[Change], allow_replace: Iterable[str]) -> list[Change]:
    """Destructive changes not named in ``allow_replace`` (by logical id or ``stack/LogicalId``)."""
    allowed = set(allow_replace)
    return [
        c
        for c in changes
        if c.destructive and c.logical_id not in allowed and f"{c.stack}/{c.logical_id}" not in allowed
    ]
