"""The dsplatform pytest plugin: options, session state, markers and the run report (fixtures in harness.fixtures)."""

from __future__ import annotations

import json
import os
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from harness import hooks
from harness.fixtures import (  # noqa: F401 - imported so pytest registers them with the plugin
    ds_clients,
    ds_deployed,
    ds_deployment,
    ds_execution,
    ds_metric,
    ds_plan,
    ds_platform,
    ds_run,
    ds_sample_model,
    ds_wait,
    target_kind,
)
from harness.state import RECORD_KEY, REPORT_KEY, SETTINGS_KEY, STATE_KEY, SessionState, Settings

MARKERS = (
    "ds_aws_only(reason): needs real AWS (e.g. the IAM policy simulator); skipped with that reason on LocalStack",
    "ds_localstack_only(reason): the check only makes sense on LocalStack; skipped with that reason on AWS",
    "smoke: the minimal scenario run after a promotion",
)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Register the plugin's hook specifications."""
    pluginmanager.add_hookspecs(hooks)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the ``dsplatform`` option group."""
    group = parser.getgroup("dsplatform", "dsplatform end-to-end harness")
    group.addoption("--ds-env", default="dev", help="environment to test (default: dev)")
    group.addoption(
        "--ds-target",
        choices=("localstack", "aws"),
        default=None,
        help="where the environment lives (default: the environment's target in the config)",
    )
    group.addoption("--ds-config", default=None, help="path of dsplatform.yml (default: found from the cwd)")
    group.addoption(
        "--ds-keep", action="store_true", default=False, help="keep the stacks this session deployed"
    )
    group.addoption(
        "--ds-reuse",
        action="store_true",
        default=False,
        help="skip the deploy stage: test the stacks already deployed (fail if absent)",
    )
    group.addoption(
        "--ds-timeout", type=float, default=300.0, help="seconds to wait for a pipeline execution (default 300)"
    )
    group.addoption("--ds-stacks", default="", help="only these stacks or components (comma-separated), with "
                                                   "their dependencies (default: the whole plan)")
    group.addoption("--ds-report-json", default=None, help="write per-scenario details (executions, logs) here")


def pytest_configure(config: pytest.Config) -> None:
    """Register markers and keep the parsed options in ``config.stash``."""
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    config.stash[SETTINGS_KEY] = Settings(
        env=config.getoption("--ds-env"),
        target=config.getoption("--ds-target"),
        config_path=config.getoption("--ds-config"),
        keep=bool(config.getoption("--ds-keep")),
        reuse=bool(config.getoption("--ds-reuse")),
        timeout=float(config.getoption("--ds-timeout")),
        report_json=config.getoption("--ds-report-json"),
        stacks=tuple(s for s in str(config.getoption("--ds-stacks") or "").split(",") if s),
    )
    config.stash[STATE_KEY] = SessionState()
    config.stash[REPORT_KEY] = {}


def pytest_report_header(config: pytest.Config) -> str:
    """Say which environment the session tests."""
    s = config.stash[SETTINGS_KEY]
    mode = "reuse deployed stacks" if s.reuse else ("deploy, keep" if s.keep else "deploy, tear down")
    return f"dsplatform: env={s.env} target={s.target or '(from config)'} ({mode})"


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip, with the marker's reason, checks the target cannot run (never silently)."""
    aws_only = item.get_closest_marker("ds_aws_only")
    ls_only = item.get_closest_marker("ds_localstack_only")
    if not (aws_only or ls_only):
        return
    kind = target_kind(item.config)
    if aws_only and kind != "aws":
        pytest.skip(f"needs target aws ({kind} cannot): {_reason(aws_only)}")
    if ls_only and kind != "localstack":
        pytest.skip(f"LocalStack only: {_reason(ls_only)}")


def _reason(marker: pytest.Mark) -> str:
    return str(marker.kwargs.get("reason") or (marker.args[0] if marker.args else "no reason given"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """Collect each scenario's outcome and what it recorded (executions, notes) for the run report."""
    report = yield
    entries: dict[str, Any] = item.config.stash[REPORT_KEY]
    entry = entries.setdefault(
        item.nodeid,
        {
            "nodeid": item.nodeid,
            "doc": (getattr(item, "obj", None).__doc__ or "").strip() if getattr(item, "obj", None) else "",
            "phases": {},
            "executions": [],
            "notes": [],
        },
    )
    entry["phases"][report.when] = {
        "outcome": report.outcome,
        "seconds": round(report.duration, 3),
        "longrepr": str(report.longrepr)[-4000:] if report.failed or report.skipped else "",
    }
    recorded = item.stash.get(RECORD_KEY, None)
    if recorded is not None and report.when == "teardown":
        entry["executions"] = [e.to_report() for e in recorded.executions]
        entry["notes"] = list(recorded.notes)
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write the per-scenario JSON report when --ds-report-json is given."""
    settings = session.config.stash.get(SETTINGS_KEY, None)
    if settings is None or not settings.report_json:
        return
    state = session.config.stash[STATE_KEY]
    path = Path(settings.report_json)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "env": settings.env,
        "exitstatus": int(exitstatus),
        "deployed_by_session": sorted(state.created_stacks),
        "torn_down": state.torn_down,
        "scenarios": list(session.config.stash[REPORT_KEY].values()),
        "pid": os.getpid(),
    }
    path.write_text(json.dumps(payload, indent=2, default=str))

