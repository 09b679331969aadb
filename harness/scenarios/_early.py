"""Pipeline runs the scenarios start at session start, so their executions overlap instead of queueing.

Each scenario's checks are unchanged; only the moment its execution starts moves. A starter prepares a Run
(input, model, subscriptions) and starts the pipeline; the scenario then waits for that execution with
``ds_execution(run, arn=...)`` and asserts on it. A starter that fails is reported by its own scenario.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.execution import start_execution
from harness.runs import Run

BAD_INPUT = b"id,event_date,amount,quantity,region,description\n1,2026-01-02,10.5,3,north,no category column\n"


@dataclass
class Started:
    """A run prepared and started at session start: its execution ARN (if it started one) and what the
    scenario needs to check it (``extra``), or the error that stopped it."""

    run: Run
    arn: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    error: BaseException | None = None

    def ready(self) -> Started:
        """This start, or the error it met re-raised in the scenario that needs it."""
        if self.error is not None:
            raise self.error
        return self


def start_bad_input(run: Run, platform: Any, clients: Any, model: Any, sample: bytes) -> Started:
    """Failure path: a queue on the alert topic first, then input without a required column and a model."""
    queue = run.subscribe_queue(platform.topic_arn)
    input_key = run.put_input(BAD_INPUT)
    run.use_model(model)  # a model present, so the input is what fails
    arn, _ = start_execution(platform, clients, run.id, input_key)
    return Started(run=run, arn=arn, extra={"queue": queue})


Starter = Callable[[Run, Any, Any, Any, bytes], Started]
