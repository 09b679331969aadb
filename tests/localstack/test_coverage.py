"""The fidelity report classifies types and lists dropped properties (hand-written templates, no LocalStack)."""

from __future__ import annotations

import json
from importlib.metadata import PathDistribution
from pathlib import Path

import pytest

from dsplatform.localstack.coverage import EXTENSION, NATIVE, NOT_EMULATED, fidelity_report
from dsplatform.localstack.native_types import NATIVE_TYPES

TEMPLATES = {
    "ds-dev-compute": {
        "Resources": {
            "Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {"ClusterName": "c"}},
            "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 30, "KmsKeyId": "k"}},
            "Service": {"Type": "AWS::ECS::Service", "Properties": {"DesiredCount": 1, "ServiceRegistries": []}},
            "Listener": {"Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": {"Certificates": []}},
        }
    },
    "ds-dev-storage": {
        "Resources": {
            "Input": {"Type": "AWS::S3::Bucket", "Properties": {"LifecycleConfiguration": {"Rules": []}}},
            "Pipeline": {"Type": "AWS::CodeStarConnections::Connection", "Properties": {}},
        }
    },
}


def test_types_are_classified() -> None:
    report = fidelity_report(TEMPLATES)
    assert report.types == {
        "AWS::CodeStarConnections::Connection": NOT_EMULATED,
        "AWS::ECS::Cluster": EXTENSION,
        "AWS::ECS::Service": EXTENSION,
        "AWS::ElasticLoadBalancingV2::Listener": EXTENSION,
        "AWS::Logs::LogGroup": NATIVE,
        "AWS::S3::Bucket": NATIVE,
    }
    assert report.not_emulated == ["AWS::CodeStarConnections::Connection"]
    assert not report.ok


def test_dropped_properties_are_listed_per_resource_and_fixed_ones_are_not() -> None:
    report = fidelity_report(TEMPLATES)
    gaps = {(f.stack, f.logical_id): sorted(f.not_applied) for f in report.gaps}
    assert gaps == {
        ("ds-dev-compute", "Logs"): ["KmsKeyId"],
        ("ds-dev-compute", "Service"): ["ServiceRegistries"],  # DesiredCount is scheduled by the extension
        ("ds-dev-compute", "Listener"): ["Certificates"],  # no TLS termination locally
    }
    bucket = next(f for f in report.findings if f.logical_id == "Input")
    assert bucket.applied_by_extension == ("LifecycleConfiguration",)
    assert bucket.not_applied == {}


def test_renderings_carry_the_same_facts() -> None:
    report = fidelity_report(TEMPLATES)
    data = json.loads(report.to_json())
    assert data["not_emulated"] == ["AWS::CodeStarConnections::Connection"]
    assert {r["logical_id"] for r in data["resources"]} == {
        "Cluster",
        "Logs",
        "Service",
        "Listener",
        "Input",
        "Pipeline",
    }
    text = report.to_text()
    assert "NOT EMULATED (a LocalStack deploy fails on these): AWS::CodeStarConnections::Connection" in text
    assert "ds-dev-compute/Logs (AWS::Logs::LogGroup): KmsKeyId" in text
    fragment = report.to_html()
    assert fragment.startswith("<section") and "<script" not in fragment
    assert "AWS::CodeStarConnections::Connection" in fragment
    # Engine behaviour that differs whatever the templates: the rollback-trigger emulation and its time scale.
    for rendering in (text, fragment, json.dumps(data["engine_notes"])):
        assert "rollback triggers" in rendering and "DSPLATFORM_MONITORING_SECONDS_PER_MINUTE" in rendering


def test_codebuild_and_codepipeline_are_extension_types_with_their_gaps_listed() -> None:
    report = fidelity_report({"ci": {"Resources": {
        "Build": {"Type": "AWS::CodeBuild::Project", "Properties": {"Environment": {}, "Name": "b"}},
        "Pipeline": {"Type": "AWS::CodePipeline::Pipeline", "Properties": {"Triggers": [], "Name": "p"}}}}})
    assert report.types == {"AWS::CodeBuild::Project": EXTENSION, "AWS::CodePipeline::Pipeline": EXTENSION}
    gaps = {f.logical_id: sorted(f.not_applied) for f in report.gaps}
    assert gaps == {"Build": ["Environment"], "Pipeline": ["Triggers"]}


def test_a_clean_template_is_ok() -> None:
    report = fidelity_report({"s": {"Resources": {"T": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "t"}}}}})
    assert report.ok and report.gaps == [] and report.not_emulated == []


@pytest.mark.localstack
def test_native_list_matches_the_pinned_localstack() -> None:
    from dsplatform.localstack import LocalStackSettings
    from dsplatform.localstack.venv import ensure_venv

    # Built here if missing (never skipped): the lists must match the pinned release, not a guess.
    venv = ensure_venv(LocalStackSettings())
    dist_infos = list(venv.glob("lib/python3.*/site-packages/localstack_core-*.dist-info"))
    assert dist_infos, f"no localstack_core in {venv}"
    entry_points = PathDistribution(Path(dist_infos[0])).entry_points
    names = {ep.name for ep in entry_points if ep.group == "localstack.cloudformation.resource_providers"}
    assert names == {t.lower() for t in NATIVE_TYPES}


@pytest.mark.parametrize("env", ["dev", "stg", "prod"])
def test_platform_templates_are_fully_emulated(env: str) -> None:
    from dsplatform.synth import templates_for

    report = fidelity_report(templates_for(env))
    assert report.not_emulated == [], report.to_text()
    assert {f.type for f in report.findings} >= {"AWS::ECS::TaskDefinition", "AWS::StepFunctions::StateMachine"}


def test_types_whose_updates_localstack_drops_are_listed() -> None:
    report = fidelity_report(
        {
            "s": {
                "Resources": {
                    "Rule": {"Type": "AWS::Events::Rule", "Properties": {}},
                    "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {}},
                    "Subnet": {"Type": "AWS::EC2::Subnet", "Properties": {}},
                    "Param": {"Type": "AWS::SSM::Parameter", "Properties": {}},
                }
            }
        }
    )
    assert report.updates_not_applied == {
        "AWS::EC2::Subnet": "no property is updated in place",
        "AWS::EC2::VPC": "only the DNS attributes are updated",
    }
    assert "In-place updates not applied" in report.to_html()
    assert json.loads(report.to_json())["updates_not_applied"] == report.updates_not_applied


_LIST_NO_UPDATE = """
import ast, importlib, inspect, textwrap
from importlib.metadata import distribution
for ep in distribution("localstack-core").entry_points:
    if ep.group != "localstack.cloudformation.resource_providers":
        continue
    module, name = ep.value.split(":")
    plugin = getattr(importlib.import_module(module), name)()
    plugin.load()
    update = plugin.factory.__dict__.get("update")
    if update is None:
        print(plugin.name)
        continue
    body = ast.parse(textwrap.dedent(inspect.getsource(update))).body[0].body
    code = [s for s in body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if len(code) == 1 and isinstance(code[0], ast.Raise):
        print(plugin.name)
"""


@pytest.mark.localstack
def test_update_not_implemented_list_matches_the_pinned_localstack(tmp_path: Path) -> None:
    import subprocess

    from dsplatform.localstack import LocalStackSettings
    from dsplatform.localstack.native_types import UPDATE_NOT_IMPLEMENTED
    from dsplatform.localstack.venv import ensure_venv

    python = ensure_venv(LocalStackSettings()) / "bin" / "python"
    out = subprocess.run(
        [str(python), "-c", _LIST_NO_UPDATE], capture_output=True, text=True, check=True, cwd=tmp_path, timeout=300
    )
    assert set(out.stdout.split()) == set(UPDATE_NOT_IMPLEMENTED)


def test_report_lists_exactly_the_properties_the_extension_applies() -> None:
    # The extension runs in LocalStack's own venv and cannot share a module with dsplatform, so the two
    # tables are kept apart and this test keeps them equal.
    import ast

    from dsplatform.localstack.coverage import EXTENSION_APPLIED

    source = Path(__file__).parents[2] / "localstack/extension/dsplatform_localstack/cfn_fixes.py"
    tree = ast.parse(source.read_text(encoding="utf-8"))
    applied = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "APPLIED" for t in node.targets)
    )
    assert applied == dict(EXTENSION_APPLIED)


def test_state_machine_features_localstack_refuses_are_reported() -> None:
    batched = {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemBatcher": {"MaxItemsPerBatch": 2}, "End": True}}}
    manifest = {"ItemReader": {"ReaderConfig": {"InputType": "MANIFEST"}}, "Type": "Map", "End": True}
    report = fidelity_report(
        {
            "s": {
                "Resources": {
                    "Batched": {
                        "Type": "AWS::StepFunctions::StateMachine",
                        "Properties": {"DefinitionString": {"Fn::Sub": [json.dumps(batched), {}]}},
                    },
                    "Inventory": {
                        "Type": "AWS::StepFunctions::StateMachine",
                        "Properties": {"Definition": {"StartAt": "M", "States": {"M": manifest}}},
                    },
                    "Plain": {
                        "Type": "AWS::StepFunctions::StateMachine",
                        "Properties": {"Definition": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}},
                    },
                }
            }
        }
    )
    assert {f.logical_id: sorted(f.unsupported) for f in report.unsupported} == {
        "Batched": ["ItemBatcher"],
        "Inventory": ["ItemReader InputType MANIFEST"],
    }
    assert not report.ok
    assert "s/Batched (AWS::StepFunctions::StateMachine): ItemBatcher" in report.to_text()
    assert "Features LocalStack refuses" in report.to_html()


def test_extension_types_are_exactly_the_resource_providers_the_extension_declares() -> None:
    import tomllib

    from dsplatform.localstack.fidelity_tables import EXTENSION_TYPES

    pyproject = Path(__file__).parents[2] / "localstack/extension/pyproject.toml"
    declared = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["entry-points"][
        "localstack.cloudformation.resource_providers"]
    assert set(declared) == {t.lower() for t in EXTENSION_TYPES}


def test_invoke_coverage_reports_the_bootstrap_and_its_oidc_provider_as_an_extension_type() -> None:
    import subprocess
    import sys

    root = Path(__file__).parents[2]
    out = subprocess.run([sys.executable, "-m", "invoke", "localstack.coverage", "--env", "dev", "--format", "json"],
                         cwd=root, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["types"]["AWS::IAM::OIDCProvider"] == EXTENSION and report["not_emulated"] == []
    assert "nothing checks a web identity token" in report["notes"]["AWS::IAM::OIDCProvider"]
    assert {r["stack"] for r in report["resources"]} >= {"ds-bootstrap", "ds-dev-storage"}
