"""Deploy-then-teardown: what a run created is removed, and a failed teardown fails the run with its reason."""

from __future__ import annotations

from typing import Any

import pytest

import dsplatform.lifecycle as lifecycle
from dsplatform.deployer.models import DeployResult, Outcome, StackResult
from dsplatform.deployer.outputs import Deployed
from dsplatform.lifecycle import NotDeployedError, TeardownFailed, deployment
from dsplatform.stackspec import Plan, StackSpec, Target

PLAN = Plan(Target(env="qa", account_id="444444444444", region="us-east-1", kind="localstack"),
            (StackSpec("ml-qa-a", "a", {}), StackSpec("ml-qa-b", "b", {}, depends_on=("ml-qa-a",))))


class World:
    """What the deployer would see: which stacks exist, and how a destroy goes (the one seam faked here)."""

    def __init__(self, existing: set[str], destroy_ok: bool = True) -> None:
        self.existing, self.destroy_ok, self.destroyed = set(existing), destroy_ok, 0

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(lifecycle, "usable_stacks", lambda plan, clients: set(self.existing))
        monkeypatch.setattr(lifecycle, "deploy", self._deploy)
        monkeypatch.setattr(lifecycle, "destroy", self._destroy)
        monkeypatch.setattr(lifecycle, "read_deployed", lambda plan, clients: Deployed("qa", {}, {}))
        monkeypatch.setattr(lifecycle, "push_images", lambda plan, clients, **kw: {})
        monkeypatch.setattr(lifecycle, "caller_of", lambda clients: "")

    def _deploy(self, plan: Plan, clients: Any, options: Any) -> DeployResult:
        self.existing |= {s.name for s in plan.stacks}
        result = DeployResult("qa")
        result.stacks = {s.name: StackResult(s.name, Outcome.CREATED, "CREATE_COMPLETE") for s in plan.stacks}
        return result

    def _destroy(self, plan: Plan, clients: Any, purge_data: bool = False) -> DeployResult:
        self.destroyed += 1
        result = DeployResult("qa")
        outcome = Outcome.DELETED if self.destroy_ok else Outcome.FAILED
        result.stacks = {"ml-qa-b": StackResult("ml-qa-b", outcome, "DELETE_FAILED", reason="bucket not empty")}
        return result


def test_what_a_run_created_is_torn_down(monkeypatch: pytest.MonkeyPatch) -> None:
    world = World(set())
    world.install(monkeypatch)
    with deployment(PLAN, None) as dep:
        assert dep.created == {"ml-qa-a", "ml-qa-b"}
    assert dep.torn_down and world.destroyed == 1


def test_a_failed_teardown_fails_the_run_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    World(set(), destroy_ok=False).install(monkeypatch)
    with pytest.raises(TeardownFailed, match="ml-qa-b failed: bucket not empty"), deployment(PLAN, None):
        pass


def test_a_failing_body_keeps_its_error_and_carries_the_teardown_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    World(set(), destroy_ok=False).install(monkeypatch)
    with pytest.raises(RuntimeError) as info, deployment(PLAN, None):
        raise RuntimeError("scenario blew up")
    assert "teardown of 'qa' failed" in "".join(getattr(info.value, "__notes__", []))


def test_keep_and_pre_existing_stacks_are_never_torn_down(monkeypatch: pytest.MonkeyPatch) -> None:
    world = World({"ml-qa-a"})
    world.install(monkeypatch)
    with deployment(PLAN, None) as dep:
        assert dep.created == {"ml-qa-b"}
    assert not dep.torn_down and world.destroyed == 0  # someone's environment: removing part could strand it
    world = World(set())
    world.install(monkeypatch)
    with deployment(PLAN, None, keep=True):
        pass
    assert world.destroyed == 0


def test_reuse_of_an_absent_environment_is_refused_naming_the_stacks(monkeypatch: pytest.MonkeyPatch) -> None:
    World({"ml-qa-a"}).install(monkeypatch)
    with pytest.raises(NotDeployedError, match="missing or unusable: ml-qa-b"), deployment(PLAN, None, reuse=True):
        pass


PROVIDED: list[str] = []


def provide_for_test(plan: Plan, clients: Any) -> None:
    """A Requirement provider: records that it ran (and which stacks existed then)."""
    PROVIDED.append("provided")


def test_a_requirement_is_provided_after_the_stacks_before_it_and_before_its_stack(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dsplatform.stackspec import Requirement

    model = Requirement("the model", "bkt", "m.pkl", "train it", provide=f"{__name__}:provide_for_test")
    b = StackSpec("ml-qa-b", "b", {}, depends_on=("ml-qa-a",), requires=(model,))
    plan = Plan(PLAN.target, (StackSpec("ml-qa-a", "a", {}), b, StackSpec("ml-qa-c", "c", {})))
    world = World(set())
    world.install(monkeypatch)
    deploys: list[tuple[list[str], list[str]]] = []
    real_deploy = world._deploy

    def recording(p: Plan, clients: Any, options: Any) -> DeployResult:
        deploys.append(([s.name for s in p.stacks], list(PROVIDED)))
        return real_deploy(p, clients, options)

    monkeypatch.setattr(lifecycle, "deploy", recording)
    monkeypatch.setattr(lifecycle, "deployed_stacks", lambda cfn, names: {})
    monkeypatch.setattr(lifecycle, "missing_requirements",
                        lambda p, clients, current: [] if PROVIDED else [("ml-qa-b", model)])

    class Clients:
        def client(self, name: str) -> None:
            return None

    PROVIDED.clear()
    with deployment(plan, Clients(), keep=True, provide=True):
        pass
    assert deploys == [(["ml-qa-a", "ml-qa-c"], []), (["ml-qa-a", "ml-qa-b", "ml-qa-c"], ["provided"])]
    deploys.clear()
    PROVIDED.clear()
    with deployment(plan, Clients(), keep=True):  # promotion: the deploy itself refuses what is missing
        pass
    assert deploys == [(["ml-qa-a", "ml-qa-b", "ml-qa-c"], [])] and PROVIDED == []
