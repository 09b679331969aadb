"""Faults on a real LocalStack: a restart mid-deploy, a stuck UPDATE_ROLLBACK_FAILED, racing deploys, and
destroying a non-retained bucket that still holds data."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from dsplatform.deployer import ClientFactory, LockHeldError, Outcome, PlainReporter, destroy
from dsplatform.deployer import deploy as run_deploy
from dsplatform.synth import build_plan
from tests.integration.conftest import REPO, clients_for, small_plan, unique_env
from tests.ports import free_port

pytestmark = pytest.mark.localstack


# -- LocalStack restarted in the middle of a deploy --------------------------------------------------------------
_DEPLOY = """
import json, sys
from dsplatform.deployer import ClientFactory, DeployOptions, JsonReporter, deploy
from dsplatform.synth import build_plan
plan = build_plan(sys.argv[1], sys.argv[2])
result = deploy(plan, ClientFactory(plan.target), DeployOptions(concurrency=4), JsonReporter())
print(json.dumps({"event": "result", "ok": result.ok, "failed": {r.name: r.reason for r in result.failures}}))
"""


def _config(tmp_path: Path, endpoint: str) -> tuple[str, str]:
    base = yaml.safe_load((REPO / "dsplatform.yml").read_text())
    name, account = unique_env()
    doc = {k: v for k, v in base.items() if k != "environments"}
    doc["localstack"] = {"endpoint_url": endpoint}
    doc["environments"] = {name: {"account_id": account, "region": "us-east-1", "target": "localstack"}}
    path = tmp_path / f"{name}.yml"
    path.write_text(yaml.safe_dump(doc))
    return str(path), name


@pytest.fixture
def own_localstack(localstack: Any):
    """A LocalStack of this test's own on a free port (restarting the session's one would wipe other tests')."""
    from dsplatform.localstack import LocalStackSettings, start, stop

    settings = LocalStackSettings(port=free_port())
    start(settings)
    try:
        yield settings
    finally:
        stop(settings)


def test_localstack_restarted_mid_deploy_then_the_rerun_converges(own_localstack, tmp_path) -> None:
    from dsplatform.localstack import start, stop

    config, env = _config(tmp_path, own_localstack.endpoint_url)
    proc = subprocess.Popen(
        [sys.executable, "-c", _DEPLOY, env, config], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env={**os.environ, "DSPLATFORM_LOCALSTACK_URL": own_localstack.endpoint_url,
                        "PYTHONPATH": str(REPO)})
    assert proc.stdout is not None
    for line in proc.stdout:  # restart LocalStack as soon as the first change set is executing
        event = json.loads(line)
        if event["event"] == "phase" and event["phase"].startswith("executing"):
            assert stop(own_localstack)
            start(own_localstack)
            break
    out, err = proc.communicate(timeout=120)
    # The interrupted run ends on its own, with a reason per stack and no traceback.
    assert "Traceback" not in err, err
    final = [json.loads(line) for line in out.splitlines() if '"result"' in line]
    assert final and not final[-1]["ok"], (out, err)
    assert any("lost contact" in r or "does not exist" in r or "not found" in r.lower()
               for r in final[-1]["failed"].values()), final

    plan = build_plan(env, config)
    clients = ClientFactory(plan.target)
    result = run_deploy(plan, clients)
    assert result.ok, [(r.name, r.reason) for r in result.failures]
    again = run_deploy(plan, clients)
    assert {r.outcome for r in again.stacks.values()} == {Outcome.UNCHANGED}


# -- two deploys of one environment racing from two processes ---------------------------------------------------
_RACER = """
import json, pathlib, sys, time
from dsplatform.deployer import ClientFactory, deploy
from dsplatform.errors import DsPlatformError
from dsplatform.synth import build_plan
plan = build_plan(sys.argv[1], sys.argv[2])
clients = ClientFactory(plan.target)
clients.client("cloudformation"), clients.client("ssm")  # warm up before the start line
pathlib.Path(sys.argv[3] + "." + sys.argv[4]).touch()
while not pathlib.Path(sys.argv[3]).exists():
    time.sleep(0.005)
try:
    result = deploy(plan, clients)
except DsPlatformError as err:
    print(json.dumps({"error": type(err).__name__, "message": str(err)}))
    sys.exit(err.exit_code)
print(json.dumps({"ok": result.ok, "outcomes": sorted({r.outcome.value for r in result.stacks.values()})}))
"""


def test_two_racing_deploys_one_wins_the_other_is_refused_by_the_lock(platform_config, localstack, tmp_path) -> None:
    config, env = platform_config()
    go = tmp_path / "go"
    procs = [
        subprocess.Popen([sys.executable, "-c", _RACER, env, config, str(go), str(i)], cwd=REPO, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True,
                         env={**os.environ, "DSPLATFORM_LOCALSTACK_URL": localstack.endpoint_url,
                              "PYTHONPATH": str(REPO)})
        for i in range(2)
    ]
    deadline = time.monotonic() + 60
    while not all(Path(f"{go}.{i}").exists() for i in range(2)) and time.monotonic() < deadline:
        time.sleep(0.05)
    go.touch()  # both are past their imports: they reach the lock within milliseconds of each other
    outs = [p.communicate(timeout=120) for p in procs]
    answers = sorted(((p.returncode, json.loads(o.strip().splitlines()[-1])) for p, (o, _) in
                      zip(procs, outs, strict=True)), key=lambda answer: answer[0])
    assert [code for code, _ in answers] == [0, LockHeldError.exit_code], outs
    winner, loser = answers[0][1], answers[1][1]
    assert winner["ok"] and winner["outcomes"] == ["created"], winner
    assert loser["error"] == "LockHeldError" and "is locked by" in loser["message"], loser
    assert "\n" not in loser["message"]

    plan = build_plan(env, config)
    clients = clients_for(plan)
    assert plan.target.lock_name in loser["message"]
    with pytest.raises(Exception, match="ParameterNotFound"):
        clients.client("ssm").get_parameter(Name=plan.target.lock_name)  # the winner released it
    after = run_deploy(plan, clients)  # nothing half-done: every stack is exactly as planned
    assert {r.outcome for r in after.stacks.values()} == {Outcome.UNCHANGED}


# -- a stuck UPDATE_ROLLBACK_FAILED ------------------------------------------------------------------------------
def _parameter(name: str, value: str) -> dict[str, Any]:
    return {"Type": "AWS::SSM::Parameter", "Properties": {"Name": name, "Type": "String", "Value": value}}


def test_stuck_update_rollback_failed_is_repaired_then_updated(small_target) -> None:
    target = small_target()
    name = f"/it/{target.env}/setting"
    first = small_plan(target, ("settings", {"Resources": {"Setting": _parameter(name, "one")}}, ()))
    clients = clients_for(first)
    assert run_deploy(first, clients).ok
    cfn, stack = clients.client("cloudformation"), first.stacks[0].name
    # What an update naming a type the engine cannot make leaves on LocalStack: UPDATE_ROLLBACK_FAILED (on AWS
    # a rollback that cannot undo a change does the same). Nothing but ContinueUpdateRollback moves it.
    unsupported = {"Resources": {"Setting": _parameter(name, "two"),
                                 "Fleet": {"Type": "AWS::GameLift::Fleet", "Properties": {}}}}
    cfn.create_change_set(StackName=stack, ChangeSetName="stuck", ChangeSetType="UPDATE",
                          TemplateBody=json.dumps(unsupported))
    deadline = time.monotonic() + 10
    while cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] != "UPDATE_ROLLBACK_FAILED":
        assert time.monotonic() < deadline, cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
        time.sleep(0.1)

    fixed = small_plan(target, ("settings", {"Resources": {"Setting": _parameter(name, "two")}}, ()))
    out = io.StringIO()
    result = run_deploy(fixed, clients, reporter=PlainReporter(stream=out))
    res = result.stacks[stack]
    assert res.outcome is Outcome.UPDATED and res.status == "UPDATE_COMPLETE", (res.outcome, res.status, res.reason)
    assert "continuing the rollback of UPDATE_ROLLBACK_FAILED" in out.getvalue(), out.getvalue()
    assert clients.client("ssm").get_parameter(Name=name)["Parameter"]["Value"] == "two"


# -- destroying a non-retained bucket that still holds objects --------------------------------------------------
def test_destroy_never_deletes_objects_of_a_non_retained_bucket(small_target) -> None:
    target = small_target()
    bucket = f"it-scratch-{target.account_id}"
    tpl = {"Resources": {"Scratch": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Delete",
                                     "Properties": {"BucketName": bucket}}}}
    plan = small_plan(target, ("storage", tpl, ()))
    clients = clients_for(plan)
    assert run_deploy(plan, clients).ok
    s3 = clients.client("s3")
    s3.put_object(Bucket=bucket, Key="results/a.csv", Body=b"precious")
    result = destroy(plan, clients)
    res = result.stacks[plan.stacks[0].name]
    # As on AWS (BucketNotEmpty): the stack is not deleted and the objects are still there, with the fix named.
    assert res.outcome is Outcome.FAILED, (res.outcome, res.status, res.reason)
    assert bucket in res.reason and "--purge-data" in res.reason, res.reason
    assert s3.get_object(Bucket=bucket, Key="results/a.csv")["Body"].read() == b"precious"
    purged = destroy(plan, clients, purge_data=True)
    assert purged.ok, [(r.name, r.reason) for r in purged.failures]
    assert bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}
