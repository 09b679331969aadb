"""A deploy that trips a rollback-trigger alarm rolls itself back (issue 16's scenario), on a real LocalStack.

The triggers come from config (`rollback.alarms: [pipeline]`, a monitoring period); the extension's
cfn_triggers watches them as CloudFormation does, and the deployer reports the failure with the alarm's name.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from dsplatform.deployer import ClientFactory, deploy, destroy
from dsplatform.lifecycle import deployment
from dsplatform.localstack import LocalStackSettings, register_image_sources
from dsplatform.synth import build_plan
from tests.integration.conftest import unique_env

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.localstack
ALARM = "rt-preprocessing-ExecutionsFailed"  # one of the stock pipeline's failure alarms ('pipeline')


def _project(tmp_path: Path, localstack: Any, env: str, account: str, threshold: int) -> str:
    base = yaml.safe_load((REPO / "dsplatform.yml").read_text())
    settings = {"alarms": {"failed_threshold": threshold},
                # Scaled on LocalStack by DSPLATFORM_MONITORING_SECONDS_PER_MINUTE (tests/conftest.py: 2 s).
                "rollback": {"alarms": ["pipeline"], "monitoring_minutes": 15}}
    doc = {"project": {"name": "rt"}, "localstack": {"endpoint_url": localstack.endpoint_url},
           "defaults": base["defaults"],
           "environments": {env: {"account_id": account, "target": "localstack", "settings": settings}}}
    path = tmp_path / f"dsplatform-{threshold}.yml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def _trip_once_updated(cloudwatch: Any, threshold: float, done: threading.Event) -> None:
    """Once the update has applied the new threshold (the stack is monitoring), keep the alarm in ALARM.

    Kept, not set once: the alarm's metric has no data, so an evaluation (every period, as on AWS) can move a
    state set by hand to INSUFFICIENT_DATA before the monitor reads it (seen once in a parallel run).
    """
    deadline = time.monotonic() + 120
    tripped = False
    while time.monotonic() < deadline and not done.is_set():
        if not tripped:
            alarms = cloudwatch.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"]
            tripped = bool(alarms) and alarms[0]["Threshold"] == threshold
        if tripped:
            cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="failed executions")
        time.sleep(0.2)


def test_a_deploy_that_trips_a_trigger_alarm_rolls_itself_back(localstack: Any, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DSPLATFORM_LOCALSTACK_URL", localstack.endpoint_url)
    env, account = unique_env()
    shutil.copytree(REPO / "containers" / "preprocessing", tmp_path / "containers" / "preprocessing",
                    ignore=shutil.ignore_patterns("tests", "__pycache__", "*.egg-info"))
    config = _project(tmp_path, localstack, env, account, threshold=1)
    plan = build_plan(env, config)
    assert ALARM in plan.target.rollback_alarms
    clients = ClientFactory(plan.target)
    port = int(str(plan.target.endpoint_url).rsplit(":", 1)[1])
    register_image_sources(LocalStackSettings(port=port, project_root=REPO),
                           {image.repository: image.source for image in plan.images})
    try:
        with deployment(plan, clients, keep=True):
            pass  # release 1: the alarms now exist, so the next update carries them as triggers
        cloudwatch = clients.client("cloudwatch")
        stacks = clients.client("cloudformation")

        update = build_plan(env, _project(tmp_path, localstack, env, account, threshold=3))
        done = threading.Event()
        tripper = threading.Thread(target=_trip_once_updated, args=(cloudwatch, 3.0, done), daemon=True)
        tripper.start()
        try:
            result = deploy(update, clients)
        finally:
            done.set()
            tripper.join()

        assert not result.ok
        (failed,) = [r for r in result.stacks.values() if not r.ok]
        assert failed.status == "UPDATE_ROLLBACK_COMPLETE"
        assert ALARM in failed.reason, failed.reason  # the deployer names the alarm that rolled it back
        assert stacks.describe_stacks(StackName=failed.name)["Stacks"][0]["RollbackConfiguration"]["RollbackTriggers"]
        # The update is undone: the alarm is back on release 1's threshold.
        assert cloudwatch.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"][0]["Threshold"] == 1.0
    finally:
        assert destroy(plan, clients, purge_data=True).ok
