"""RunTask and StartTask answer with each task as launched (PROVISIONING), as AWS does.

The extension runs a task's lifecycle in its own thread. moto answers with the live task object, serialized
after the handler returns, so a fast task could already say PENDING or RUNNING in the answer. Runs launched while
an answer is being made are held here and started once the answer holds copies of the tasks.
"""

from __future__ import annotations

import copy
import threading
from typing import Any, Protocol


class Startable(Protocol):
    """A task run that can be started."""

    def start(self) -> None:
        """Run the task's lifecycle in a background thread."""


_HELD = threading.local()


def start_or_hold(run: Startable) -> None:
    """Start ``run`` now, or after the answer being made on this thread is taken."""
    held = getattr(_HELD, "runs", None)
    if held is None:
        run.start()
    else:
        held.append(run)


def answering(original: Any) -> Any:
    """Wrap a RunTask/StartTask handler: its answer holds copies of the tasks, taken before their runs start."""
    from moto.core.responses import ActionResult

    def answer(self: Any) -> Any:
        _HELD.runs = []
        try:
            result = original(self)
            body = dict(result.result)
            body["tasks"] = [_snapshot(t) for t in body.get("tasks", [])]
            return ActionResult(body)
        finally:
            held, _HELD.runs = _HELD.runs, None
            for run in held:
                run.start()

    return answer


def install() -> None:
    """Wrap moto's RunTask and StartTask handlers."""
    from moto.ecs.responses import EC2ContainerServiceResponse

    EC2ContainerServiceResponse.run_task = answering(EC2ContainerServiceResponse.run_task)
    EC2ContainerServiceResponse.start_task = answering(EC2ContainerServiceResponse.start_task)


def _snapshot(task: Any) -> Any:
    """A copy of the task and its containers that the task's own thread does not change."""
    view = copy.copy(task)
    view.containers = [copy.copy(c) for c in task.containers]
    return view
