"""Pipeline runs the scenarios start at session start, so their executions overlap instead of queueing.

Each scenario's checks are unchanged; only the moment its execution starts moves. A starter prepares a Run
(input, model, subscriptions) and starts the pipeline; the scenario then waits for that execution with
``ds_execution(run, arn=...)`` and asserts on it. A starter that fails is reported by its own scenario.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.execution import start_execution
from harness.runs import Run, delete_prefix

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


# A record whose bytes are not UTF-8: the job cannot parse it and exits 3, so the shard holding it fails.
NOT_UTF8 = b"9999,2026-01-02,10.5,3,home,north,caf\xe9 in latin-1\n"
SHARDS = 3  # the sample input is cut into about this many shards (shard size from the execution input)


def start_sharded(run: Run, platform: Any, clients: Any, model: Any, sample: bytes) -> Started:
    """Sharded runs: the sample input as run ``<id>`` and, as run ``<id>-bad``, with an unparsable last record;
    both with a shard size of a third of the sample, so the deployed state machine shards them."""
    run.use_model(model)
    run.expect_outputs()
    size = len(sample) // SHARDS
    input_key = run.put_input(sample)
    arn, _ = start_execution(platform, clients, run.id, input_key, extra={"shard_size_bytes": size})
    bad_id = f"{run.id}-bad"
    bad_key = run.put_input(sample + NOT_UTF8, key=f"e2e/{bad_id}/input.csv")
    for prefix in (f"processed/{bad_id}/", f"rejected/{bad_id}/"):
        run.add_cleanup(f"s3://{platform.output_bucket}/{prefix}*",
                        functools.partial(delete_prefix, clients, platform.output_bucket, prefix))
    bad_arn, _ = start_execution(platform, clients, bad_id, bad_key, extra={"shard_size_bytes": size})
    return Started(run=run, arn=arn, extra={"input_key": input_key, "bad_id": bad_id, "bad_arn": bad_arn,
                                            "model": model})


Starter = Callable[[Run, Any, Any, Any, bytes], Started]
