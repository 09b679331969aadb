"""Shared pieces of the platform's scenarios: sample data, the model, and the runs started at session start."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from harness.runs import CleanupFailed, Run, new_run_id
from harness.scenarios._early import Started, Starter, start_bad_input, start_sharded
from harness.scenarios._schedule import ProbeRule, put_probe_rule


@pytest.fixture(scope="session")
def trained_model(ds_sample_model: Any) -> Any:
    """A preprocessing model fitted on generated sample rows (the same for every scenario)."""
    return ds_sample_model


@pytest.fixture(scope="session")
def sample_input(ds_plan: Any) -> bytes:
    """Generated input with about 10% dirty rows of every kind, made by the job's own sample code."""
    from dsplatform.jobdata import job_module

    return bytes(job_module("sample", ds_plan).generate_csv(300, seed=5, dirty_fraction=0.1))


PROBE_TEST = "test_rule_target_really_starts_the_pipeline"
FAILURE_TEST = "test_bad_input_fails_and_alerts"
SHARDED_TEST = "test_sharded_run_commits_one_manifest_and_a_rerun_replaces_it"


def _start_probe(run: Run, platform: Any, clients: Any, model: Any, sample: bytes) -> Started:
    return Started(run=run, extra={"probe": put_probe_rule(run, platform, clients, model, sample)})


# Scenario -> (run id prefix, starter), started in this order as soon as the session starts. The happy path
# starts its own run in its test: it is the example other repositories copy (and tests/harness runs it in-process).
EARLY: dict[str, tuple[str, Starter]] = {
    FAILURE_TEST: ("e2e", start_bad_input),
    PROBE_TEST: ("sched", _start_probe),
    SHARDED_TEST: ("shard", start_sharded),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Scenarios whose run started at session start go last (stable order otherwise): by the time they wait,
    their executions have run alongside the scenarios that start their own."""
    items.sort(key=lambda item: item.name in EARLY)


@pytest.fixture(scope="session", autouse=True)
def _early_starts(request: pytest.FixtureRequest) -> Iterator[dict[str, Started]]:
    """Start the selected scenarios' pipeline runs at once, so their executions overlap each other and the
    checks that need none; each scenario then waits for its own. Everything is cleaned up at session end."""
    selected = {item.name for item in request.session.items}
    wanted = [name for name in EARLY if name in selected]
    if not wanted:
        yield {}
        return
    platform = request.getfixturevalue("ds_platform")
    clients = request.getfixturevalue("ds_clients")
    model, sample = request.getfixturevalue("trained_model"), request.getfixturevalue("sample_input")
    started: dict[str, Started] = {}
    try:
        for name in wanted:
            prefix, starter = EARLY[name]
            run = Run(id=new_run_id(prefix), platform=platform, clients=clients)
            try:
                started[name] = starter(run, platform, clients, model, sample)
            except Exception as err:  # raised again by the scenario that needs this run, not swallowed
                started[name] = Started(run=run, error=err)
        yield started
    finally:
        failures = [f for name in reversed(list(started)) for f in started[name].run.cleanup()]
        if failures:
            raise CleanupFailed(", ".join(s.run.id for s in started.values()), failures)


def _started(starts: dict[str, Started], name: str) -> Started:
    assert name in starts, f"{name} was not started at session start (is it selected?)"
    return starts[name].ready()


@pytest.fixture
def bad_input_run(_early_starts: dict[str, Started]) -> Started:
    """The failure path's run: queue on the alert topic, bad input, model; execution started at session start."""
    return _started(_early_starts, FAILURE_TEST)


@pytest.fixture
def probe_rule(_early_starts: dict[str, Started]) -> ProbeRule:
    """The session's schedule probe (put and fired at session start)."""
    probe: ProbeRule = _started(_early_starts, PROBE_TEST).extra["probe"]
    return probe


@pytest.fixture
def sharded_runs(_early_starts: dict[str, Started]) -> Started:
    """The sharded scenario's runs (a good one and ``<id>-bad``), started at session start."""
    return _started(_early_starts, SHARDED_TEST)
