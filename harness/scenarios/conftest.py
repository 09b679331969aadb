"""Shared pieces of the platform's scenarios: sample data, the model, the early rate rule."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from harness.runs import CleanupFailed, Run, new_run_id
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


@pytest.fixture(scope="session", autouse=True)
def _early_probe_rule(request: pytest.FixtureRequest) -> Iterator[ProbeRule | None]:
    """Put and fire the schedule probe as soon as the session starts (only when its scenario was selected),
    so its execution runs while the other scenarios do."""
    if not any(item.name == PROBE_TEST for item in request.session.items):
        yield None
        return
    platform = request.getfixturevalue("ds_platform")
    clients = request.getfixturevalue("ds_clients")
    run = Run(id=new_run_id("sched"), platform=platform, clients=clients)
    try:
        yield put_probe_rule(run, platform, clients, request.getfixturevalue("trained_model"),
                             request.getfixturevalue("sample_input"))
    finally:
        failures = run.cleanup()
        if failures:
            raise CleanupFailed(run.id, failures)


@pytest.fixture
def probe_rule(_early_probe_rule: ProbeRule | None) -> ProbeRule:
    """The session's schedule probe (put and fired at session start)."""
    assert _early_probe_rule is not None, f"the probe rule is only put when {PROBE_TEST} is selected"
    return _early_probe_rule
