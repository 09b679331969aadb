"""Releases: a stored release reads back whole, renders its Plan, and rollback picks the right one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsplatform.native import ALIAS, SERVICE, Pin
from dsplatform.releases import Event, ImageRelease, Release, StackRelease
from dsplatform.stackspec import JobImage, Plan, Target
from dsplatform.workflows.rollback import RollbackRefused, choose

TARGET = Target(env="dev", account_id="111111111111", region="us-east-1", kind="localstack")


def release(rid: str, outcome: str, threshold: int = 1, digest: str = "sha256:aa") -> Release:
    stack = StackRelease(name="ds-dev-monitoring", component="monitoring",
                         template={"Resources": {"A": {"Type": "X", "Properties": {"T": threshold}}}},
                         parameters={"P": "1"}, depends_on=("ds-dev-alerts",), tags={"k": "v"})
    return Release(id=rid, env="dev", account_id="111111111111", project="ds", created_at="2026-11-30T10:00:00Z",
                   who="me", commit="abc", stacks=(stack,),
                   images=(ImageRelease("preprocessing", "ds-preprocessing", "latest", digest),),
                   events=[Event("deployed", "t"), Event(outcome, "t")],
                   pins=(Pin("ds-dev-api", "Service", SERVICE, "ds-dev", "ds-dev-api", "arn:td/ds-dev-api:4"),
                         Pin("ds-dev-ingest", "LiveAlias", ALIAS, "ds-dev-ingest", "live", "3")))


def test_a_release_reads_back_whole_and_renders_its_plan() -> None:
    original = release("20261130T100000Z-aaaa", "smoke-passed")
    again = Release.from_dict(json.loads(original.to_json()))
    assert again == original and again.status == "smoke-passed" and again.passed_smoke
    assert again.pins[1].target == "3"  # what ran natively comes back too
    legacy = {k: v for k, v in json.loads(original.to_json()).items() if k != "pins"}
    assert Release.from_dict(legacy).pins == ()  # releases recorded before pins still read
    image = JobImage("preprocessing", "monitoring", "ds-preprocessing", "latest", Path("/x"))
    base = Plan(TARGET, (), images=(image,), project_root=Path("/p"))
    plan = again.plan(base)
    spec = plan.stack("ds-dev-monitoring")
    assert spec.template == original.stacks[0].template and spec.depends_on == ("ds-dev-alerts",)
    assert spec.parameters == {"P": "1"} and plan.target == TARGET and len(plan.images) == 1


def test_default_choice_is_the_newest_earlier_release_that_passed_and_differs() -> None:
    current = release("5", "smoke-failed", threshold=3, digest="sha256:bb")
    same_as_current = release("4", "smoke-passed", threshold=3, digest="sha256:bb")
    good = release("3", "smoke-passed")
    older = release("2", "promoted")
    assert choose([current, same_as_current, good, older], None, "dev").id == "3"


def test_choice_by_id_prefix_and_the_refusals() -> None:
    releases = [release("20261130T120000Z-bbbb", "smoke-failed"), release("20261130T110000Z-aaaa", "smoke-passed")]
    assert choose(releases, "20261130T11", "dev").id == "20261130T110000Z-aaaa"
    with pytest.raises(RollbackRefused, match="matches 2 releases"):
        choose(releases, "20261130T1", "dev")
    with pytest.raises(RollbackRefused, match="no earlier release of dev passed"):
        choose([release("2", "smoke-failed"), release("1", "smoke-failed")], None, "dev")
    with pytest.raises(RollbackRefused, match="no recorded release"):
        choose([], None, "dev")
