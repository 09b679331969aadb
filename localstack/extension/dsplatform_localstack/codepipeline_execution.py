"""A CodePipeline execution: its stages in order in a background thread, actions of one runOrder in parallel.

It records what GetPipelineExecution, ListPipelineExecutions and GetPipelineState report and emits the
EventBridge state-change events. Stages are held by one execution at a time: in SUPERSEDED mode (V1's only
mode) an execution waiting for a stage is superseded by a newer one arriving there; QUEUED waits in order;
PARALLEL shares nothing.
"""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from itertools import groupby
from typing import Any

from dsplatform_localstack import codepipeline_events as events
from dsplatform_localstack.codepipeline_actions import ActionFailed, ActionRun, run
from dsplatform_localstack.codepipeline_variables import VariableError, resolve

LOG = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


class PipelineRuntime:
    """Everything about one pipeline's executions: the executions, per-stage latest state, stage occupancy."""

    def __init__(self) -> None:
        self.executions: list[Execution] = []
        self.stage_states: dict[str, dict[str, Any]] = {}  # stage -> {"latestExecution", "actionStates"}
        self.holders: dict[str, Execution] = {}  # stage -> execution inside it
        self.waiting: dict[str, list[Execution]] = {}
        self.disabled: dict[str, dict[str, Any]] = {}  # stage -> its disabled inbound transition's state
        self.condition = threading.Condition()


class Execution:
    """One pipeline execution (the GetPipelineExecution record plus the thread that runs it)."""

    def __init__(self, account_id: str, region: str, pipeline: dict[str, Any], runtime: PipelineRuntime,
                 trigger: dict[str, Any], variables: list[dict[str, str]] | None = None) -> None:
        self.account_id, self.region, self.pipeline, self.runtime = account_id, region, pipeline, runtime
        self.id = str(uuid.uuid4())
        self.name, self.version = pipeline["name"], int(pipeline.get("version", 1))
        self.mode = pipeline.get("executionMode") or "SUPERSEDED"
        self.status: str = "InProgress"
        self.summary: str | None = None
        self.start_time = self.last_update = _now()
        self.trigger, self.variables = trigger, variables or []
        self.artifacts: dict[str, dict[str, str]] = {}
        self.namespaces: dict[str, dict[str, str]] = {
            "codepipeline": {"PipelineExecutionId": self.id},
            "variables": {v["name"]: v["value"] for v in self.variables}}
        self.revisions: list[dict[str, Any]] = []
        self.actions: dict[tuple[str, str], ActionRun] = {}
        self.action_records: list[dict[str, Any]] = []
        self.stopping = threading.Event()
        self.abandoned = threading.Event()
        self.outcomes: dict[tuple[str, str], str] = {}  # (stage, action) -> its last status in this execution
        self.retrying = False
        self.stop_trigger: dict[str, str] | None = None
        self.done = threading.Event()

    # --- records ---
    def summary_record(self) -> dict[str, Any]:
        """The ListPipelineExecutions entry."""
        record: dict[str, Any] = {
            "pipelineExecutionId": self.id, "status": self.status, "startTime": self.start_time,
            "lastUpdateTime": self.last_update, "trigger": self.trigger, "executionMode": self.mode,
            "executionType": "STANDARD",
            "sourceRevisions": [{"actionName": r["actionName"], "revisionId": r["revisionId"]}
                                for r in self.revisions]}
        if self.summary:
            record["statusSummary"] = self.summary
        if self.stop_trigger:
            record["stopTrigger"] = self.stop_trigger
        return record

    def record(self) -> dict[str, Any]:
        """The GetPipelineExecution record."""
        record: dict[str, Any] = {
            "pipelineName": self.name, "pipelineVersion": self.version, "pipelineExecutionId": self.id,
            "status": self.status, "artifactRevisions": [
                {"name": r["name"], "revisionId": r["revisionId"], "created": r["created"]} for r in self.revisions],
            "trigger": self.trigger, "executionMode": self.mode, "executionType": "STANDARD",
            "variables": [{"name": v["name"], "resolvedValue": v["value"]} for v in self.variables]}
        if self.summary:
            record["statusSummary"] = self.summary
        return record

    def _set(self, status: str, summary: str | None = None) -> None:
        self.status, self.last_update = status, _now()
        if summary:
            self.summary = summary

    def _stage_state(self, stage: str, status: str) -> None:
        state = self.runtime.stage_states.setdefault(stage, {"actionStates": {}})
        state["latestExecution"] = {"pipelineExecutionId": self.id, "status": status}
        events.stage_event(self.account_id, self.region, self.name, self.version, self.id, stage,
                           {"InProgress": "STARTED"}.get(status, status.upper()))

    def _action_state(self, stage: str, action: ActionRun, status: str, error: ActionFailed | None = None) -> None:
        latest: dict[str, Any] = {"actionExecutionId": action.execution_id, "status": status,
                                  "lastStatusChange": _now()}
        for key, value in (("summary", action.summary), ("externalExecutionId", action.external_id),
                           ("externalExecutionUrl", action.external_url),
                           ("token", action.token if status == "InProgress" else None)):
            if value:
                latest[key] = value
        if error is not None:
            latest["errorDetails"] = {"code": error.code, "message": str(error)}
        entry: dict[str, Any] = {"actionName": action.action["name"], "latestExecution": latest}
        if action.revision:
            entry["currentRevision"] = {"revisionId": action.revision}
        self.runtime.stage_states.setdefault(stage, {"actionStates": {}})["actionStates"][action.action["name"]] = entry
        state = {"InProgress": "STARTED", "Succeeded": "SUCCEEDED", "Failed": "FAILED",
                 "Abandoned": "ABANDONED"}.get(status, status.upper())
        events.action_event(self.account_id, self.region, self.name, self.version, self.id, stage, action.action,
                            state)

    # --- stage occupancy ---
    def _enter(self, stage: str) -> bool:
        """Wait for the stage's inbound transition to be enabled and the stage free (not in PARALLEL mode); False
        when superseded or stopped meanwhile."""
        runtime, exclusive = self.runtime, self.mode != "PARALLEL"
        with runtime.condition:
            queue = runtime.waiting.setdefault(stage, [])
            if self.mode == "SUPERSEDED":
                for older in queue:
                    older._set("Superseded")
                queue.clear()
            queue.append(self)
            runtime.condition.notify_all()
            while stage in runtime.disabled or (exclusive and (
                    runtime.holders.get(stage) not in (None, self) or queue[0] is not self)):
                if self.status == "Superseded" or self.stopping.is_set():
                    if self in queue:
                        queue.remove(self)
                    return False
                runtime.condition.wait(0.2)
            queue.remove(self)
            if exclusive:
                runtime.holders[stage] = self
            return True

    def _leave(self, stage: str) -> None:
        with self.runtime.condition:
            if self.runtime.holders.get(stage) is self:
                del self.runtime.holders[stage]
            self.runtime.condition.notify_all()

    # --- the run ---
    def start(self, delay: float = 0.0) -> None:
        """Run the stages in a background thread (after ``delay`` seconds)."""
        threading.Thread(target=self._run, args=(delay, 0), daemon=True,
                         name=f"codepipeline-{self.name}-{self.id[:8]}").start()

    def retry(self, stage: str, failed_only: bool) -> None:
        """RetryStageExecution: run again from the failed ``stage`` (its failed actions only, or all of them)."""
        index = [s["name"] for s in self.pipeline["stages"]].index(stage)
        self.done.wait(5)  # the failed run's thread has left its stage
        self.retrying = failed_only
        self.done.clear()
        self._set("InProgress")
        self.summary = None
        threading.Thread(target=self._run, args=(0.0, index), daemon=True,
                         name=f"codepipeline-{self.name}-{self.id[:8]}-retry").start()

    def _run(self, delay: float, first: int) -> None:
        if delay:
            self.stopping.wait(delay)
        events.execution_event(self.account_id, self.region, self.name, self.version, self.id,
                               "RESUMED" if first else "STARTED", self.trigger)
        held: str | None = None
        try:
            for stage in self.pipeline["stages"][first:]:
                if held:  # a finished stage is free for the next execution while this one waits for the next
                    self._leave(held)
                    held = None
                if not self._enter(stage["name"]):
                    break
                held = stage["name"]
                if self.stopping.is_set():
                    break
                self._stage_state(stage["name"], "InProgress")
                outcome = self._stage(stage)
                self._stage_state(stage["name"], outcome)
                if outcome != "Succeeded":
                    if self.status == "InProgress":
                        self._set("Failed" if outcome == "Failed" else "Stopped")
                    break
            else:
                self._set("Succeeded")
        except Exception as err:  # an emulation fault: the execution fails with the reason instead of hanging
            LOG.exception("pipeline %s execution %s faulted", self.name, self.id)
            self._set("Failed", f"dsplatform extension fault: {err}")
        finally:
            if held:
                self._leave(held)
            if self.status in ("InProgress", "Stopping"):
                self._set("Stopped")
            events.execution_event(self.account_id, self.region, self.name, self.version, self.id,
                                   self.status.upper() if self.status != "Stopped" else "STOPPED", self.trigger)
            self.done.set()

    def _stage(self, stage: dict[str, Any]) -> str:
        actions = sorted(stage["actions"], key=lambda a: int(a.get("runOrder", 1)))
        if self.retrying:  # FAILED_ACTIONS: what succeeded in this execution is not run again
            actions = [a for a in actions if self.outcomes.get((stage["name"], a["name"])) != "Succeeded"]
            self.retrying = False
        for _order, group in groupby(actions, key=lambda a: int(a.get("runOrder", 1))):
            if self.stopping.is_set():
                return "Stopped"
            batch = list(group)
            with ThreadPoolExecutor(max_workers=len(batch)) as pool:
                outcomes = list(pool.map(lambda action: self._action(stage["name"], action), batch))
            if "Failed" in outcomes:
                return "Failed"
            if "Abandoned" in outcomes or self.stopping.is_set():
                return "Stopped"
        return "Succeeded"

    def _action(self, stage: str, action: dict[str, Any]) -> str:
        region = action.get("region") or self.region
        stores = self.pipeline.get("artifactStores") or {}
        store = stores.get(region) or self.pipeline.get("artifactStore") or next(iter(stores.values()))
        inputs = {a["name"]: self.artifacts[a["name"]] for a in action.get("inputArtifacts") or []
                  if a["name"] in self.artifacts}
        # A cross-account action's roleArn names the account it acts in (the role is checked, not assumed).
        role = str(action.get("roleArn") or "")
        account = role.split(":")[4] if role.startswith("arn:") and role.count(":") >= 5 else self.account_id
        try:
            action = {**action, "configuration": resolve(action.get("configuration") or {}, self.namespaces)}
            unresolved = None
        except VariableError as err:
            unresolved = ActionFailed(str(err), "ConfigurationError")
        action_run = ActionRun(account, region, self.name, stage, action, str(uuid.uuid4()),
                               store["location"], inputs, stopping=self.stopping, abandoned=self.abandoned)
        if action["actionTypeId"]["category"] == "Approval":  # GetPipelineState shows the token while it waits
            action_run.token = str(uuid.uuid4())
        self.actions[(stage, action["name"])] = action_run
        record = {"pipelineExecutionId": self.id, "actionExecutionId": action_run.execution_id,
                  "pipelineVersion": self.version, "stageName": stage, "actionName": action["name"],
                  "startTime": _now(), "lastUpdateTime": _now(), "status": "InProgress",
                  "input": {"actionTypeId": action["actionTypeId"], "configuration": action.get("configuration") or {},
                            "region": self.region, "inputArtifacts": [
                                {"name": n, "s3location": {"bucket": v["bucket"], "key": v["key"]}}
                                for n, v in inputs.items()]},
                  "output": {"outputArtifacts": []}}
        self.action_records.append(record)
        self._action_state(stage, action_run, "InProgress")
        error: ActionFailed | None = None
        try:
            if unresolved is not None:
                raise unresolved
            run(action_run)
            status = "Succeeded"
            if action.get("namespace"):
                self.namespaces[action["namespace"]] = dict(action_run.variables)
        except ActionFailed as err:
            error, status = err, "Failed"
        except Exception as err:  # a fault: fail the action with its reason
            LOG.exception("action %s of %s faulted", action["name"], self.name)
            error, status = ActionFailed(f"dsplatform extension fault: {err}", "JobFailed"), "Failed"
        approval = action["actionTypeId"]["category"] == "Approval"
        if status == "Failed" and (self.abandoned.is_set() or (approval and self.stopping.is_set())):
            status = "Abandoned"  # ended by the stop, not failed
        self.artifacts.update(action_run.outputs)
        if action_run.revision:
            self.revisions.append({"name": (action.get("outputArtifacts") or [{"name": action["name"]}])[0]["name"],
                                   "actionName": action["name"], "revisionId": action_run.revision,
                                   "created": _now()})
        record.update(status=status, lastUpdateTime=_now(), output=_output(action_run, error))
        self._action_state(stage, action_run, status, error)
        self.outcomes[(stage, action["name"])] = status
        return status

    def stop(self, abandon: bool, reason: str | None) -> None:
        """StopPipelineExecution: Stopping, then Stopped when the actions in progress end (builds and deploys are
        abandoned only with ``abandon``; a waiting approval ends on either)."""
        if abandon:
            self.abandoned.set()
        self.stop_trigger = {"reason": reason} if reason else None
        self._set("Stopping", reason)
        self.stopping.set()
        with self.runtime.condition:
            self.runtime.condition.notify_all()


def _output(action: ActionRun, error: ActionFailed | None) -> dict[str, Any]:
    """An action execution's `output` (ListActionExecutions): artifacts, variables, the external result."""
    output: dict[str, Any] = {
        "outputArtifacts": [{"name": n, "s3location": {"bucket": v["bucket"], "key": v["key"]}}
                            for n, v in action.outputs.items()],
        "outputVariables": dict(action.variables)}
    summary = action.summary or (str(error) if error else None)
    if action.external_id or summary:
        output["executionResult"] = {k: v for k, v in (("externalExecutionId", action.external_id),
                                                       ("externalExecutionSummary", summary)) if v}
    return output
