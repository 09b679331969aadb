"""Distributed Map runs as on AWS: failed items fail the run past the tolerated threshold, and every item's
outcome is recorded for the `ResultWriter`.

The pinned runtime counted failed items (``DistributedItemProcessorWorker._eval_job``) and never checked
``ToleratedFailureCount`` / ``ToleratedFailurePercentage``: a Map whose every item failed still succeeded.
AWS fails the Map Run with ``States.ExceedToleratedFailureThreshold`` once failed (or timed-out) items exceed
either threshold; with neither set, one failure is too many. Here, when an item's failure crosses the
threshold, no further item is started, the items already running finish (AWS too "may continue to run child
workflows ... before the Map Run fails"), the results are written if the state has a ``ResultWriter`` (items
never started go to PENDING), and the Map state fails with that error, which ``Catch``/``Retry`` see.

Patched: ``StateMap.from_state_props`` (which thresholds were given), ``DistributedItemProcessorWorker``
(``_eval_input``/``_eval_job``: each item's child input and outcome), ``DistributedIterationComponent._map_run``
(the check) and ``ResultWriter._eval_body`` (files from the recorded outcomes, ``sfn_map_results``).
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dsplatform_localstack.sfn_map_results import FAILED, PENDING, SUCCEEDED, ItemResult, export

THRESHOLD_ERROR = "States.ExceedToleratedFailureThreshold"
THRESHOLD_CAUSE = "The specified tolerated failure threshold was exceeded"


def exceeds(failed: int, total: int, count: int, percentage: float, *, count_set: bool, percentage_set: bool) -> bool:
    """True when ``failed`` of ``total`` items exceed the tolerated count or percentage (AWS's rule).

    A threshold that was not given does not apply, unless neither was given: then the count, 0, does.
    """
    by_count = (count_set or not percentage_set) and failed > count
    by_percentage = percentage_set and total > 0 and failed * 100 > percentage * total
    return bool(by_count or by_percentage)


@dataclass
class MapRunState:
    """What the extension tracks for one Map Run: outcomes by item index, items never started, thresholds."""

    total: int
    count_set: bool
    percentage_set: bool
    results: dict[int, ItemResult] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, result: ItemResult) -> None:
        """Record one item's outcome (a PENDING one never replaces a real outcome)."""
        with self.lock:
            if result.status != PENDING or result.index not in self.results:
                self.results[result.index] = result

    def failed(self) -> int:
        """Items that count against the threshold: failed or timed out (aborted ones only follow a stop)."""
        with self.lock:
            return sum(1 for r in self.results.values() if r.status in ("FAILED", "TIMED_OUT"))

    def exceeded(self, record: Any) -> bool:
        """True when the run's failures exceed the record's thresholds (UpdateMapRun may have changed them).

        The runtime's own item counters are read too: the legacy ``Iterator`` worker records no outcomes here.
        """
        counted = record.item_counter.failed.get() + record.item_counter.timed_out.get()
        return exceeds(
            max(self.failed(), counted),
            self.total,
            record.tolerated_failure_count,
            record.tolerated_failure_percentage,
            count_set=self.count_set,
            percentage_set=self.percentage_set,
        )

    def ordered(self) -> list[ItemResult]:
        """Every recorded outcome, by item index."""
        with self.lock:
            return [self.results[i] for i in sorted(self.results)]


def _outcome(env: Any, job: Any, child_input: Any, start: datetime) -> ItemResult:
    """Read the finished child program's state into an ItemResult."""
    from localstack.services.stepfunctions.asl.eval.program_state import (
        ProgramEnded,
        ProgramError,
        ProgramStopped,
        ProgramTimedOut,
    )

    state = env.program_state()
    common: dict[str, Any] = {
        "index": job.job_index,
        "input": child_input,
        "name": str(uuid.uuid4()),
        "start": start,
        "stop": datetime.now(UTC),
    }
    if isinstance(state, ProgramEnded):
        return ItemResult(status=SUCCEEDED, output=job.job_output, **common)
    if isinstance(state, ProgramError):
        error = state.error or {}
        return ItemResult(status=FAILED, error=error.get("error"), cause=error.get("cause"), **common)
    if isinstance(state, ProgramTimedOut):
        return ItemResult(status="TIMED_OUT", error="States.Timeout", **common)
    if isinstance(state, ProgramStopped):
        return ItemResult(status="ABORTED", error=state.error, cause=state.cause, **common)
    # The program never ran to an end state: its input could not be built (ItemSelector / Parameters).
    return ItemResult(status=FAILED, error="States.Runtime", cause="the item's input could not be evaluated", **common)


def _stop_starting(job_pool: Any) -> list[Any]:
    """Take the jobs not yet started out of the pool, so workers finish their current item and stop."""
    with job_pool._mutex:
        pending = list(reversed(job_pool._open_jobs))
        job_pool._open_jobs.clear()
        # The pool terminates when as many jobs closed as it holds: the ones taken out will never close.
        job_pool._jobs_number -= len(pending)
    return pending


def threshold_failure(env: Any) -> Exception:
    """The FailureEventException AWS's Map state fails with when the threshold is exceeded."""
    from localstack.aws.api.stepfunctions import HistoryEventType, MapRunFailedEventDetails
    from localstack.services.stepfunctions.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from localstack.services.stepfunctions.asl.component.common.error_name.states_error_name import StatesErrorName
    from localstack.services.stepfunctions.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from localstack.services.stepfunctions.asl.eval.event.event_detail import EventDetails

    return FailureEventException(
        FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold),
            event_type=HistoryEventType.MapRunFailed,
            event_details=EventDetails(
                mapRunFailedEventDetails=MapRunFailedEventDetails(error=THRESHOLD_ERROR, cause=THRESHOLD_CAUSE)
            ),
        )
    )


def write_results(env: Any, writer: Any, record: Any) -> dict[str, Any]:
    """Evaluate the ResultWriter's parameters and resource, and export the recorded outcomes to S3."""
    from localstack.services.stepfunctions.asl.component.state.state_execution.state_task.credentials import (
        StateCredentials,
    )
    from localstack.services.stepfunctions.asl.utils.boto_client import boto_client_for

    writer.parargs.eval(env=env)
    parameters = env.stack.pop()
    writer.resource.eval(env=env)
    region = env.stack.pop().region
    s3 = boto_client_for(
        service="s3", region=region, state_credentials=StateCredentials(role_arn=env.aws_execution_details.role_arn)
    )
    run: MapRunState | None = getattr(record, "_ds_run", None)
    results = run.ordered() if run else []
    return export(
        s3,
        parameters["Bucket"],
        parameters.get("Prefix", ""),
        record.map_run_arn,
        record.map_state_machine_arn,
        results,
    )


def install() -> None:
    """Patch the Map state, the distributed worker, the Map Run and the ResultWriter (see the module docstring)."""
    from localstack.services.stepfunctions.asl.component.state.state_execution.state_map import state_map
    from localstack.services.stepfunctions.asl.component.state.state_execution.state_map.iteration import (
        distributed_iteration_component as dic,
    )
    from localstack.services.stepfunctions.asl.component.state.state_execution.state_map.iteration.itemprocessor import (  # noqa: E501
        distributed_item_processor_worker as dipw,
    )
    from localstack.services.stepfunctions.asl.component.state.state_execution.state_map.result_writer import (
        result_writer_decl,
    )
    from localstack.services.stepfunctions.asl.component.state.state_execution.state_map.tolerated_failure import (
        ToleratedFailureCountDecl,
        ToleratedFailurePercentageDecl,
    )

    from_state_props = state_map.StateMap.from_state_props

    def _from_state_props(self, state_props):  # type: ignore[no-untyped-def]
        from_state_props(self, state_props)
        # The runtime defaults both thresholds to 0; which ones the definition gave decides AWS's rule.
        self.iteration_component._ds_thresholds_set = (
            state_props.get(ToleratedFailureCountDecl) is not None,
            state_props.get(ToleratedFailurePercentageDecl) is not None,
        )
        self.iteration_component._ds_result_writer = self.result_writer

    worker = dipw.DistributedItemProcessorWorker
    eval_input, eval_job = worker._eval_input, worker._eval_job

    def _eval_input(self, env_frame):  # type: ignore[no-untyped-def]
        eval_input(self, env_frame)
        env_frame._ds_child_input = env_frame.states.get_input()  # after ItemSelector: the child's input

    def _eval_job(self, env, job):  # type: ignore[no-untyped-def]
        run: MapRunState | None = getattr(self._map_run_record, "_ds_run", None)
        start = datetime.now(UTC)
        eval_job(self, env, job)
        if run is None:
            return
        result = _outcome(env, job, getattr(env, "_ds_child_input", job.job_input), start)
        run.add(result)
        if result.group == FAILED and run.exceeded(self._map_run_record):
            for pending in _stop_starting(self._job_pool):
                run.add(ItemResult(index=pending.job_index, status=PENDING, input=pending.job_input))

    map_run = dic.DistributedIterationComponent._map_run

    def _map_run(self, env, eval_input):  # type: ignore[no-untyped-def]
        record = eval_input.map_run_record
        count_set, percentage_set = getattr(self, "_ds_thresholds_set", (False, False))
        run = MapRunState(total=len(env.stack[-1]), count_set=count_set, percentage_set=percentage_set)
        record._ds_run = run
        map_run(self, env, eval_input)
        if run.exceeded(record):
            env.stack.pop()  # the outputs of the items that ran: the state fails instead
            writer = getattr(self, "_ds_result_writer", None)
            if writer is not None:
                write_results(env, writer, record)
            raise threshold_failure(env)

    def _result_writer_eval_body(self, env):  # type: ignore[no-untyped-def]
        env.stack.pop()  # the Map's outputs: the files are built from each item's recorded outcome
        record = env.map_run_record_pool_manager.get_all().pop()
        env.stack.append(write_results(env, self, record))

    state_map.StateMap.from_state_props = _from_state_props
    worker._eval_input = _eval_input
    worker._eval_job = _eval_job
    dic.DistributedIterationComponent._map_run = _map_run
    result_writer_decl.ResultWriter._eval_body = _result_writer_eval_body
