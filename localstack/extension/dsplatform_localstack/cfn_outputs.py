"""Store a stack's outputs before it reports CREATE_COMPLETE / UPDATE_COMPLETE, as AWS does.

The pinned v2 engine sets the stack's status first and its ``resolved_outputs`` a moment later (in
``execute_change_set``'s worker and in UpdateStack's). A client that polls in between sees the new status
with the previous outputs: after an update it reads stale values (seen: an orchestration stack deployed
with the old task definition ARN of the compute stack it depends on). Publishing the outputs as soon as the
executor succeeds closes that window; the engine then stores the same list again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def publish_outputs_first(execute: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Wrap ``ChangeSetModelExecutor.execute``: on success, the stack's outputs are stored before it returns."""

    def wrapped(self: Any) -> Any:
        result = execute(self)
        if result is not None and not getattr(result, "failure_message", None):
            self._change_set.stack.resolved_outputs = result.outputs
        return result

    return wrapped


def install() -> None:
    """Wrap the v2 change set executor (after the other executor patches, so it sees their final result)."""
    from localstack.services.cloudformation.engine.v2.change_set_model_executor import ChangeSetModelExecutor

    ChangeSetModelExecutor.execute = publish_outputs_first(ChangeSetModelExecutor.execute)  # type: ignore[method-assign]
