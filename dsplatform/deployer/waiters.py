"""Waiting on CloudFormation with botocore waiters only: a stack settling, a change set being ready."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import WaiterError
from botocore.waiter import WaiterModel, create_waiter_with_client

from dsplatform.deployer.errors import StackOperationError
from dsplatform.deployer.status import TERMINAL_STATUSES

# CloudFormation's wording for an empty change set; matched here and nowhere else.
_NO_CHANGES_REASONS = (
    "The submitted information didn't contain changes",
    "No updates are to be performed",
)

# One custom waiter for "the stack stopped moving": success on every terminal status, so the caller
# classifies the outcome once (status.classify) instead of picking among create/update/rollback waiters.
_SETTLED = WaiterModel(
    {
        "version": 2,
        "waiters": {
            "StackSettled": {
                "operation": "DescribeStacks",
                "delay": 5,
                "maxAttempts": 720,
                "acceptors": [
                    *(
                        {"matcher": "path", "argument": "Stacks[0].StackStatus", "expected": s, "state": "success"}
                        for s in TERMINAL_STATUSES
                    ),
                    # Describing a deleted stack by name answers ValidationError: it is gone, so settled.
                    {"matcher": "error", "expected": "ValidationError", "state": "success"},
                ],
            }
        },
    }
)


@dataclass(frozen=True)
class Polling:
    """Waiter timing: seconds between polls and the longest wait."""

    delay: float
    max_wait: float

    def config(self) -> dict[str, Any]:
        """A botocore WaiterConfig."""
        return {"Delay": self.delay, "MaxAttempts": max(1, math.ceil(self.max_wait / max(self.delay, 0.01)))}


def is_no_changes(reason: str | None) -> bool:
    """True when a FAILED change set only means "nothing to change" (an outcome, not an error)."""
    return bool(reason) and any(text in str(reason) for text in _NO_CHANGES_REASONS)


# The waiter keeps its last answer to itself; this per-thread slot (filled by an after-call hook) lets
# wait_settled return the settled description without one more DescribeStacks round trip.
_last = threading.local()


def _remember(parsed: dict[str, Any], **_: Any) -> None:
    _last.response = parsed


def _ensure_hook(cfn: Any) -> None:
    # botocore ignores a second registration under the same unique_id, so this is idempotent.
    cfn.meta.events.register("after-call.cloudformation.DescribeStacks", _remember, unique_id="dsplatform-last")
    cfn.meta.events.register("after-call.cloudformation.DescribeChangeSet", _remember, unique_id="dsplatform-last-cs")


def wait_settled(cfn: Any, stack_id: str, polling: Polling) -> dict[str, Any] | None:
    """Wait until a stack is in a terminal status; returns its description (None when it is gone)."""
    _ensure_hook(cfn)
    _last.response = None
    waiter = create_waiter_with_client("StackSettled", _SETTLED, cfn)
    try:
        waiter.wait(StackName=stack_id, WaiterConfig=polling.config())
    except WaiterError as exc:
        response: dict[str, Any] = dict(exc.last_response or {})
        last = response.get("Stacks") or [{}]
        raise StackOperationError(
            stack_id, str(last[0].get("StackStatus", "unknown")), f"still moving after {polling.max_wait:.0f}s"
        ) from exc
    stacks = (_last.response or {}).get("Stacks") or []
    if (
        stacks
        and stacks[0].get("StackStatus") != "DELETE_COMPLETE"
        and stacks[0].get("StackStatus") in TERMINAL_STATUSES
    ):
        return dict(stacks[0])
    return describe_stack(cfn, stack_id)


def describe_stack(cfn: Any, stack: str) -> dict[str, Any] | None:
    """One stack's description, None when it does not exist (or is DELETE_COMPLETE)."""
    try:
        stacks = cfn.describe_stacks(StackName=stack)["Stacks"]
    except cfn.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ValidationError":
            return None
        raise
    if not stacks or stacks[0].get("StackStatus") == "DELETE_COMPLETE":
        return None
    return dict(stacks[0])


def wait_outputs(cfn: Any, stack_id: str, count: int, polling: Polling) -> dict[str, Any] | None:
    """Wait until a settled stack shows at least ``count`` outputs; returns its description.

    LocalStack 2026.3 alone marks a stack *_COMPLETE a moment before it stores the outputs (the project's
    extension fixes that; this waiter still guards a plain LocalStack on create). AWS never does, so there
    this waiter succeeds on its first call.
    """
    model = WaiterModel(
        {
            "version": 2,
            "waiters": {
                "StackOutputsReady": {
                    "operation": "DescribeStacks",
                    "delay": 1,
                    "maxAttempts": 60,
                    "acceptors": [
                        {
                            "matcher": "path",
                            "argument": f"length(Stacks[0].Outputs || `[]`) >= `{int(count)}`",
                            "expected": True,
                            "state": "success",
                        }
                    ],
                }
            },
        }
    )
    _ensure_hook(cfn)
    _last.response = None
    try:
        create_waiter_with_client("StackOutputsReady", model, cfn).wait(
            StackName=stack_id,
            WaiterConfig={"Delay": polling.delay, "MaxAttempts": max(1, int(10 / max(polling.delay, 0.01)))},
        )
    except WaiterError as exc:
        raise StackOperationError(stack_id, "CREATE_COMPLETE", f"outputs did not appear (want {count})") from exc
    stacks = (_last.response or {}).get("Stacks") or []
    return dict(stacks[0]) if stacks else describe_stack(cfn, stack_id)


@dataclass(frozen=True)
class ChangeSetState:
    """Where a change set ended: ready, empty (no changes) or failed with a reason.

    ``first_page`` is the waiter's last DescribeChangeSet answer (its first page of changes), so a
    one-page change set needs no second DescribeChangeSet call.
    """

    ready: bool
    empty: bool
    reason: str
    first_page: dict[str, Any] | None = None


def wait_change_set(cfn: Any, stack: str, change_set_id: str, polling: Polling) -> ChangeSetState:
    """Wait for a change set to be created; "no changes" comes back as ``empty``, not an exception."""
    _ensure_hook(cfn)
    _last.response = None
    waiter = cfn.get_waiter("change_set_create_complete")
    try:
        waiter.wait(ChangeSetName=change_set_id, StackName=stack, WaiterConfig=polling.config())
    except WaiterError as exc:
        last: dict[str, Any] = dict(exc.last_response or {})
        reason = str(last.get("StatusReason") or last.get("Error", {}).get("Message") or exc)
        if last.get("Status") == "FAILED" and is_no_changes(reason):
            return ChangeSetState(ready=False, empty=True, reason=reason)
        return ChangeSetState(ready=False, empty=False, reason=reason)
    page = _last.response if isinstance(_last.response, dict) and "Changes" in _last.response else None
    return ChangeSetState(ready=True, empty=False, reason="", first_page=page)


def change_set_pages(cfn: Any, stack: str, change_set_id: str, state: ChangeSetState) -> list[dict[str, Any]]:
    """Every DescribeChangeSet page, reusing the waiter's answer when it was the only page."""
    if state.first_page is not None and not state.first_page.get("NextToken"):
        return [state.first_page]
    return list(cfn.get_paginator("describe_change_set").paginate(ChangeSetName=change_set_id, StackName=stack))
