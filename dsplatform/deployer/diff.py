"""diff(): what a deploy would change, per stack, from throwaway change sets (nothing is executed)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from rich.markup import escape

from dsplatform.deployer import assets
from dsplatform.deployer.changes import Change, changes_for_new_stack, changes_from_change_set
from dsplatform.deployer.clients import ClientFactory
from dsplatform.deployer.deploy import _template_store, polling_for
from dsplatform.deployer.errors import ParameterResolutionError
from dsplatform.deployer.graph import Graph
from dsplatform.deployer.inventory import deployed_stacks, stack_outputs, stack_tag
from dsplatform.deployer.models import DeployOptions
from dsplatform.deployer.params import (
    HASH_TAG,
    cfn_parameters,
    content_hash,
    resolve_parameters,
    stack_tags,
)
from dsplatform.deployer.stack import CAPABILITIES, CHANGE_SET_PREFIX
from dsplatform.deployer.status import StackState, classify
from dsplatform.deployer.waiters import change_set_pages, wait_change_set
from dsplatform.stackspec import Plan, StackSpec


@dataclass(frozen=True)
class StackDiff:
    """One stack's pending changes; ``state`` is create, update, unchanged, no_changes, busy or unknown."""

    stack: str
    state: str
    changes: tuple[Change, ...] = field(default_factory=tuple)
    note: str = ""

    @property
    def destructive(self) -> tuple[Change, ...]:
        """Changes that would replace or remove a stateful resource."""
        return tuple(c for c in self.changes if c.destructive)

    def to_json(self) -> dict[str, Any]:
        """A JSON-friendly dict."""
        return {
            "stack": self.stack,
            "state": self.state,
            "note": self.note,
            "changes": [c.to_json() for c in self.changes],
        }


def diff(plan: Plan, clients: ClientFactory, options: DeployOptions | None = None) -> dict[str, StackDiff]:
    """Per stack (in deploy order), the changes a deploy would make; change sets are made and deleted."""
    options = options or DeployOptions()
    graph = Graph.for_deploy(plan)
    clients.verify_account()
    # Code assets are zipped (or reused) but not uploaded: a code change shows as a change of its parameters.
    plan, _ = assets.with_assets(plan, None, upload=False)
    store = _template_store(plan, clients)
    cfn = clients.client("cloudformation")
    polling = polling_for(clients, options)
    current = deployed_stacks(cfn, graph.nodes)
    outputs = {name: stack_outputs(desc) for name, desc in current.items()}
    return {
        name: _stack_diff(cfn, plan, plan.stack(name), current.get(name), outputs, polling, store)
        for name in graph.order()
    }


def _stack_diff(
    cfn: Any,
    plan: Plan,
    spec: StackSpec,
    desc: dict[str, Any] | None,
    outputs: Any,
    polling: Any,
    store: assets.TemplateStore | None = None,
) -> StackDiff:
    state = classify(desc["StackStatus"] if desc else None)
    if state in (StackState.ABSENT, StackState.FAILED_CREATE, StackState.REVIEW):
        return StackDiff(spec.name, "create", tuple(changes_for_new_stack(spec.name, spec.template)))
    if state is not StackState.STABLE or desc is None:
        return StackDiff(
            spec.name, "busy", note=f"stack is {desc['StackStatus'] if desc else '-'}; deploy will repair it first"
        )
    try:
        params = resolve_parameters(spec, outputs)
    except ParameterResolutionError as err:
        return StackDiff(spec.name, "unknown", note=f"after its dependencies deploy: {err}")
    protect = spec.termination_protection or plan.target.protected
    digest = content_hash(spec, params, protect)
    if stack_tag(desc, HASH_TAG) == digest:
        return StackDiff(spec.name, "unchanged")
    resp = cfn.create_change_set(
        StackName=spec.name,
        ChangeSetName=f"{CHANGE_SET_PREFIX}diff-{int(time.time() * 1000)}",
        ChangeSetType="UPDATE",
        **assets.template_argument(spec, store),
        Parameters=cfn_parameters(params),
        Capabilities=CAPABILITIES,
        Tags=stack_tags(spec, plan.target.env, digest),
        Description="dsplatform diff (never executed)",
        **({"RoleARN": plan.target.execution_role_arn} if plan.target.execution_role_arn else {}),
    )
    try:
        ready = wait_change_set(cfn, spec.name, resp["Id"], polling)
        if ready.empty:
            return StackDiff(spec.name, "no_changes")
        if not ready.ready:
            return StackDiff(spec.name, "unknown", note=f"change set failed: {ready.reason}")
        pages = change_set_pages(cfn, spec.name, resp["Id"], ready)
        return StackDiff(spec.name, "update", tuple(changes_from_change_set(spec.name, pages)))
    finally:
        cfn.delete_change_set(ChangeSetName=resp["Id"], StackName=spec.name)


def render_diff(diffs: dict[str, StackDiff], color: bool = True) -> str:
    """Human-readable diff; destructive changes in red (rich markup when ``color``)."""
    lines: list[str] = []
    for d in diffs.values():
        head = f"{d.stack}: {d.state}" + (f" ({d.note})" if d.note else "")
        lines.append(escape(head) if color else head)
        for c in d.changes:
            text = f"  {c.describe()}"
            if color:
                text = f"[red]{escape(text)}[/red]" if c.destructive else escape(text)
            lines.append(text)
    return "\n".join(lines)
