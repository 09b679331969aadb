"""Deploying one stack: repair what an earlier run left behind, skip if unchanged, else a change set."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from dsplatform.deployer.assets import TemplateStore, template_argument
from dsplatform.deployer.changes import Change, changes_from_change_set, refused_changes
from dsplatform.deployer.errors import StackOperationError
from dsplatform.deployer.events import failure_events, first_reason, stack_events
from dsplatform.deployer.inventory import stack_outputs, stack_tag
from dsplatform.deployer.models import DeployOptions, Outcome, StackResult
from dsplatform.deployer.params import (
    HASH_TAG,
    cfn_parameters,
    content_hash,
    resolve_parameters,
    stack_tags,
)
from dsplatform.deployer.progress import Reporter
from dsplatform.deployer.retained import CONFIG, ENDPOINT, MODEL, created_names, free_names, names_of
from dsplatform.deployer.services import SERVICE_TYPE, ServiceUnstableError, failed_service_events, wait_stable
from dsplatform.deployer.standby import Standby, drop, vacate
from dsplatform.deployer.status import SUCCESS_STATUSES, StackState, classify
from dsplatform.deployer.waiters import (
    Polling,
    change_set_pages,
    describe_stack,
    wait_change_set,
    wait_outputs,
    wait_settled,
)
from dsplatform.errors import DsPlatformError
from dsplatform.stackspec import StackSpec, Target

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
CHANGE_SET_PREFIX = "dsplatform-"
# Events are matched to this run by time; allow for a little clock skew between us and CloudFormation.
_CLOCK_SLACK = dt.timedelta(seconds=2)


@dataclass
class StackDeployer:
    """Brings one stack to its spec; every step reports to the reporter and ends in a StackResult."""

    cfn: Any
    target: Target
    options: DeployOptions
    polling: Polling
    reporter: Reporter
    rollback: dict[str, Any] | None = None  # RollbackConfiguration for updates (dsplatform.deployer.triggers)
    ecs: Any = None  # when given, changed ECS services are waited on and their events reported on failure
    templates: TemplateStore | None = None  # where templates over the inline limit go (the assets bucket)
    sagemaker: Any = None  # when given, kept models/configs whose names a change set creates are removed first

    def deploy(
        self, spec: StackSpec, current: dict[str, Any] | None, outputs: Mapping[str, Mapping[str, str]]
    ) -> StackResult:
        """Deploy ``spec`` given its current description and the outputs of the stacks it depends on."""
        started = time.monotonic()
        try:
            result = self._deploy(spec, current, outputs)
        except StackOperationError as err:
            result = StackResult(spec.name, Outcome.FAILED, err.status, reason=err.reason, events=err.events)
        except DsPlatformError as err:
            result = StackResult(spec.name, Outcome.FAILED, (current or {}).get("StackStatus"), reason=str(err))
        except BotoCoreError as err:
            # Connection lost (LocalStack restarted, network): the next run converges from whatever is left.
            reason = f"lost contact with CloudFormation ({err}); run the deploy again once it answers"
            result = StackResult(spec.name, Outcome.FAILED, (current or {}).get("StackStatus"), reason=reason)
        except ClientError as err:
            # CloudFormation refused a call (bad template, missing capability...): a failed stack, not a crash.
            msg = err.response.get("Error", {}).get("Message") or str(err)
            result = StackResult(spec.name, Outcome.FAILED, (current or {}).get("StackStatus"), reason=msg)
        result.elapsed = time.monotonic() - started
        return result

    def _deploy(
        self, spec: StackSpec, current: dict[str, Any] | None, outputs: Mapping[str, Mapping[str, str]]
    ) -> StackResult:
        params = resolve_parameters(spec, outputs)
        protect = spec.termination_protection or self.target.protected
        digest = content_hash(spec, params, protect)
        current = self._repair(spec.name, current)
        state = classify(current["StackStatus"] if current else None)
        if state is StackState.STABLE and current is not None and stack_tag(current, HASH_TAG) == digest:
            self._protect(spec.name, current, protect)
            return StackResult(spec.name, Outcome.UNCHANGED, current["StackStatus"], stack_outputs(current))
        change_type = "CREATE" if state is StackState.ABSENT else "UPDATE"
        return self._change_set(spec, change_type, params, digest, protect)

    # -- repairing what an earlier run left -----------------------------------------------------------
    def _repair(self, name: str, current: dict[str, Any] | None) -> dict[str, Any] | None:
        """Settle a moving stack and clear failed creates, stuck rollbacks and empty review stacks."""
        for _ in range(4):  # each repair moves the stack one step; a few steps always reach a usable state
            state = classify(current["StackStatus"] if current else None)
            if state in (StackState.ABSENT, StackState.STABLE) or current is None:
                return current
            stack_id = current["StackId"]
            status = current["StackStatus"]
            if state is StackState.IN_PROGRESS:
                self.reporter.stack_phase(name, f"waiting for {status} from an earlier run")
                current = wait_settled(self.cfn, stack_id, self.polling)
            elif state is StackState.FAILED_CREATE:
                self.reporter.stack_phase(name, f"deleting stack left in {status}")
                current = self._delete(name, current)
            elif state is StackState.REVIEW:
                if self._has_resources(stack_id):
                    raise StackOperationError(
                        name, status, "REVIEW_IN_PROGRESS but owns resources; inspect it in the console"
                    )
                self.reporter.stack_phase(name, "deleting an empty REVIEW_IN_PROGRESS stack")
                current = self._delete(name, current)
            elif state is StackState.ROLLBACK_FAILED:
                self.reporter.stack_phase(name, f"continuing the rollback of {status}")
                since = dt.datetime.now(dt.UTC) - _CLOCK_SLACK
                if status == "UPDATE_FAILED":  # rollback was disabled for that update
                    self.cfn.rollback_stack(StackName=stack_id)
                else:
                    self.cfn.continue_update_rollback(StackName=stack_id)
                current = wait_settled(self.cfn, stack_id, self.polling)
                if current is not None and classify(current["StackStatus"]) is StackState.ROLLBACK_FAILED:
                    events = failure_events(self.cfn, stack_id, since)
                    raise StackOperationError(name, current["StackStatus"], first_reason(events), events)
            else:  # DELETE_FAILED
                events = failure_events(self.cfn, stack_id)
                raise StackOperationError(
                    name, status, f"{first_reason(events)}; run `invoke destroy` after fixing it", events
                )
        raise StackOperationError(
            name, str((current or {}).get("StackStatus")), "did not reach a usable state after repairs"
        )

    def _has_resources(self, stack_id: str) -> bool:
        for page in self.cfn.get_paginator("list_stack_resources").paginate(StackName=stack_id):
            if page.get("StackResourceSummaries"):
                return True
        return False

    def _delete(self, name: str, current: dict[str, Any]) -> dict[str, Any] | None:
        stack_id = current["StackId"]
        if current.get("EnableTerminationProtection"):
            # Only stacks that never finished creating get here; protection has nothing to protect yet.
            self.cfn.update_termination_protection(StackName=stack_id, EnableTerminationProtection=False)
        since = dt.datetime.now(dt.UTC) - _CLOCK_SLACK
        self.cfn.delete_stack(StackName=stack_id)
        after = wait_settled(self.cfn, stack_id, self.polling)
        if after is not None and after["StackStatus"] == "DELETE_FAILED":
            # A resource that never got created can fail its delete; such resources hold nothing, so the
            # second attempt keeps them out of it (RetainResources is only accepted on DELETE_FAILED).
            never_created = self._never_created(stack_id)
            self.reporter.stack_phase(
                name, "deleting again" + (f", skipping {', '.join(never_created)}" if never_created else "")
            )
            self.cfn.delete_stack(StackName=stack_id, **({"RetainResources": never_created} if never_created else {}))
            after = wait_settled(self.cfn, stack_id, self.polling)
        if after is not None and after["StackStatus"] == "DELETE_FAILED":
            events = failure_events(self.cfn, stack_id, since)
            raise StackOperationError(name, "DELETE_FAILED", first_reason(events), events)
        return after

    def _never_created(self, stack_id: str) -> list[str]:
        """Resources now DELETE_FAILED that never reached CREATE_COMPLETE (nothing exists to keep)."""
        created = {ev.logical_id for ev in stack_events(self.cfn, stack_id) if ev.status == "CREATE_COMPLETE"}
        failed = []
        for page in self.cfn.get_paginator("list_stack_resources").paginate(StackName=stack_id):
            for res in page.get("StackResourceSummaries", []):
                if res.get("ResourceStatus") == "DELETE_FAILED" and res["LogicalResourceId"] not in created:
                    failed.append(str(res["LogicalResourceId"]))
        return failed

    # -- the change set -------------------------------------------------------------------------------
    def _change_set(
        self, spec: StackSpec, change_type: str, params: dict[str, str], digest: str, protect: bool
    ) -> StackResult:
        name = spec.name
        self.reporter.stack_phase(name, f"creating {change_type.lower()} change set")
        cs_name = f"{CHANGE_SET_PREFIX}{int(time.time() * 1000)}"
        resp = self.cfn.create_change_set(
            StackName=name,
            ChangeSetName=cs_name,
            ChangeSetType=change_type,
            **template_argument(spec, self.templates),
            Parameters=cfn_parameters(params),
            Capabilities=CAPABILITIES,
            Tags=stack_tags(spec, self.target.env, digest),
            Description=f"dsplatform deploy of {self.target.env}",
            **({"RollbackConfiguration": self.rollback} if self.rollback and change_type == "UPDATE" else {}),
            # The bootstrap's execution role: CloudFormation creates resources with its scope, not the caller's.
            **({"RoleARN": self.target.execution_role_arn} if self.target.execution_role_arn else {}),
        )
        cs_id, stack_id = resp["Id"], resp.get("StackId", name)
        ready = wait_change_set(self.cfn, name, cs_id, self.polling)
        if ready.empty:
            self._drop_change_set(cs_id, stack_id, change_type)
            current = describe_stack(self.cfn, stack_id)
            self._protect(name, current, protect)
            return StackResult(name, Outcome.NO_CHANGES, (current or {}).get("StackStatus"), stack_outputs(current))
        if not ready.ready:
            self._drop_change_set(cs_id, stack_id, change_type)
            raise StackOperationError(name, "CHANGE_SET_FAILED", ready.reason)
        changes = changes_from_change_set(name, change_set_pages(self.cfn, stack_id, cs_id, ready))
        refused = refused_changes(changes, self.options.allow_replace) if change_type == "UPDATE" else []
        if refused:
            self._drop_change_set(cs_id, stack_id, change_type)
            what = ", ".join(f"{c.logical_id} ({c.resource_type}, {c.action.lower()})" for c in refused)
            allow = " ".join(f"--allow-replace {name}/{c.logical_id}" for c in refused)
            current = describe_stack(self.cfn, stack_id)
            return StackResult(
                name,
                Outcome.REFUSED,
                (current or {}).get("StackStatus"),
                stack_outputs(current),
                reason=f"would lose data in {what}; check `invoke diff`, then re-run with {allow}",
                changes=tuple(changes),
            )
        try:
            standbys = self._free_kept_names(spec, stack_id, changes)
        except ValueError as err:  # a standby's name would be too long: nothing was moved or deleted
            self._drop_change_set(cs_id, stack_id, change_type)
            raise StackOperationError(name, "CHANGE_SET_NOT_EXECUTED", str(err)) from err
        try:
            return self._execute(spec, cs_id, stack_id, change_type, changes, protect)
        finally:
            if standbys:
                self._drop_standbys(name, standbys)

    def _free_kept_names(self, spec: StackSpec, stack_id: str, changes: list[Change]) -> list[Standby]:
        """A kept SageMaker model or config named as one the change set creates would fail it on AWS: delete it.

        One the stack's endpoint runs (right after a native rollback) is vacated first: the endpoint moves to a
        standby copy (dsplatform.deployer.standby), which is returned for deletion after the change set.
        """
        names = created_names(spec.template, changes)
        if self.sagemaker is None or not names:
            return []
        pages = self.cfn.get_paginator("list_stack_resources").paginate(StackName=stack_id)
        resources = [r for page in pages for r in page.get("StackResourceSummaries", [])]
        owned = names_of(r.get("PhysicalResourceId") or "" for r in resources
                            if r["ResourceType"] in (MODEL, CONFIG))
        endpoints = [r["PhysicalResourceId"] for r in resources
                     if r["ResourceType"] == ENDPOINT and r.get("PhysicalResourceId")]
        outside = {name for _, name in names if name not in owned}
        standbys = vacate(self.sagemaker, endpoints, outside, self.polling.config()) if endpoints and outside else []
        for standby in standbys:
            self.reporter.stack_phase(spec.name, standby.describe() + " (its config is created again)")
        freed = free_names(self.sagemaker, owned, names)
        if freed:
            self.reporter.stack_phase(spec.name, f"removed kept {', '.join(freed)} (the change set creates it again)")
        return standbys

    def _drop_standbys(self, name: str, standbys: list[Standby]) -> None:
        """Delete the standby pairs the update moved the endpoints off (one still serving is kept)."""
        dropped = drop(self.sagemaker, standbys)
        if dropped:
            self.reporter.stack_phase(name, f"removed standby {', '.join(dropped)}")

    def _execute(
        self, spec: StackSpec, cs_id: str, stack_id: str, change_type: str, changes: list[Change], protect: bool
    ) -> StackResult:
        name = spec.name
        self.reporter.stack_phase(name, f"executing ({len(changes)} changes)", total=len(changes))
        since = dt.datetime.now(dt.UTC) - _CLOCK_SLACK
        self.cfn.execute_change_set(ChangeSetName=cs_id, StackName=stack_id)
        current = wait_settled(self.cfn, stack_id, self.polling)
        status = (current or {}).get("StackStatus", "DELETE_COMPLETE")
        if status not in SUCCESS_STATUSES or current is None:
            events = failure_events(self.cfn, stack_id, since)
            if self.ecs is not None:  # a service's own events say which tasks failed and why
                events = events + failed_service_events(self.cfn, self.ecs, stack_id, events, since)
            return StackResult(
                name, Outcome.FAILED, status, stack_outputs(current), events=tuple(events), reason=first_reason(events)
            )
        services = [c.logical_id for c in changes if c.resource_type == SERVICE_TYPE and c.action in ("Add", "Modify")]
        if self.ecs is not None and services:
            self.reporter.stack_phase(name, f"waiting for {len(services)} ECS service(s) to be stable")
            try:
                wait_stable(self.cfn, self.ecs, name, stack_id, services, self.polling, since)
            except ServiceUnstableError as err:
                return StackResult(
                    name, Outcome.FAILED, status, stack_outputs(current), events=err.events, reason=err.reason
                )
        declared = [o for o in (spec.template.get("Outputs") or {}).values() if "Condition" not in o]
        if len(stack_outputs(current)) < len(declared):
            current = wait_outputs(self.cfn, stack_id, len(declared), self.polling)
        self._protect(name, current, protect)
        outcome = Outcome.CREATED if change_type == "CREATE" else Outcome.UPDATED
        return StackResult(name, outcome, status, stack_outputs(current), changes=tuple(changes))

    def _drop_change_set(self, cs_id: str, stack_id: str, change_type: str) -> None:
        """Remove an unused change set; for a CREATE, the empty REVIEW_IN_PROGRESS stack goes too."""
        if change_type == "CREATE":
            self.cfn.delete_stack(StackName=stack_id)
            wait_settled(self.cfn, stack_id, self.polling)
        else:
            self.cfn.delete_change_set(ChangeSetName=cs_id, StackName=stack_id)

    def _protect(self, name: str, current: Mapping[str, Any] | None, protect: bool) -> None:
        """Turn termination protection on for protected stacks (prod); never turn it off here."""
        if protect and current is not None and not current.get("EnableTerminationProtection"):
            self.cfn.update_termination_protection(StackName=current["StackId"], EnableTerminationProtection=True)
