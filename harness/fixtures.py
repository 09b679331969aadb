"""The harness's public fixtures (documented in docs/harness.md); helpers are private."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest

from harness.api_calls import RECORD_ENV, CallRecorder
from harness.execution import Execution, start_execution, wait_execution
from harness.platform import Platform, platform_from_deployed
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
        state.plan = build_plan(settings.env, settings.config_path, settings.target, list(settings.stacks) or None)
    return state.plan


@pytest.fixture(scope="session")
def ds_clients(request: pytest.FixtureRequest, ds_plan: Any) -> Any:
    """A ``dsplatform.deployer.ClientFactory`` for the target account, checked with STS first.

    With $DSPLATFORM_RECORD_CALLS set, every call it makes is saved there as an IAM request at session end
    (``harness.api_calls``), so the process that ran the scenarios can check them against a role's policy.
    """
    from dsplatform.deployer import ClientFactory

    clients = ClientFactory(ds_plan.target)
    record = os.environ.get(RECORD_ENV)
    if record:
        recorder = CallRecorder(ds_plan.target.account_id, ds_plan.target.region)
        recorder.attach(clients.session())
        request.addfinalizer(lambda: recorder.save(Path(record)))
    clients.verify_account()
    return clients


@pytest.fixture(scope="session")
def ds_deployment(pytestconfig: pytest.Config, ds_plan: Any, ds_clients: Any) -> Generator[Any, None, None]:
    """The environment deployed for this session (``dsplatform.lifecycle.Deployment``), or reused with --ds-reuse.

    Deploys and pushes the jobs' images unless --ds-reuse; at session end tears down what it created unless
    --ds-keep. A failed teardown fails the session with its reason.
    """
    from dsplatform.lifecycle import deployment

    settings = pytestconfig.stash[SETTINGS_KEY]
    state = pytestconfig.stash[STATE_KEY]
    with deployment(ds_plan, ds_clients, reuse=settings.reuse, keep=settings.keep, images=not settings.reuse,
                    provide=ds_plan.target.kind == "localstack") as dep:
        state.created_stacks = set(dep.created)
        if not settings.reuse:
            pytestconfig.hook.pytest_ds_after_deploy(plan=ds_plan, clients=ds_clients, deployed=dep.deployed)
        yield dep
    state.torn_down = dep.torn_down


@pytest.fixture(scope="session")
def ds_deployed(ds_deployment: Any) -> Any:
    """Typed outputs of every deployed component (``dsplatform.deployer.Deployed``): ``ds_deployed.get(MyOutputs)``."""
    return ds_deployment.deployed


@pytest.fixture(scope="session")
def ds_platform(ds_plan: Any, ds_deployed: Any) -> Platform:
    """The stock pipeline's facts (``harness.platform.Platform``) read from the deployed stacks' typed outputs."""
    return platform_from_deployed(ds_plan, ds_deployed)


@pytest.fixture(scope="session")
def ds_sample_model(ds_plan: Any) -> Any:
    """The stock job's model fitted on its sample rows, by the job's own code (from the plan's image source)."""
    from dsplatform.jobdata import job_module

    return job_module("model", ds_plan).train_on_sample(rows=1000, seed=11)


@pytest.fixture(scope="session")
def ds_wait(pytestconfig: pytest.Config) -> Waiter:
    """The one waiting helper: ``ds_wait.until(probe, done, what=...)`` and ``ds_wait.aws(client, Op, ...)``."""
    # LocalStack answers in milliseconds, AWS bills and throttles reads: poll accordingly. 0.2 s is the floor
    # ``Waiter.aws`` allows; each wait on LocalStack then ends on average 0.1 s after its state changed.
    interval = 0.2 if target_kind(pytestconfig) == "localstack" else 5.0
    return Waiter(timeout=pytestconfig.stash[SETTINGS_KEY].timeout, interval=interval)


def target_kind(config: pytest.Config) -> str:
    """localstack or aws: the --ds-target option, else the environment's configured target."""
    settings = config.stash[SETTINGS_KEY]
    if settings.target:
        return str(settings.target)
    state = config.stash[STATE_KEY]
    if state.plan is None:
        from dsplatform.synth import build_plan

        state.plan = build_plan(settings.env, settings.config_path, settings.target, list(settings.stacks) or None)
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


METRIC_NOTE = "metric "  # a note "metric <name>=<value>": `invoke e2e` copies it into the passing record


@pytest.fixture
def ds_metric(request: pytest.FixtureRequest) -> Callable[[str, float], None]:
    """``ds_metric(name, value)``: record a measured number (e.g. a model's holdout accuracy) for this scenario.

    When every scenario passes, `invoke e2e` keeps the passed scenarios' metrics in its record (``metrics``),
    which gates that depend on a measurement read (``invoke model.promote``'s quality bar).
    """

    def record(name: str, value: float) -> None:
        _recorded(request).notes.append(f"{METRIC_NOTE}{name}={float(value)!r}")

    return record


def _recorded(request: pytest.FixtureRequest) -> Recorded:
    node = request.node
    if RECORD_KEY not in node.stash:
        node.stash[RECORD_KEY] = Recorded()
    return node.stash[RECORD_KEY]
