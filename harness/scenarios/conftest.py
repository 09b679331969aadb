"""Shared pieces of the platform's scenarios: sample data, the model, the early rate rule."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from harness.runs import CleanupFailed, Run, new_run_id
from harness.scenarios._schedule import RateRule, put_rate_rule


@pytest.fixture(scope="session")
def trained_model(ds_sample_model: Any) -> Any:
    """A preprocessing model fitted on generated sample rows (the same for every scenario)."""
    return ds_sample_model


@pytest.fixture(scope="session")
def sample_input(ds_plan: Any) -> bytes:
    """Generated input with about 10% dirty rows of every kind, made by the job's own sample code."""
    from dsplatform.jobdata import job_module

    return bytes(job_module("sample", ds_plan).generate_csv(300, seed=5, dirty_fraction=0.1))


RATE_TEST = "test_rate_rule_really_starts_an_execution"


@pytest.fixture(scope="session", autouse=True)
def _early_rate_rule(request: pytest.FixtureRequest) -> Iterator[RateRule | None]:
    """Put the rate rule as soon as the session starts, but only when the rate scenario was selected."""
    if not any(item.name == RATE_TEST for item in request.session.items):
        yield None
        return
    platform = request.getfixturevalue("ds_platform")
    clients = request.getfixturevalue("ds_clients")
    run = Run(id=new_run_id("sched"), platform=platform, clients=clients)
    try:
        yield put_rate_rule(run, platform, clients, request.getfixturevalue("trained_model"),
                             request.getfixturevalue("sample_input"))
    finally:
        failures = run.cleanup()
        if failures:
            raise CleanupFailed(run.id, failures)


@pytest.fixture
def rate_rule(_early_rate_rule: RateRule | None) -> RateRule:
    """The session's throwaway rate rule (put at session start)."""
    assert _early_rate_rule is not None, f"the rate rule is only put when {RATE_TEST} is selected"
    return _early_rate_rule
