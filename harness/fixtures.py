"""The harness's public fixtures (documented in docs/harness.md); helpers are private."""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from typing import Any

import pytest

from harness.execution import Execution, start_execution, wait_execution
from harness.platform import Platform, PlatformNotDeployedError, platform_from_outputs
from harness.runs import CleanupFailed, Run, new_run_id
from harness.state import RECORD_KEY, SETTINGS_KEY, STATE_KEY, Recorded
from harness.waiting import Waiter


@pytest.fixture(scope="session")
def ds_plan(pytestconfig: pytest.Config) -> Any:
    """The environment's Plan (``dsplatform.synth.build_plan``): stack names and how to reach the target."""
    state = pytestconfig.stash[STATE_KEY]
    if state.plan is None:
        from dsplatform.synth import build_plan

        settings = pytestconfig.stash[SETTINGS_KEY]
        state.plan = build_plan(settings.env, settings.config_path, settings.target)
    return state.plan


@pytest.fixture(scope="session")
def ds_clients(ds_plan: Any) -> Any:
    """A ``dsplatform.deployer.ClientFactory`` for the target account, checked with STS first."""
    from dsplatform.deployer import ClientFactory

    clients = ClientFactory(ds_plan.target)
    clients.verify_account()
    return clients


@pytest.fixture(scope="session")
def ds_platform(pytestconfig: pytest.Config, ds_plan: Any, ds_clients: Any) -> Generator[Platform, None, None]:
    """The deployed environment's facts (typed stack outputs); deploys it first unless --ds-reuse."""
    settings = pytestconfig.stash[SETTINGS_KEY]
    state = pytestconfig.stash[STATE_KEY]
    if not settings.reuse:
        state.created_stacks = _deploy(ds_plan, ds_clients)
    platform = _read_platform(ds_plan, ds_clients)
    if not settings.reuse:
        pytestconfig.hook.pytest_ds_after_deploy(plan=ds_plan, clients=ds_clients, platform=platform)
    yield platform
    if state.created_stacks and not settings.keep:
        state.torn_down = _teardown(ds_plan, ds_clients, state.created_stacks)


@pytest.fixture(scope="session")
def ds_wait(pytestconfig: pytest.Config) -> Waiter:
    """The one waiting helper: ``ds_wait.until(probe, done, what=...)`` and ``ds_wait.aws(client, Op, ...)``."""
    # LocalStack answers in milliseconds, AWS bills and throttles reads: poll accordingly.
    interval = 0.5 if target_kind(pytestconfig) == "localstack" else 5.0
    return Waiter(timeout=pytestconfig.stash[SETTINGS_KEY].timeout, interval=interval)


def target_kind(config: pytest.Config) -> str:
    """localstack or aws: the --ds-target option, else the environment's configured target."""
    settings = config.stash[SETTINGS_KEY]
    if settings.target:
        return str(settings.target)
    state = config.stash[STATE_KEY]
    if state.plan is None:
        from dsplatform.synth import build_plan

        state.plan = build_plan(settings.env, settings.config_path, settings.target)
    return str(state.plan.target.kind)


@pytest.fixture
def ds_run(
    request: pytest.FixtureRequest, ds_platform: Platform, ds_clients: Any
) -> Generator[Callable[..., Run], None, None]:
    """Factory of Runs (unique run ids); all they created is removed in reverse order, failures raised."""
    runs: list[Run] = []

    def make(prefix: str = "e2e") -> Run:
        run = Run(id=new_run_id(prefix), platform=ds_platform, clients=ds_clients)
        runs.append(run)
        _recorded(request).notes.append(f"run id {run.id}")
        return run

    yield make
    failures: list[str] = []
    for run in reversed(runs):
        failures.extend(run.cleanup())
    if failures:
        raise CleanupFailed(", ".join(r.id for r in runs), failures)


@pytest.fixture
def ds_execution(
    request: pytest.FixtureRequest, pytestconfig: pytest.Config, ds_platform: Platform, ds_clients: Any, ds_wait: Waiter
) -> Callable[..., Execution]:
    """Factory: ``ds_execution(run, input_key=None)`` starts the pipeline as the schedule would and waits.

    With ``arn=`` it follows an execution someone else started (e.g. a rule) instead of starting one.
    Returns a harness.execution.Execution (status, error, cause, history, task logs).
    """
    timeout = pytestconfig.stash[SETTINGS_KEY].timeout

    def execute(
        run: Run, input_key: str | None = None, wait: float | None = None, arn: str | None = None
    ) -> Execution:
        run.expect_outputs()
        if arn is None:
            arn, payload = start_execution(ds_platform, ds_clients, run.id, input_key)
        else:
            described = ds_clients.client("stepfunctions").describe_execution(executionArn=arn)
            payload = json.loads(described.get("input") or "{}")
        execution = wait_execution(ds_platform, ds_clients, ds_wait, arn, payload, timeout=wait or timeout)
        _recorded(request).executions.append(execution)
        return execution

    return execute


def _recorded(request: pytest.FixtureRequest) -> Recorded:
    node = request.node
    if RECORD_KEY not in node.stash:
        node.stash[RECORD_KEY] = Recorded()
    return node.stash[RECORD_KEY]


def _read_platform(plan: Any, clients: Any) -> Platform:
    from dsplatform.deployer import read_outputs

    present = _existing_stacks(plan, clients)
    missing = [spec.name for spec in plan.stacks if spec.name not in present]
    if missing:
        raise PlatformNotDeployedError(plan.target.env, missing)
    outputs = read_outputs(plan, clients)
    return platform_from_outputs(plan, outputs)


def _existing_stacks(plan: Any, clients: Any) -> set[str]:
    """Names of the plan's stacks that exist in a settled, usable state."""
    cfn = clients.client("cloudformation")
    wanted = {spec.name for spec in plan.stacks}
    found: set[str] = set()
    for page in cfn.get_paginator("describe_stacks").paginate():
        for stack in page.get("Stacks", []):
            if stack["StackName"] in wanted and stack["StackStatus"] in _USABLE:
                found.add(stack["StackName"])
    return found


_USABLE = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE"})


def _deploy(plan: Any, clients: Any) -> set[str]:
    """Deploy the plan; return the stacks that did not exist before (the ones this session may remove)."""
    from dsplatform.deployer import DeployOptions, deploy

    before = _existing_stacks(plan, clients)
    deploy(plan, clients, DeployOptions()).raise_for_failure()
    return {spec.name for spec in plan.stacks} - before


def _teardown(plan: Any, clients: Any, created: set[str]) -> bool:
    """Destroy what this session created; only when it created the whole environment, never prod."""
    if plan.target.protected or created != {spec.name for spec in plan.stacks}:
        # Part of the environment pre-existed: removing only some stacks could strand the rest.
        return False
    from dsplatform.deployer import destroy

    destroy(plan, clients, purge_data=False)
    return True
