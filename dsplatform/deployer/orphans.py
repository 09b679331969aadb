"""Stacks that left the config: tagged with this project and environment, deployed, but in no plan any more.

Runway keeps a persistent graph for this; here the stack tags (``dsplatform:project``, ``dsplatform:env``,
``dsplatform:component``) that every deploy puts on its stacks are the record. ``deploy`` and ``destroy``
list orphans; only ``--prune`` deletes them (data resources keep their ``Retain`` policy, as always).
"""

from __future__ import annotations

from typing import Any

from dsplatform.deployer.clients import ClientFactory
from dsplatform.deployer.destroy import destroy
from dsplatform.deployer.errors import ProtectedTargetError
from dsplatform.deployer.inventory import stack_tag
from dsplatform.deployer.models import DeployResult
from dsplatform.deployer.progress import Reporter
from dsplatform.stackspec import Plan, StackSpec

PROJECT_TAG, ENV_TAG, COMPONENT_TAG = "dsplatform:project", "dsplatform:env", "dsplatform:component"


def find_orphans(plan: Plan, clients: ClientFactory) -> list[str]:
    """Names of deployed stacks of this project and environment that the full plan no longer has (sorted)."""
    known = plan.all_stacks or frozenset(s.name for s in plan.stacks)
    cfn = clients.client("cloudformation")
    orphans = []
    for page in cfn.get_paginator("describe_stacks").paginate():
        for stack in page.get("Stacks", []):
            if stack.get("StackStatus") == "DELETE_COMPLETE" or stack.get("StackName") in known:
                continue
            if stack_tag(stack, PROJECT_TAG) == plan.target.project and stack_tag(stack, ENV_TAG) == plan.target.env:
                orphans.append(str(stack["StackName"]))
    return sorted(orphans)


def prune(plan: Plan, clients: ClientFactory, names: list[str], reporter: Reporter | None = None) -> DeployResult:
    """Delete the orphan stacks ``names`` (never on a protected target); their retained data stays.

    Stacks exchange values as parameters, never exports, so orphans can be deleted in any order.
    """
    if plan.target.protected:
        raise ProtectedTargetError(plan.target.env, "prune")
    specs = tuple(StackSpec(name=name, component=_component(clients, name), template={}) for name in names)
    return destroy(Plan(target=plan.target, stacks=specs), clients, purge_data=False, reporter=reporter)


def _component(clients: Any, name: str) -> str:
    stacks = clients.client("cloudformation").describe_stacks(StackName=name).get("Stacks", [])
    return stack_tag(stacks[0] if stacks else None, COMPONENT_TAG) or name
