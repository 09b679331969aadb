"""CloudFormation rollback triggers for the v2 engine, which accepts RollbackConfiguration and then ignores it.

As on AWS: the configuration given to CreateChangeSet, UpdateStack or CreateStack is kept on the stack and
applies to later updates that give none (an empty trigger list clears it; DescribeStacks shows it). An update
with triggers fails before touching anything when a trigger alarm is missing or already in ALARM; otherwise
the alarms are watched while the update runs and for ``MonitoringTimeInMinutes`` after (the stack stays
UPDATE_IN_PROGRESS). An alarm in ALARM rolls the update back: UPDATE_ROLLBACK_IN_PROGRESS (the event's reason
names the alarm), the previous template and parameters applied again through the engine, then
UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS and UPDATE_ROLLBACK_COMPLETE. Differences from AWS (the monitoring
window starts after the engine's cleanup; a resource the update replaced or removed comes back as a new one;
creates are not watched) are listed in the fidelity report. Patches the v2 provider's CreateChangeSet,
UpdateStack, CreateStack and stack description, and ``ChangeSetModelExecutor.execute``.
"""

from __future__ import annotations

import copy
import functools
import logging
import os
import threading
import time
import uuid
from typing import Any

LOG = logging.getLogger(__name__)

# LocalStack-only: seconds one monitoring minute lasts (AWS: 60). Tests shorten it; named in the fidelity report.
MINUTE_ENV = "DSPLATFORM_MONITORING_SECONDS_PER_MINUTE"
_POLL_SECONDS = 0.25  # a DescribeAlarms call in-process; alarms change state on a put or a metric evaluation
_CONFIG = "_dsplatform_rollback_configuration"  # attribute on a change set / stack
_ROLLBACK_RUN = "_dsplatform_rollback_run"  # marks the change set that applies the previous template
_KEPT = ("template", "processed_template", "template_body", "resolved_parameters", "resolved_resources",
         "resolved_outputs")


def seconds_per_minute() -> float:
    """How long one monitoring minute lasts here (``DSPLATFORM_MONITORING_SECONDS_PER_MINUTE``, default 60)."""
    try:
        return max(0.0, float(os.environ.get(MINUTE_ENV, "60")))
    except ValueError:
        return 60.0


def _cloudwatch(stack: Any) -> Any:
    from localstack.aws.connect import connect_to

    return connect_to(aws_access_key_id=stack.account_id, aws_secret_access_key="test",
                      region_name=stack.region_name).cloudwatch


def _alarm_name(arn: str) -> str:
    return arn.split(":alarm:", 1)[-1]


def alarm_states(cloudwatch: Any, arns: list[str]) -> dict[str, str]:
    """State of each trigger alarm that exists, by ARN (metric and composite alarms)."""
    names = [_alarm_name(arn) for arn in arns]
    found: dict[str, str] = {}
    for start in range(0, len(names), 100):
        page = cloudwatch.describe_alarms(AlarmNames=names[start:start + 100],
                                          AlarmTypes=["MetricAlarm", "CompositeAlarm"])
        for alarm in page.get("MetricAlarms", []) + page.get("CompositeAlarms", []):
            found[alarm["AlarmArn"]] = alarm["StateValue"]
    return found


def tripped_reason(states: dict[str, str], arns: list[str]) -> str | None:
    """The stack event reason for the first missing or ALARM trigger, or None when all are fine."""
    missing = [arn for arn in arns if arn not in states]
    if missing:
        return f"Rollback trigger {missing[0]} does not exist; the stack operation is rolled back"
    firing = [arn for arn in arns if states[arn] == "ALARM"]
    if firing:
        names = ", ".join(_alarm_name(arn) for arn in firing)
        return f"Rollback triggered by alarm(s) in ALARM state: {names} ({', '.join(firing)})"
    return None


class Watcher:
    """Polls the trigger alarms in a thread; the first missing or ALARM trigger is kept as ``reason``."""

    def __init__(self, cloudwatch: Any, arns: list[str]) -> None:
        self._cloudwatch, self._arns = cloudwatch, arns
        self.reason: str | None = None
        self._stop = threading.Event()
        self._tripped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="dsplatform-rollback-triggers")

    def start(self) -> Watcher:
        """Start polling."""
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                reason = tripped_reason(alarm_states(self._cloudwatch, self._arns), self._arns)
            except Exception as err:  # a failed poll is retried; CloudWatch in-process does not go away
                LOG.debug("rollback trigger poll failed: %s", err)
                reason = None
            if reason:
                self.reason = reason
                self._tripped.set()
                return
            self._stop.wait(_POLL_SECONDS)

    def wait(self, seconds: float) -> str | None:
        """Wait up to ``seconds`` for a trip (returns early on one); the reason, or None."""
        self._tripped.wait(seconds)
        return self.reason

    def stop(self) -> None:
        """Stop polling."""
        self._stop.set()


def _given_parameters(resolved: dict[str, Any] | None) -> dict[str, Any]:
    """Parameter values to apply again: what was given (defaults fill the rest, as they did)."""
    out = {}
    for key, param in (resolved or {}).items():
        if isinstance(param, dict) and param.get("given_value") is not None:
            out[key] = param["given_value"]
    return out


def _remember(stack: Any, given: Any) -> dict[str, Any] | None:
    """The configuration an operation uses: the one it gave (kept on the stack), else the stack's last one."""
    if given is not None:
        setattr(stack, _CONFIG, dict(given))
    return getattr(stack, _CONFIG, None)


def _install_handlers() -> None:
    from localstack.services.cloudformation.models import get_cloudformation_store
    from localstack.services.cloudformation.v2.provider import CloudformationProviderV2, find_stack_v2

    create_change_set = CloudformationProviderV2.create_change_set

    @functools.wraps(create_change_set)
    def _create_change_set(self: Any, context: Any, request: Any) -> Any:
        out = create_change_set(self, context, request)
        change_set = get_cloudformation_store(context.account_id, context.region).change_sets.get(out.get("Id"))
        if change_set is not None and "RollbackConfiguration" in request:
            setattr(change_set, _CONFIG, request["RollbackConfiguration"])
        return out

    update_stack = CloudformationProviderV2.update_stack

    @functools.wraps(update_stack)
    def _update_stack(self: Any, context: Any, request: Any) -> Any:
        # Set before the call: the update's worker thread starts inside it.
        stack = find_stack_v2(get_cloudformation_store(context.account_id, context.region), request.get("StackName"))
        if stack is not None and "RollbackConfiguration" in request:
            stack._dsplatform_pending_rollback = request["RollbackConfiguration"]
        return update_stack(self, context, request)

    create_stack = CloudformationProviderV2.create_stack

    @functools.wraps(create_stack)
    def _create_stack(self: Any, context: Any, request: Any) -> Any:
        out = create_stack(self, context, request)
        stack = get_cloudformation_store(context.account_id, context.region).stacks_v2.get(out.get("StackId"))
        if stack is not None and "RollbackConfiguration" in request:
            _remember(stack, request["RollbackConfiguration"])
        return out

    describe = CloudformationProviderV2._describe_stack

    @functools.wraps(describe)
    def _describe_stack(self: Any, stack: Any) -> Any:
        out = describe(self, stack)
        if getattr(stack, _CONFIG, None):
            out["RollbackConfiguration"] = copy.deepcopy(getattr(stack, _CONFIG))
        return out

    CloudformationProviderV2.create_change_set = _create_change_set
    CloudformationProviderV2.update_stack = _update_stack
    CloudformationProviderV2.create_stack = _create_stack
    CloudformationProviderV2._describe_stack = _describe_stack


def install() -> None:
    """Keep RollbackConfiguration and honour its triggers on updates (install after cfn_rollback)."""
    from localstack.aws.api.cloudformation import ChangeSetType, StackStatus
    from localstack.services.cloudformation.engine.v2.change_set_model_executor import (
        ChangeSetModelExecutor,
        ChangeSetModelExecutorResult,
    )

    _install_handlers()
    original = ChangeSetModelExecutor.execute

    def execute(self: Any) -> Any:
        change_set = self._change_set
        stack = change_set.stack
        if getattr(change_set, _ROLLBACK_RUN, False):
            return original(self)
        via_update_stack = (
            change_set.change_set_type == ChangeSetType.CREATE and stack.status == StackStatus.UPDATE_IN_PROGRESS
        )
        given = getattr(change_set, _CONFIG, None)
        if via_update_stack:
            given = stack.__dict__.pop("_dsplatform_pending_rollback", None)
        config = _remember(stack, given)
        is_update = change_set.change_set_type == ChangeSetType.UPDATE or via_update_stack
        arns = [t["Arn"] for t in (config or {}).get("RollbackTriggers") or []]
        if not is_update or not arns or stack.template is None:
            return original(self)
        before = {name: copy.deepcopy(getattr(stack, name, None)) for name in _KEPT}
        cloudwatch = _cloudwatch(stack)
        reason = tripped_reason(alarm_states(cloudwatch, arns), arns)
        if reason:  # before the operation: nothing is changed
            stack.set_stack_status(StackStatus.UPDATE_ROLLBACK_IN_PROGRESS, reason)
            return _finish(change_set, stack, before, reason, None, via_update_stack,
                           ChangeSetModelExecutorResult, StackStatus)
        watcher = Watcher(cloudwatch, arns).start()
        try:
            result = original(self)
            if result.failure_message:
                return result
            minutes = int(config.get("MonitoringTimeInMinutes") or 0)
            if stack.status != StackStatus.UPDATE_IN_PROGRESS:
                stack.set_stack_status(StackStatus.UPDATE_IN_PROGRESS)  # AWS's status while it monitors
            reason = watcher.wait(minutes * seconds_per_minute())
        finally:
            watcher.stop()
        if not reason:
            return result
        stack.set_stack_status(StackStatus.UPDATE_ROLLBACK_IN_PROGRESS, reason)
        rolled = _apply_previous(change_set, stack, before, result, ChangeSetModelExecutor, StackStatus)
        return _finish(change_set, stack, before, reason, rolled, via_update_stack,
                       ChangeSetModelExecutorResult, StackStatus)

    ChangeSetModelExecutor.execute = execute


def _apply_previous(change_set: Any, stack: Any, before: dict[str, Any], result: Any, executor_cls: Any,
                    stack_status: Any) -> Any:
    """Run the engine from the update's state back to the previous template and parameters."""
    from localstack.aws.api.cloudformation import ChangeSetType
    from localstack.services.cloudformation.v2.entities import ChangeSet, UpdateModelInputs

    # The engine reads the deployed state from the stack, which the provider only updates after execute().
    stack.resolved_resources = result.resources
    stack.template, stack.template_body = change_set.template, change_set.template_body
    stack.processed_template = change_set.processed_template
    stack.resolved_parameters = change_set.resolved_parameters
    back = ChangeSet(stack, {"ChangeSetName": f"dsplatform-rollback-{uuid.uuid4().hex[:12]}",
                             "ChangeSetType": ChangeSetType.UPDATE},
                     template=before["template"], template_body=before["template_body"])
    setattr(back, _ROLLBACK_RUN, True)
    back.compute_update_model(UpdateModelInputs(
        before_template=change_set.template, after_template=before["template"],
        before_parameters=change_set.resolved_parameters,
        after_parameters=_given_parameters(before["resolved_parameters"]),
        previous_update_model=change_set.update_model))
    renamed = {stack_status.UPDATE_COMPLETE_CLEANUP_IN_PROGRESS:
               stack_status.UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS}
    method = stack.set_stack_status

    def set_stack_status(status: Any, *args: Any, **kwargs: Any) -> Any:
        return method(renamed.get(status, status), *args, **kwargs)

    stack.set_stack_status = set_stack_status  # an instance attribute: only while the rollback runs
    started = time.monotonic()
    try:
        rolled = executor_cls(back).execute()
    finally:
        del stack.set_stack_status
    LOG.info("rollback trigger: %s rolled back in %.2f s", stack.stack_name, time.monotonic() - started)
    return rolled


def _finish(change_set: Any, stack: Any, before: dict[str, Any], reason: str, rolled: Any,
            via_update_stack: bool, result_cls: Any, stack_status: Any) -> Any:
    """Leave the stack on its previous template, UPDATE_ROLLBACK_COMPLETE (or _FAILED), and fail the result."""
    from dsplatform_localstack.cfn_rollback import _report_rollback_instead_of_complete

    # The provider copies these from the change set onto the stack once execute() returns.
    change_set.template = before["template"]
    change_set.processed_template = before["processed_template"]
    change_set.template_body = before["template_body"]
    change_set.resolved_parameters = before["resolved_parameters"]
    stack.template, stack.template_body = before["template"], before["template_body"]
    stack.processed_template, stack.resolved_parameters = before["processed_template"], before["resolved_parameters"]
    stack.resolved_outputs = before["resolved_outputs"]
    resources = before["resolved_resources"] or {}
    outputs = before["resolved_outputs"] or []
    if rolled is not None:
        resources = rolled.resources or resources
        outputs = rolled.outputs or outputs
        if rolled.failure_message:
            stack.set_stack_status(stack_status.UPDATE_ROLLBACK_FAILED, rolled.failure_message)
            return result_cls(resources=resources, outputs=outputs, failure_message=reason)
    if stack.status != stack_status.UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS:
        stack.set_stack_status(stack_status.UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS)
    if via_update_stack:  # UpdateStack's worker sets the final status itself, once execute() returns
        _report_rollback_instead_of_complete(stack, stack_status)
    else:
        stack.set_stack_status(stack_status.UPDATE_ROLLBACK_COMPLETE)
    return result_cls(resources=resources, outputs=outputs, failure_message=reason)
