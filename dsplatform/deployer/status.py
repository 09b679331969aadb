"""CloudFormation's stack statuses mapped once into a small enum the deployer decides on."""

from __future__ import annotations

import enum


class StackState(enum.Enum):
    """What a stack's status means for the next deploy step."""

    ABSENT = "absent"  # no stack, or DELETE_COMPLETE
    IN_PROGRESS = "in_progress"  # wait for it to settle before touching it
    STABLE = "stable"  # CREATE/UPDATE/IMPORT complete, UPDATE_ROLLBACK_COMPLETE: updatable
    FAILED_CREATE = "failed_create"  # never got created: delete and create again
    ROLLBACK_FAILED = "rollback_failed"  # UPDATE_ROLLBACK_FAILED: continue the rollback
    REVIEW = "review"  # REVIEW_IN_PROGRESS: a change set was made but never run
    DELETE_FAILED = "delete_failed"


_FAILED_CREATE = {"CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED"}
_STABLE = {
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_COMPLETE",
}
_ROLLBACK_FAILED = {"UPDATE_ROLLBACK_FAILED", "IMPORT_ROLLBACK_FAILED", "UPDATE_FAILED"}

# Statuses a stack ends in after an operation; everything else is still moving.
TERMINAL_STATUSES: tuple[str, ...] = (
    *sorted(_FAILED_CREATE),
    *sorted(_STABLE),
    *sorted(_ROLLBACK_FAILED),
    "DELETE_COMPLETE",
    "DELETE_FAILED",
    "REVIEW_IN_PROGRESS",
)

# Statuses that mean the last operation did what was asked.
SUCCESS_STATUSES = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE", "DELETE_COMPLETE"})


def classify(status: str | None) -> StackState:
    """Map a raw StackStatus (None when the stack does not exist) to a StackState."""
    if status is None or status == "DELETE_COMPLETE":
        return StackState.ABSENT
    if status == "REVIEW_IN_PROGRESS":
        # Listed before IN_PROGRESS: nothing runs, it just waits for a change set to be executed.
        return StackState.REVIEW
    if status in _STABLE:
        return StackState.STABLE
    if status in _FAILED_CREATE:
        return StackState.FAILED_CREATE
    if status in _ROLLBACK_FAILED:
        return StackState.ROLLBACK_FAILED
    if status == "DELETE_FAILED":
        return StackState.DELETE_FAILED
    if status.endswith("_IN_PROGRESS"):
        return StackState.IN_PROGRESS
    raise ValueError(f"unknown CloudFormation stack status {status!r}")
