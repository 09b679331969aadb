"""The whole batch platform on LocalStack: cold deploy, no-op, an update, diff, and destroy keeping data."""

from __future__ import annotations

import pytest

from dsplatform.deployer import (
    DeployOptions,
    Outcome,
    deploy,
    destroy,
    diff,
    read_deployed,
    read_outputs,
)
from tests.integration.conftest import clients_for

pytestmark = pytest.mark.localstack

def test_platform_lifecycle(platform_plan) -> None:
    plan = platform_plan()
    env = (plan.target.env, plan.target.account_id)
    clients = clients_for(plan)

    # Cold deploy: every stack created, every contract output present.
    first = deploy(plan, clients, DeployOptions(concurrency=4))
    assert first.ok, [(r.name, r.reason) for r in first.failures]
    assert {r.outcome for r in first.stacks.values()} == {Outcome.CREATED}
    # Every output each component's Outputs class requires is deployed (the template emits exactly those).
    raw = read_outputs(plan, clients)
    for spec in plan.stacks:
        assert set(spec.outputs.required_names()) <= set(raw[spec.name]), spec.component
        assert set(raw[spec.name]) == set(spec.template.get("Outputs", {})), spec.component
    typed = read_deployed(plan, clients)
    assert typed["storage"].input_bucket_name.startswith("ds-input-")
    assert len([s for s in typed["network"].subnet_ids.split(",") if s]) >= 1

    # Immediately again: nothing changes, no change set is made.
    second = deploy(plan, clients)
    assert second.ok and {r.outcome for r in second.stacks.values()} == {Outcome.UNCHANGED}

    # An update of one setting: diff shows it, deploy updates only what it touches.
    changed = platform_plan(settings={"alarms": {"failed_threshold": 3}}, env=env)
    diffs = diff(changed, clients)
    monitoring = diffs[f"ds-{env[0]}-monitoring"]
    assert monitoring.state == "update" and any(c.logical_id == "FailedAlarm" for c in monitoring.changes)
    assert all(d.state == "unchanged" for name, d in diffs.items() if name != monitoring.stack)
    third = deploy(changed, clients)
    assert third.ok
    assert third.stacks[monitoring.stack].outcome is Outcome.UPDATED
    assert {r.outcome for n, r in third.stacks.items() if n != monitoring.stack} == {Outcome.UNCHANGED}

    # A compute change gives a new task definition ARN; the orchestration stack takes it as a parameter
    # from compute's outputs, so it updates too, and nothing else moves.
    bigger = platform_plan(
        settings={"alarms": {"failed_threshold": 3}, "compute": {"cpu": 4096, "memory": 8192}}, env=env
    )
    fourth = deploy(bigger, clients)
    assert fourth.ok, [(r.name, r.reason) for r in fourth.failures]
    moved = {n.rsplit("-", 1)[-1] for n, r in fourth.stacks.items() if r.outcome is not Outcome.UNCHANGED}
    assert moved == {"compute", "orchestration"}
    new_arn = fourth.stacks[f"ds-{env[0]}-compute"].outputs["TaskDefinitionArn"]
    assert new_arn != typed["compute"].task_definition_arn
    changed = bigger

    # Put data in the input bucket, then destroy: no stack left, data buckets (and the data) kept.
    s3 = clients.client("s3")
    bucket = typed["storage"].input_bucket_name
    s3.put_object(Bucket=bucket, Key="raw/keep.csv", Body=b"a,b\n1,2\n")
    gone = destroy(changed, clients)
    assert gone.ok, [(r.name, r.reason) for r in gone.failures]
    assert read_outputs(changed, clients) == {}
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    storage = typed["storage"]
    for name in (storage.input_bucket_name, storage.output_bucket_name, storage.artifact_bucket_name):
        assert name in buckets
    assert s3.get_object(Bucket=bucket, Key="raw/keep.csv")["Body"].read() == b"a,b\n1,2\n"


def test_destroy_with_purge_data_removes_buckets_and_versions(platform_plan) -> None:
    plan = platform_plan()
    clients = clients_for(plan)
    assert deploy(plan, clients).ok
    s3 = clients.client("s3")
    bucket = read_outputs(plan, clients)[f"ds-{plan.target.env}-storage"]["ArtifactBucketName"]
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="m.pkl", Body=b"1")
    s3.put_object(Bucket=bucket, Key="m.pkl", Body=b"2")
    s3.delete_object(Bucket=bucket, Key="m.pkl")  # leaves a delete marker over two versions
    result = destroy(plan, clients, purge_data=True)
    assert result.ok, [(r.name, r.reason) for r in result.failures]
    # The project's assets bucket serves every environment of the account and region, not only this one.
    names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    names -= {plan.target.assets_bucket}
    assert bucket not in names and not any(n.endswith(f"-{plan.target.account_id}-us-east-1") for n in names)


def test_protected_environment_gets_termination_protection_and_refuses_destroy(platform_plan) -> None:
    from dsplatform.deployer import ProtectedTargetError

    plan = platform_plan(protected=True)
    clients = clients_for(plan)
    assert deploy(plan, clients).ok
    cfn = clients.client("cloudformation")
    for spec in plan.stacks:
        assert cfn.describe_stacks(StackName=spec.name)["Stacks"][0]["EnableTerminationProtection"] is True
    with pytest.raises(ProtectedTargetError):
        destroy(plan, clients)
