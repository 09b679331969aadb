"""Failure handling on LocalStack: rollbacks with reasons, repairs, killed runs, locks, stateful refusals."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dsplatform.deployer import DeployOptions, LockHeldError, Outcome, PlainReporter, deploy, destroy, diff
from dsplatform.deployer.lock import acquire, release
from dsplatform.deployer.status import StackState, classify
from tests.integration.conftest import clients_for, small_plan

pytestmark = pytest.mark.localstack

REPO = Path(__file__).resolve().parents[2]
QUEUE = {
    "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
    "Outputs": {"QueueArn": {"Value": {"Fn::GetAtt": ["Queue", "Arn"]}}},
}
BAD_BUCKET = {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "Not_A_Valid_Bucket!"}}


def _param(name: str, value: Any) -> dict[str, Any]:
    return {"Type": "AWS::SSM::Parameter", "Properties": {"Name": name, "Type": "String", "Value": value}}


def _consumer(target_env: str) -> dict[str, Any]:
    return {
        "Parameters": {"QueueArn": {"Type": "String"}},
        "Resources": {"Param": _param(f"/it/{target_env}/queue-arn", {"Ref": "QueueArn"})},
        "Outputs": {"ParamName": {"Value": {"Ref": "Param"}}},
    }


def test_failing_resource_rolls_back_with_its_reason_then_recovers(small_target) -> None:
    target = small_target()
    broken = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}, "Bucket": BAD_BUCKET}}
    plan = small_plan(target, ("queue", broken, ()), ("consumer", _consumer(target.env), ("queue",)))
    clients = clients_for(plan)
    result = deploy(plan, clients)
    failed = result.stacks[f"ds-{target.env}-queue"]
    seen = (failed.outcome, failed.status, failed.reason, [e.describe() for e in failed.events])
    assert failed.outcome is Outcome.FAILED and failed.status == "ROLLBACK_COMPLETE", seen
    assert "Bucket" in [e.logical_id for e in failed.events] and "not_a_valid_bucket" in failed.reason.lower(), seen
    assert result.stacks[f"ds-{target.env}-consumer"].outcome is Outcome.BLOCKED
    with pytest.raises(Exception, match="invoke deploy --env"):
        result.raise_for_failure()

    # Fixed template: the ROLLBACK_COMPLETE stack is deleted and created again, the dependent follows.
    fixed = small_plan(target, ("queue", QUEUE, ()), ("consumer", _consumer(target.env), ("queue",)))
    again = deploy(fixed, clients)
    assert again.ok, [(r.name, r.status, r.reason) for r in again.stacks.values()]
    assert [r.outcome for r in again.stacks.values()] == [Outcome.CREATED, Outcome.CREATED]


def test_failed_update_rolls_back_and_the_next_deploy_updates(small_target) -> None:
    target = small_target()
    plan = small_plan(target, ("queue", QUEUE, ()))
    clients = clients_for(plan)
    assert deploy(plan, clients).ok
    broken = {**QUEUE, "Resources": {**QUEUE["Resources"], "Bucket": BAD_BUCKET}}
    result = deploy(small_plan(target, ("queue", broken, ())), clients)
    res = result.stacks[f"ds-{target.env}-queue"]
    assert res.outcome is Outcome.FAILED and res.status == "UPDATE_ROLLBACK_COMPLETE" and "Bucket" in res.reason
    extra = {**QUEUE, "Resources": {**QUEUE["Resources"], "Param": _param(f"/it/{target.env}/x", "x")}}
    after = deploy(small_plan(target, ("queue", extra, ())), clients).stacks[res.name]
    # Needs the extension's rollback fix: LocalStack 2026.3.0 alone keeps the failed template after an
    # update rollback, so the next change set fails ("No deployed instances of resource").
    assert after.outcome is Outcome.UPDATED, after.reason


def test_review_in_progress_stack_left_by_a_killed_run_is_cleaned_up(small_target) -> None:
    target = small_target()
    plan = small_plan(target, ("queue", QUEUE, ()))
    clients = clients_for(plan)
    cfn = clients.client("cloudformation")
    # What a run killed between CreateChangeSet and ExecuteChangeSet leaves behind.
    cfn.create_change_set(
        StackName=plan.stacks[0].name, ChangeSetName="killed", ChangeSetType="CREATE", TemplateBody=json.dumps(QUEUE)
    )
    cfn.get_waiter("change_set_create_complete").wait(
        StackName=plan.stacks[0].name, ChangeSetName="killed", WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
    )
    status = cfn.describe_stacks(StackName=plan.stacks[0].name)["Stacks"][0]["StackStatus"]
    assert classify(status) is StackState.REVIEW
    result = deploy(plan, clients)
    assert result.ok and result.stacks[plan.stacks[0].name].outcome is Outcome.CREATED


_RUNNER = """
import sys
from dsplatform.deployer import ClientFactory, DeployOptions, JsonReporter, deploy
from dsplatform.synth import build_plan
plan = build_plan(sys.argv[1], sys.argv[2])
deploy(plan, ClientFactory(plan.target), DeployOptions(concurrency=4), JsonReporter())
"""


def test_killed_deploy_converges_when_run_again(platform_config, localstack) -> None:
    config, env = platform_config()
    proc = subprocess.Popen(
        [sys.executable, "-c", _RUNNER, env, config],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "DSPLATFORM_LOCALSTACK_URL": localstack.endpoint_url, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None
    try:
        for line in proc.stdout:  # kill it as soon as the first stack's change set is executing
            event = json.loads(line)
            if event["event"] == "phase" and event["phase"].startswith("executing"):
                proc.send_signal(signal.SIGKILL)
                break
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL

    from dsplatform.synth import build_plan

    plan = build_plan(env, config)
    clients = clients_for(plan)
    # The dead run's lock is still there; its process is gone on this host, so it is stale and replaced.
    result = deploy(plan, clients)
    assert result.ok, [(r.name, r.reason) for r in result.failures]
    again = deploy(plan, clients)
    assert len(again.stacks) == len(plan.stacks)
    assert {r.outcome for r in again.stacks.values()} == {Outcome.UNCHANGED}


def test_concurrent_deploy_is_refused_naming_the_holder(small_target) -> None:
    target = small_target()
    plan = small_plan(target, ("queue", QUEUE, ()))
    clients = clients_for(plan)
    ssm = clients.client("ssm")
    held = acquire(ssm, target.env, 600)  # this live process holds it, as a running deploy would
    try:
        with pytest.raises(LockHeldError) as err:
            deploy(plan, clients)
        assert held.since in str(err.value) and f"pid {held.pid}" in str(err.value)
        assert clients.client("cloudformation").describe_stacks()["Stacks"] == []  # nothing was created
    finally:
        release(ssm, target.env, held)
    assert deploy(plan, clients).ok
    with pytest.raises(Exception, match="ParameterNotFound"):
        ssm.get_parameter(Name=f"/dsplatform/locks/{target.env}")  # released after the deploy


def test_stateful_replacement_needs_allow_replace(small_target) -> None:
    target = small_target()

    def bucket_tpl(name: str) -> dict[str, Any]:
        return {
            "Resources": {
                "Data": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "Properties": {"BucketName": name}}
            }
        }

    first = small_plan(target, ("storage", bucket_tpl(f"it-{target.account_id}-a"), ()))
    clients = clients_for(first)
    assert deploy(first, clients).ok
    renamed = small_plan(target, ("storage", bucket_tpl(f"it-{target.account_id}-b"), ()))
    changes = diff(renamed, clients)[renamed.stacks[0].name]
    assert [c.logical_id for c in changes.destructive] == ["Data"]
    refused = deploy(renamed, clients).stacks[renamed.stacks[0].name]
    assert refused.outcome is Outcome.REFUSED and "--allow-replace" in refused.reason
    allowed = deploy(renamed, clients, DeployOptions(allow_replace=(f"{renamed.stacks[0].name}/Data",)))
    assert allowed.ok and allowed.stacks[renamed.stacks[0].name].outcome is Outcome.UPDATED


def test_destroy_keeps_retained_data_buckets_and_their_objects(small_target) -> None:
    target = small_target()
    bucket = f"it-data-{target.account_id}"
    tpl = {
        "Resources": {
            "Data": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "Properties": {"BucketName": bucket}},
            "Queue": {"Type": "AWS::SQS::Queue"},
        }
    }
    plan = small_plan(target, ("storage", tpl, ()), ("consumer", QUEUE, ("storage",)))
    clients = clients_for(plan)
    assert deploy(plan, clients).ok
    s3 = clients.client("s3")
    s3.put_object(Bucket=bucket, Key="raw/a.csv", Body=b"x")
    result = destroy(plan, clients)
    assert result.ok and {r.outcome for r in result.stacks.values()} == {Outcome.DELETED}
    live = [
        s for s in clients.client("cloudformation").describe_stacks()["Stacks"] if s["StackStatus"] != "DELETE_COMPLETE"
    ]
    assert live == []
    assert s3.get_object(Bucket=bucket, Key="raw/a.csv")["Body"].read() == b"x"
    assert {r.outcome for r in destroy(plan, clients).stacks.values()} == {Outcome.ABSENT}


def test_purge_data_empties_versions_and_delete_markers_then_deletes_buckets(small_target) -> None:
    target = small_target()
    bucket = f"it-purge-{target.account_id}"
    tpl = {
        "Resources": {
            "Data": {
                "Type": "AWS::S3::Bucket",
                "DeletionPolicy": "Retain",
                "Properties": {"BucketName": bucket, "VersioningConfiguration": {"Status": "Enabled"}},
            }
        }
    }
    plan = small_plan(target, ("storage", tpl, ()))
    clients = clients_for(plan)
    assert deploy(plan, clients).ok
    s3 = clients.client("s3")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"1", b"2"):
        s3.put_object(Bucket=bucket, Key="models/m.pkl", Body=body)
    s3.delete_object(Bucket=bucket, Key="models/m.pkl")
    versions = s3.list_object_versions(Bucket=bucket)
    assert len(versions.get("Versions", [])) == 2 and len(versions.get("DeleteMarkers", [])) == 1
    assert destroy(plan, clients, purge_data=True).ok
    assert bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}


def test_destroy_purges_ecr_images_so_the_repository_can_go(small_target) -> None:
    target = small_target()
    repo = f"it-repo-{target.account_id}"
    tpl = {"Resources": {"Repo": {"Type": "AWS::ECR::Repository", "Properties": {"RepositoryName": repo}}}}
    plan = small_plan(target, ("registry", tpl, ()))
    clients = clients_for(plan)
    assert deploy(plan, clients).ok
    ecr = clients.client("ecr")
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 1,
                "digest": "sha256:" + "a" * 64,
            },
            "layers": [],
        }
    )
    ecr.put_image(repositoryName=repo, imageManifest=manifest, imageTag="v1")
    assert ecr.list_images(repositoryName=repo)["imageIds"]
    out = io.StringIO()
    result = destroy(plan, clients, reporter=PlainReporter(stream=out))
    assert result.ok, [(r.name, r.reason) for r in result.failures]
    assert f"purging images of {repo}" in out.getvalue()
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException):
        ecr.describe_repositories(repositoryNames=[repo])


def test_purge_data_after_a_plain_destroy_removes_the_kept_buckets(small_target) -> None:
    target = small_target()
    bucket = f"it-kept-{target.account_id}"
    tpl = {
        "Resources": {
            "Data": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "Properties": {"BucketName": bucket}}
        }
    }
    plan = small_plan(target, ("storage", tpl, ()))
    clients = clients_for(plan)
    assert deploy(plan, clients).ok
    s3 = clients.client("s3")
    s3.put_object(Bucket=bucket, Key="raw/a.csv", Body=b"x")
    assert destroy(plan, clients).ok
    assert bucket in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert destroy(plan, clients, purge_data=True).ok
    assert bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}


def test_ctrl_c_releases_the_lock_exits_130_and_a_rerun_converges(platform_config, localstack) -> None:
    config, env = platform_config()
    invoke = str(Path(sys.executable).with_name("invoke"))
    proc = subprocess.Popen(
        [invoke, "-r", str(REPO), "deploy", "--env", env, "--config", config, "--json"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "DSPLATFORM_LOCALSTACK_URL": localstack.endpoint_url, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        event = json.loads(line)
        if event["event"] == "phase" and event["phase"].startswith("executing"):
            proc.send_signal(signal.SIGINT)
            break
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in err

    from dsplatform.synth import build_plan

    plan = build_plan(env, config)
    clients = clients_for(plan)
    with pytest.raises(Exception, match="ParameterNotFound"):
        clients.client("ssm").get_parameter(Name=f"/dsplatform/locks/{env}")
    result = deploy(plan, clients)
    assert result.ok, [(r.name, r.reason) for r in result.failures]
