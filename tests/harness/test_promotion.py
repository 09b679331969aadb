"""Promotion records, the comparison rule and the S3 store."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from dsplatform.stackspec import Plan, StackSpec, Target
from dsplatform.workflows.promotion.compare import differences, find_evidence
from dsplatform.workflows.promotion.record import ImageEvidence, Record, Rendering, Who, render
from dsplatform.workflows.promotion.store import list_records, put_record


def plan(env: str, bucket_name: str, threshold: int = 1) -> Plan:
    target = Target(env=env, account_id="222222222222" if env == "stg" else "333333333333",
                    region="us-east-1", kind="localstack")
    storage = {"Resources": {"Input": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": bucket_name}}}}
    monitoring = {"Resources": {"A": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Threshold": threshold}}}}
    return Plan(target=target, stacks=(
        StackSpec(name=f"ds-{env}-storage", component="storage", template=storage),
        StackSpec(name=f"ds-{env}-monitoring", component="monitoring", template=monitoring),
    ))


def record(renderings: dict[str, Rendering], source_digest: str = "sha256:aaa", created: str = "2026-11-22T10:00:00Z",
           passed: bool = True) -> Record:
    return Record(kind="e2e", env="stg", account_id="222222222222", created_at=created,
                  who=Who("arn:aws:iam::222222222222:root", "me", "host"),
                  images=(ImageEvidence("preprocessing", "ds-preprocessing", "latest", "sha256:img", source_digest),),
                  scenarios=("test_happy",), renderings=renderings, passed=passed)


STG, PROD = plan("stg", "ds-input-stg"), plan("prod", "ds-input-prod")


def test_unchanged_checkout_is_vouched_for() -> None:
    rec = record({"stg": render(STG), "prod": render(PROD)})
    assert differences(rec, render(STG), render(PROD), {"preprocessing": "sha256:aaa"}) == []


def test_target_config_change_since_the_pass_is_refused_and_named() -> None:
    rec = record({"stg": render(STG), "prod": render(PROD)})
    changed = render(plan("prod", "ds-input-prod", threshold=5))
    problems = differences(rec, render(STG), changed, {"preprocessing": "sha256:aaa"})
    assert len(problems) == 1
    assert "ds-prod-monitoring template changed" in problems[0]


def test_tested_environment_change_and_image_change_are_listed() -> None:
    rec = record({"stg": render(STG), "prod": render(PROD)})
    problems = differences(rec, render(plan("stg", "other")), render(PROD), {"preprocessing": "sha256:bbb"})
    assert any("tested: ds-stg-storage template changed" in p for p in problems)
    assert any("image ds-preprocessing: source changed" in p for p in problems)


def test_environments_never_compared_to_each_other() -> None:
    """stg and prod templates differ (names); that alone must not refuse a promotion."""
    assert render(STG).stacks["storage"].template_sha256 != render(PROD).stacks["storage"].template_sha256
    rec = record({"stg": render(STG), "prod": render(PROD)})
    assert find_evidence([("k", rec)], render(STG), render(PROD), {"preprocessing": "sha256:aaa"}).ok


def test_missing_rendering_failed_record_and_no_record_refuse() -> None:
    only_stg = record({"stg": render(STG)})
    assert any("did not render environment prod" in p for p in
               differences(only_stg, render(STG), render(PROD), {"preprocessing": "sha256:aaa"}))
    failed = record({"stg": render(STG), "prod": render(PROD)}, passed=False)
    assert differences(failed, render(STG), render(PROD), {"preprocessing": "sha256:aaa"})
    verdict = find_evidence([], render(STG), render(PROD), {"preprocessing": "sha256:aaa"})
    assert not verdict.ok and verdict.problems == ("no passing e2e record at all",)


def test_newest_matching_record_wins_over_newer_non_matching() -> None:
    old = record({"stg": render(STG), "prod": render(PROD)}, created="2026-11-22T09:00:00Z")
    new = record({"stg": render(STG), "prod": render(PROD)}, source_digest="sha256:zzz",
                 created="2026-11-22T11:00:00Z")
    verdict = find_evidence([("new", new), ("old", old)], render(STG), render(PROD), {"preprocessing": "sha256:aaa"})
    assert verdict.key == "old"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "x")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="ds-artifacts-stg")
        yield client


def test_store_round_trip_newest_first(s3) -> None:
    first = record({"stg": render(STG), "prod": render(PROD)}, created="2026-11-22T09:00:00Z")
    second = record({"stg": render(STG)}, created="2026-11-22T10:00:00Z")
    put_record(s3, "ds-artifacts-stg", first)
    key = put_record(s3, "ds-artifacts-stg", second)
    listed = list_records(s3, "ds-artifacts-stg", "e2e")
    assert listed[0][0] == key
    assert listed[1][1] == first
    assert list_records(s3, "ds-artifacts-stg", "promotion") == []


# --- promote() with the real evidence check: stg "deployed" in moto (its storage stack and artifact bucket),
# the repository's config, and the job's real source digest. Only the deploy itself is replaced, by a
# function that fails the test if it is ever reached.

ROLE = "arn:aws:iam::{account}:role/dsplatform-deploy"
CONFIG = """
environments:
  dev: {{account_id: "111111111111", target: localstack}}
  stg: {{account_id: "222222222222", target: aws, deploy_role_arn: "{stg_role}"}}
  prod: {{account_id: "333333333333", target: aws, deploy_role_arn: "{prod_role}",
          settings: {{alarms: {{failed_threshold: {threshold}}}}}}}
"""


def write_config(path, threshold: int = 1) -> str:
    path.write_text(CONFIG.format(stg_role=ROLE.format(account="222222222222"),
                                  prod_role=ROLE.format(account="333333333333"), threshold=threshold))
    return str(path)


@pytest.fixture
def stg_deployed(tmp_path, monkeypatch: pytest.MonkeyPatch):
    """stg's storage stack and artifact bucket in moto (account 222222222222); yields (config path, s3 client)."""
    import json

    import dsplatform.lifecycle as lifecycle
    from dsplatform.deployer import ClientFactory
    from dsplatform.synth import build_plan

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "x")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")

    def no_deploy(*args, **kwargs):
        raise AssertionError("deploy must not run")

    monkeypatch.setattr(lifecycle, "deployment", no_deploy)
    config = write_config(tmp_path / "dsplatform.yml")
    with mock_aws():
        plan = build_plan("stg", config)
        clients = ClientFactory(plan.target)
        storage = next(spec for spec in plan.stacks if spec.component == "storage")
        bucket = "ds-artifacts-stg-222222222222-us-east-1"
        # Every output the real storage stack has (read through StorageOutputs); the artifact bucket is real.
        outputs = {key: {"Value": f"arn:aws:s3:::{key.lower()}"} for key in storage.template["Outputs"]}
        outputs["ArtifactBucketName"] = {"Value": {"Ref": "B"}}
        clients.client("cloudformation").create_stack(StackName=storage.name, TemplateBody=json.dumps({
            "Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": bucket}}},
            "Outputs": outputs}))
        yield config, clients.client("s3"), bucket


def passing_record(config: str) -> Record:
    """The record a passing `invoke e2e --env stg` writes for this checkout and ``config``."""
    from dsplatform.images import source_digest
    from dsplatform.synth import build_plan

    digests = {image.job: source_digest(image.source) for image in build_plan("stg", config).images}
    digest = digests["preprocessing"]  # the job record() names
    renderings = {env: render(build_plan(env, config)) for env in ("stg", "prod")}
    return record(renderings, source_digest=digest)


def test_promote_refuses_without_any_record(stg_deployed) -> None:
    from dsplatform.workflows.promotion.promote import PromotionRefused, promote

    config, _, _ = stg_deployed
    with pytest.raises(PromotionRefused) as err:
        promote("stg", "prod", yes=True, config_path=config)
    assert "no passing e2e record at all" in str(err.value) and err.value.exit_code == 3
    assert "\n" not in str(err.value)


def test_promote_refuses_a_prod_change_made_after_the_pass(stg_deployed, tmp_path) -> None:
    from dsplatform.workflows.promotion.promote import PromotionRefused, promote

    config, s3, bucket = stg_deployed
    put_record(s3, bucket, passing_record(config))
    changed = write_config(tmp_path / "changed.yml", threshold=5)  # prod's alarm changed since the pass
    with pytest.raises(PromotionRefused) as err:
        promote("stg", "prod", yes=True, config_path=changed)
    assert "ds-prod-monitoring template changed" in str(err.value)


def test_promote_with_real_evidence_asks_and_stops_when_not_confirmed(stg_deployed) -> None:
    from dsplatform.workflows.promotion.promote import PromotionAborted, promote

    config, s3, bucket = stg_deployed
    key = put_record(s3, bucket, passing_record(config))
    asked: list[str] = []
    with pytest.raises(PromotionAborted):
        promote("stg", "prod", config_path=config, confirm=lambda q: bool(asked.append(q)))
    assert len(asked) == 1 and "Promote stg -> prod" in asked[0] and "sha256:img" in asked[0]
    assert f"s3://{bucket}/{key}" in asked[0]  # the record that vouched is named


@pytest.mark.parametrize(("from_env", "to_env", "allowed"), [
    ("dev", "stg", True), ("stg", "prod", True),
    ("prod", "dev", False), ("stg", "stg", False), ("prod", "stg", False), ("dev", "prod", False),
    ("stg", "dev", False), ("prod", "prod", False),
])
def test_promotion_goes_one_step_forward_along_the_config_order(tmp_path, from_env, to_env, allowed) -> None:
    from dsplatform.config import load_config
    from dsplatform.errors import UsageError
    from dsplatform.workflows.promotion.promote import check_direction

    project = load_config(write_config(tmp_path / "dsplatform.yml"))
    if allowed:
        check_direction(project, from_env, to_env)
    else:
        with pytest.raises(UsageError, match=f"--from {from_env} --to {to_env}: "):
            check_direction(project, from_env, to_env)


def test_promotion_order_is_the_order_of_the_file_not_the_names(tmp_path) -> None:
    from dsplatform.config import parse_config
    from dsplatform.errors import UsageError
    from dsplatform.workflows.promotion.promote import check_direction

    project = parse_config('environments:\n  live: {account_id: "333333333333"}\n'
                           '  alpha: {account_id: "111111111111"}\n')
    check_direction(project, "live", "alpha")
    with pytest.raises(UsageError, match="live -> alpha"):
        check_direction(project, "alpha", "live")


def test_backward_promotion_is_refused_before_any_aws_call(stg_deployed, monkeypatch: pytest.MonkeyPatch) -> None:
    from dsplatform.deployer import ClientFactory
    from dsplatform.errors import UsageError
    from dsplatform.workflows.promotion.promote import promote

    config, _, _ = stg_deployed

    def refuse(self, service):
        raise AssertionError(f"a client for {service} was made")

    monkeypatch.setattr(ClientFactory, "client", refuse)
    with pytest.raises(UsageError, match="--from prod --to stg"):
        promote("prod", "stg", yes=True, config_path=config)


def test_no_terminal_answers_no(monkeypatch: pytest.MonkeyPatch) -> None:
    from dsplatform.workflows.confirm import ask

    def eof(prompt: str) -> str:
        raise EOFError

    monkeypatch.setattr("builtins.input", eof)
    assert ask("go?") is False
    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    assert ask("go?") is True


def _with_model(s3, bucket: str, rec: Record, body: bytes) -> Record:
    """``rec`` with the evidence of a model object just put in ``bucket`` (as a passing e2e records it)."""
    import dataclasses

    from dsplatform.workflows.promotion.artifacts import ArtifactEvidence, object_sha256

    s3.put_object(Bucket=bucket, Key="models/m.pkl", Body=body)
    sha, version = object_sha256(s3, bucket, "models/m.pkl")
    return dataclasses.replace(rec, artifacts=(ArtifactEvidence("model-key", bucket, "models/m.pkl", sha, version),))


def test_the_models_sha256_survives_the_record_round_trip(s3) -> None:
    import hashlib

    rec = _with_model(s3, "ds-artifacts-stg", record({"stg": render(STG)}), b"model bytes")
    assert rec.artifacts[0].sha256 == hashlib.sha256(b"model bytes").hexdigest()
    key = put_record(s3, "ds-artifacts-stg", rec)
    assert dict(list_records(s3, "ds-artifacts-stg", "e2e"))[key].artifacts == rec.artifacts


def test_promote_refuses_a_model_replaced_after_e2e_passed(stg_deployed) -> None:
    from dsplatform.workflows.promotion.promote import PromotionAborted, PromotionRefused, promote

    config, s3, bucket = stg_deployed
    put_record(s3, bucket, _with_model(s3, bucket, passing_record(config), b"the model that passed"))
    # Unchanged: the gate lets it through to the confirmation (declined here, so nothing is deployed).
    with pytest.raises(PromotionAborted):
        promote("stg", "prod", config_path=config, confirm=lambda q: False)
    # Someone with write access to stg's bucket replaces the model (and could rewrite its sidecar checksum).
    s3.put_object(Bucket=bucket, Key="models/m.pkl", Body=b"something else")
    with pytest.raises(PromotionRefused) as err:
        promote("stg", "prod", yes=True, config_path=config)
    assert "changed since e2e passed" in str(err.value) and f"s3://{bucket}/models/m.pkl" in str(err.value)
    s3.delete_object(Bucket=bucket, Key="models/m.pkl")
    with pytest.raises(PromotionRefused, match="that passed e2e is gone"):
        promote("stg", "prod", yes=True, config_path=config)
