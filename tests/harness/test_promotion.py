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


def _aws_plan(env: str) -> Plan:
    base = plan(env, f"ds-input-{env}")
    return Plan(target=Target(env=env, account_id=base.target.account_id, region="us-east-1", kind="aws"),
                stacks=base.stacks)


def _patch_evidence(monkeypatch: pytest.MonkeyPatch, verdict) -> None:
    import dsplatform.lifecycle as lifecycle
    import dsplatform.synth as synth
    from dsplatform.workflows.promotion import promote as mod

    evidence = mod.Evidence(_aws_plan("stg"), _aws_plan("prod"), None, "ds-artifacts-stg", verdict)
    monkeypatch.setattr(mod, "_evidence", lambda *a, **k: evidence)
    monkeypatch.setattr(synth, "build_plan", lambda env, *a, **k: _aws_plan(env))

    def no_deploy(*args, **kwargs):
        raise AssertionError("deploy must not run")

    monkeypatch.setattr(lifecycle, "deployment", no_deploy)


def test_promote_refuses_without_evidence_and_names_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    from dsplatform.workflows.promotion.compare import Verdict
    from dsplatform.workflows.promotion.promote import PromotionRefused, promote

    _patch_evidence(monkeypatch, Verdict(None, None, ("promoted: ds-prod-compute template changed",)))
    with pytest.raises(PromotionRefused) as err:
        promote("stg", "prod", yes=True)
    assert "ds-prod-compute template changed" in str(err.value) and err.value.exit_code == 3
    assert "\n" not in str(err.value)


def test_promote_asks_and_stops_when_not_confirmed(monkeypatch: pytest.MonkeyPatch) -> None:
    from dsplatform.workflows.promotion.compare import Verdict
    from dsplatform.workflows.promotion.promote import PromotionAborted, promote

    rec = record({"stg": render(STG), "prod": render(PROD)})
    _patch_evidence(monkeypatch, Verdict("k.json", rec))
    asked: list[str] = []
    with pytest.raises(PromotionAborted):
        promote("stg", "prod", confirm=lambda q: bool(asked.append(q)))
    assert asked and "Promote stg -> prod" in asked[0] and "sha256:img" in asked[0]


def test_no_terminal_answers_no(monkeypatch: pytest.MonkeyPatch) -> None:
    from dsplatform.workflows.confirm import ask

    def eof(prompt: str) -> str:
        raise EOFError

    monkeypatch.setattr("builtins.input", eof)
    assert ask("go?") is False
    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    assert ask("go?") is True
