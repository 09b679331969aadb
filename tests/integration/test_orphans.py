"""Stacks that left the config are listed by deploy/destroy and deleted only with --prune (real LocalStack); the
listing, the deploy and the prune stay within the deploy role's policy."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dsplatform.deployer import deploy
from dsplatform.deployer.errors import ProtectedTargetError
from dsplatform.deployer.orphans import find_orphans, prune
from dsplatform.stackspec import Plan, StackSpec
from tests.deploy_role import assert_deploy_role_allows, recording_clients
from tests.integration.conftest import clients_for

pytestmark = pytest.mark.localstack


def _param(value: str) -> dict:
    return {"Resources": {"Setting": {"Type": "AWS::SSM::Parameter",
                                      "Properties": {"Type": "String", "Value": value}}}}


def _spec(project: str, env: str, component: str) -> StackSpec:
    tags = {"dsplatform:project": project, "dsplatform:env": env, "dsplatform:component": component}
    return StackSpec(name=f"{project}-{env}-{component}", component=component, template=_param(component), tags=tags)


def test_a_stack_that_left_the_config_is_listed_and_pruned_only_when_asked(small_target) -> None:
    target = replace(small_target(), project="ml")
    env = target.env
    before = Plan(target, (_spec("ml", env, "keep"), _spec("ml", env, "gone")))
    clients = clients_for(before)
    assert deploy(before, clients).ok
    # Another project in the same account and environment name is not ours to list.
    other = Plan(replace(target, project="xy"), (_spec("xy", env, "theirs"),))
    assert deploy(other, clients).ok

    after = Plan(target, (_spec("ml", env, "keep"),), all_stacks=frozenset({f"ml-{env}-keep"}))
    ml, recorder = recording_clients(target)  # what `invoke deploy --prune` of project ml calls, with its role
    assert find_orphans(after, ml) == [f"ml-{env}-gone"]
    assert deploy(after, ml).ok
    assert find_orphans(after, ml) == [f"ml-{env}-gone"]  # deploy alone deletes nothing

    # A --stacks selection is not an orphan: only stacks outside the full plan are.
    assert find_orphans(before.select(["keep"]), ml) == []

    assert prune(after, ml, find_orphans(after, ml)).ok
    assert find_orphans(after, ml) == []
    assert_deploy_role_allows(recorder, "ml")
    names = {s["StackName"] for s in clients.client("cloudformation").describe_stacks()["Stacks"]
             if s["StackStatus"] != "DELETE_COMPLETE"}
    assert f"ml-{env}-keep" in names and f"xy-{env}-theirs" in names


def test_prune_is_refused_on_a_protected_environment(small_target) -> None:
    target = replace(small_target(protected=True), project="ml")
    with pytest.raises(ProtectedTargetError, match="prune is refused"):
        prune(Plan(target, ()), clients_for(Plan(target, ())), ["ml-x-gone"])
