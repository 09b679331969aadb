"""The serving blueprint and component: snapshot, scoped role, scaling, alarms, capture, names and config errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from dsplatform.components.model import Context
from dsplatform.components.serving import COMPONENT, REGISTRY, model_key
from dsplatform.config import load_config
from dsplatform.errors import ConfigError
from dsplatform.lint.policy import check_policies
from dsplatform.naming import Names
from dsplatform.synth import template_json
from tests.blueprints.conftest import assert_matches_snapshot

ROOT = Path(__file__).parents[2]
SNAPSHOTS = Path(__file__).parent / "serving_snapshots"  # apart from snapshots/, whose files are the plan's stacks
SHA = "a" * 64


def _project(tmp_path: Path, serving: dict[str, dict[str, Any]]) -> Any:
    data = yaml.safe_load((ROOT / "dsplatform.yml").read_text())
    for env, settings in serving.items():
        data["environments"][env].setdefault("settings", {})["serving"] = settings
    path = tmp_path / "dsplatform.yml"
    path.write_text(yaml.safe_dump(data))
    return load_config(path)


def _render(project: Any, env: str) -> dict[str, Any]:
    names = Names.for_environment(project.environments[env], project.project.name)
    return COMPONENT.render(Context(project, project.environments[env], names))


@pytest.fixture
def templates(tmp_path: Path) -> dict[str, dict[str, Any]]:
    project = _project(tmp_path, {
        "stg": {"model_version": "3", "model_sha256": SHA},
        "prod": {"model_version": "3", "model_sha256": SHA, "image_tag": "v1.2.0",
                 "instance_type": "ml.c5.xlarge", "instance_count": 2, "max_instances": 6, "data_capture": True}})
    return {env: _render(project, env) for env in ("stg", "prod")}


@pytest.mark.parametrize("env", ["stg", "prod"])
def test_serving_template_matches_snapshot(templates: dict[str, dict[str, Any]], env: str) -> None:
    path = SNAPSHOTS / f"{env}.json"
    actual = template_json(templates[env])
    assert_matches_snapshot(path, actual, f"serving {env}")


def _of(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v["Properties"] for k, v in template["Resources"].items() if v["Type"] == kind}


def test_endpoints_are_named_staging_and_prod_and_versions_are_in_model_and_config_names(templates) -> None:  # type: ignore[no-untyped-def]
    for env, endpoint in (("stg", "ds-staging"), ("prod", "ds-prod")):
        template = templates[env]
        assert _of(template, "AWS::SageMaker::Endpoint")["Endpoint"] == {
            "EndpointName": endpoint, "EndpointConfigName": f"{endpoint}-config-3"}
        model = _of(template, "AWS::SageMaker::Model")["Model"]
        assert model["ModelName"] == f"{endpoint}-model-3"
        assert model["PrimaryContainer"]["ModelDataUrl"] == (
            f"s3://{Names.for_environment(_env(env), 'ds').artifact_bucket}/{model_key('ds-model', '3')}")
        assert model["PrimaryContainer"]["Environment"] == {"DS_SERVING_MODEL_SHA256": SHA}


def test_a_replaced_model_and_config_are_kept_so_a_rollback_can_switch_back_to_them(templates) -> None:  # type: ignore[no-untyped-def]
    # A new version renames (replaces) both; the endpoint itself is updated in place and never kept.
    for template in templates.values():
        kept = {k: (v.get("UpdateReplacePolicy"), v.get("DeletionPolicy")) for k, v in template["Resources"].items()
                if v["Type"].startswith("AWS::SageMaker::")}
        assert kept == {"Model": ("Retain", "Retain"), "EndpointConfig": ("Retain", "Retain"),
                        "Endpoint": (None, None)}


def test_the_model_names_the_pushed_image_by_digest_from_the_serving_registry_stack(templates) -> None:  # type: ignore[no-untyped-def]
    prod = templates["prod"]
    image = _of(prod, "AWS::SageMaker::Model")["Model"]["PrimaryContainer"]["Image"]
    # The deployer fills ImageDigest with what ECR holds under the tag (dsplatform.deployer.images).
    assert image == {"Fn::If": ["HasImageDigest",
                                {"Fn::Sub": ["${Uri}@${Digest}", {"Digest": {"Ref": "ImageDigest"},
                                                                  "Uri": {"Ref": "RepositoryUri"}}]},
                                {"Fn::Sub": ["${Uri}:v1.2.0", {"Uri": {"Ref": "RepositoryUri"}}]}]}
    assert prod["Parameters"]["ImageDigest"]["AllowedPattern"] == "^(sha256:[0-9a-f]{64})?$"
    assert COMPONENT.depends_on == ("storage", "alerts", "serving-registry")
    assert [(i.job, i.tag and i.tag.__name__) for i in COMPONENT.images] == [("serving", "image_tag")]


def test_the_serving_registry_is_its_own_ecr_repository_immutable_where_protected(tmp_path: Path) -> None:
    project = _project(tmp_path, {"stg": {"model_version": "3"}, "prod": {"model_version": "3"}})
    for env, mutability in (("stg", "MUTABLE"), ("prod", "IMMUTABLE")):
        names = Names.for_environment(project.environments[env], project.project.name)
        rendered = REGISTRY.render(Context(project, project.environments[env], names))
        repository = _of(rendered, "AWS::ECR::Repository")["Repository"]
        assert (repository["RepositoryName"], repository["ImageTagMutability"]) == ("ds-serving", mutability)


def _env(name: str) -> Any:
    return load_config(ROOT / "dsplatform.yml").environments[name]


def test_the_model_runs_network_isolated(templates) -> None:  # type: ignore[no-untyped-def]
    # The container reads its model from /opt/ml/model and calls nothing (checkov CKV_AWS_370 in `invoke lint`).
    for template in templates.values():
        assert _of(template, "AWS::SageMaker::Model")["Model"]["EnableNetworkIsolation"] is True


def test_execution_role_reads_only_its_model_and_pulls_only_its_repository(templates) -> None:  # type: ignore[no-untyped-def]
    role = _of(templates["stg"], "AWS::IAM::Role")["ExecutionRole"]
    trust = role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
    assert trust == {"Service": ["sagemaker.amazonaws.com"]}
    statements = {s["Sid"]: s for s in role["Policies"][0]["PolicyDocument"]["Statement"]}
    bucket = Names.for_environment(_env("stg"), "ds").artifact_bucket
    assert statements["ReadModel"]["Action"] == ["s3:GetObject"]
    assert statements["ReadModel"]["Resource"] == [f"arn:aws:s3:::{bucket}/models/ds-model/3/model.tar.gz"]
    assert statements["PullImage"]["Resource"] == [{"Ref": "RepositoryArn"}]  # the serving-registry stack's
    assert "DataCapture" not in statements
    assert check_policies("ds-stg-serving", templates["stg"]) == []  # no wildcard actions, unscoped only if listed


def test_prod_scales_on_invocations_per_instance_and_captures_to_the_output_bucket(templates) -> None:  # type: ignore[no-untyped-def]
    prod, stg = templates["prod"], templates["stg"]
    assert not _of(stg, "AWS::ApplicationAutoScaling::ScalableTarget")  # max_instances == instance_count
    target = _of(prod, "AWS::ApplicationAutoScaling::ScalableTarget")["ScalableTarget"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 6)
    assert target["ResourceId"] == "endpoint/ds-prod/variant/AllTraffic"
    scaling = _of(prod, "AWS::ApplicationAutoScaling::ScalingPolicy")["ScalingPolicy"]
    tracking = scaling["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["PredefinedMetricSpecification"]["PredefinedMetricType"] == "SageMakerVariantInvocationsPerInstance"
    config = _of(prod, "AWS::SageMaker::EndpointConfig")["EndpointConfig"]
    output_bucket = Names.for_environment(_env("prod"), "ds").output_bucket
    assert config["DataCaptureConfig"]["DestinationS3Uri"] == f"s3://{output_bucket}/data-capture/ds-prod"
    assert config["ProductionVariants"][0]["InstanceType"] == "ml.c5.xlarge"
    role = _of(prod, "AWS::IAM::Role")["ExecutionRole"]
    capture = next(s for s in role["Policies"][0]["PolicyDocument"]["Statement"] if s["Sid"] == "DataCapture")
    assert capture["Resource"] == [f"arn:aws:s3:::{output_bucket}/data-capture/ds-prod/*"]


def test_latency_and_5xx_alarms_notify_the_alert_topic(templates) -> None:  # type: ignore[no-untyped-def]
    alarms = _of(templates["stg"], "AWS::CloudWatch::Alarm")
    assert {a["MetricName"] for a in alarms.values()} == {"ModelLatency", "Invocation5XXErrors"}
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [{"Ref": "AlertTopicArn"}]
        assert {"Name": "EndpointName", "Value": "ds-staging"} in alarm["Dimensions"]
    assert alarms["LatencyAlarm"]["Threshold"] == 1_000_000  # 1000 ms in ModelLatency's microseconds


def test_an_environment_without_a_model_version_is_one_config_error(tmp_path: Path) -> None:
    project = _project(tmp_path, {"stg": {"model_version": "3"}})
    with pytest.raises(ConfigError, match=r"environments\.prod\.settings\.serving\.model_version is unset"):
        _render(project, "prod")


@pytest.mark.parametrize(("settings", "words"), [({"max_instances": 1, "instance_count": 2}, "below instance_count"),
                                                 ({"instance_type": "m5.large"}, "instance_type"),
                                                 ({"model_version": "v3"}, "model_version")])
def test_bad_serving_settings_name_the_field(tmp_path: Path, settings: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        _project(tmp_path, {"stg": settings})


def test_snapshot_files_are_json() -> None:
    for path in SNAPSHOTS.glob("*.json"):
        json.loads(path.read_text())


def test_creating_the_endpoint_requires_the_staged_model_tar_gz(tmp_path: Path) -> None:
    project = _project(tmp_path, {"stg": {"model_version": "3"}, "prod": {"model_version": "3"}})
    env = project.environments["prod"]
    assert COMPONENT.requires is not None
    (requirement,) = COMPONENT.requires(Context(project, env, Names.for_environment(env, "ds")))
    assert requirement.url == f"s3://{Names.for_environment(env, 'ds').artifact_bucket}/models/ds-model/3/model.tar.gz"
    assert "invoke model.promote --to prod" in requirement.fix and not requirement.provide
