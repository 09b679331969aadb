"""A stack's events since an operation began, failures first-to-last, for error reports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

_FAILED_SUFFIXES = ("_FAILED",)
_ROLLBACK_STARTED = "ROLLBACK_IN_PROGRESS"  # ROLLBACK_IN_PROGRESS and UPDATE_ROLLBACK_IN_PROGRESS
_STACK = "AWS::CloudFormation::Stack"
# CloudFormation repeats a summary reason on the stack's own ROLLBACK event; it names no resource.
_NOISE = ("Resource creation cancelled", "Resource update cancelled")


@dataclass(frozen=True)
class StackEvent:
    """One stack event, reduced to what a user reads."""

    timestamp: dt.datetime
    logical_id: str
    resource_type: str
    status: str
    reason: str

    def describe(self) -> str:
        """One line: time, resource, status and reason."""
        when = self.timestamp.strftime("%H:%M:%S")
        return f"{when} {self.logical_id} ({self.resource_type}) {self.status}: {self.reason or '-'}"

    def to_json(self) -> dict[str, str]:
        """A JSON-friendly dict."""
        return {
            "timestamp": self.timestamp.isoformat(),
            "logical_id": self.logical_id,
            "resource_type": self.resource_type,
            "status": self.status,
            "reason": self.reason,
        }


def _event(raw: dict[str, Any]) -> StackEvent:
    return StackEvent(
        timestamp=raw["Timestamp"],
        logical_id=raw.get("LogicalResourceId", ""),
        resource_type=raw.get("ResourceType", ""),
        status=raw.get("ResourceStatus", ""),
        # Provider errors can span lines; one event is one line in every report.
        reason=" ".join(str(raw.get("ResourceStatusReason", "") or "").split()),
    )


def stack_events(cfn: Any, stack_id: str, since: dt.datetime | None = None) -> list[StackEvent]:
    """All events of a stack (oldest first), only those at or after ``since`` when given."""
    events: list[StackEvent] = []
    for page in cfn.get_paginator("describe_stack_events").paginate(StackName=stack_id):
        for raw in page.get("StackEvents", []):
            ev = _event(raw)
            if since is not None and ev.timestamp < since:
                # Events come newest first: everything further is older.
                return sorted(events, key=lambda e: e.timestamp)
            events.append(ev)
    return sorted(events, key=lambda e: e.timestamp)


def failure_events(cfn: Any, stack_id: str, since: dt.datetime | None = None) -> list[StackEvent]:
    """The failed events of a stack since ``since``, time-sorted; root causes, not cancellations.

    The stack's own ``*ROLLBACK_IN_PROGRESS`` event counts too: when no resource failed (a rollback trigger's
    alarm fired), its reason is the only one, and it names the alarm.
    """
    failed = [
        ev
        for ev in stack_events(cfn, stack_id, since)
        if ev.reason and not ev.reason.startswith(_NOISE)
        and (ev.status.endswith(_FAILED_SUFFIXES)
             or (ev.status.endswith(_ROLLBACK_STARTED) and ev.resource_type == _STACK))
    ]
    return failed


def first_reason(events: list[StackEvent]) -> str:
    """The reason of the earliest failure on a resource (not the stack itself), else of any failure."""
    for ev in events:
        if ev.resource_type != _STACK:
            return f"{ev.logical_id}: {ev.reason}"
    return events[0].reason if events else "no failure event recorded"
