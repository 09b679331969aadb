"""The bootstrap template's security facts: no wildcard actions, a private TLS-only versioned assets bucket,
an execution role scoped to the plan's resource types, trust only for the configured principals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from blueprints.bootstrap import BootstrapProps, build
from blueprints.bootstrap_scope import EXECUTION_SCOPE
from dsplatform.config import load_config
from dsplatform.delivery.bootstrap import bootstrap_props

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def stg() -> tuple[BootstrapProps, dict[str, Any]]:
    props = bootstrap_props(load_config(ROOT / "dsplatform.yml"), "stg")
    return props, build(props).to_dict()


def _statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for res in template["Resources"].values():
        for policy in res["Properties"].get("Policies", []):
            out += policy["PolicyDocument"]["Statement"]
    return out


def test_no_allow_has_a_wildcard_action(stg: tuple[BootstrapProps, dict[str, Any]]) -> None:
    for statement in _statements(stg[1]):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions), statement
    assert all("*" not in a for scope in EXECUTION_SCOPE.values() for a in scope.actions)


def test_the_assets_bucket_is_private_encrypted_versioned_tls_only(stg: tuple[BootstrapProps, dict[str, Any]]) -> None:
    props, template = stg
    bucket = template["Resources"]["AssetsBucket"]
    p = bucket["Properties"]
    assert p["BucketName"] == props.assets_bucket == "ds-assets-222222222222-us-east-1"
    assert p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert set(p["PublicAccessBlockConfiguration"].values()) == {True}
    assert p["VersioningConfiguration"]["Status"] == "Enabled"
    assert p["LifecycleConfiguration"]["Rules"][0]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    assert bucket["DeletionPolicy"] == "Retain"
    [deny] = template["Resources"]["AssetsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_execution_role_covers_exactly_the_plan_resource_types(stg: tuple[BootstrapProps, dict[str, Any]]) -> None:
    props, template = stg
    policy = template["Resources"]["ExecutionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    sids = {s["Sid"] for s in policy["Statement"]}
    assert sids == {t.replace("AWS::", "").replace("::", "") for t in props.resource_types}
    assert "ECSService" not in sids  # no api in this config: no row for its types
    iam = next(s for s in policy["Statement"] if s["Sid"] == "IAMRole")
    assert iam["Resource"] == [{"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/ds-*"}]


def test_an_unknown_resource_type_is_refused_naming_the_table(stg: tuple[BootstrapProps, dict[str, Any]]) -> None:
    from dataclasses import replace

    with pytest.raises(ValueError, match=r"AWS::Glue::Job have no execution scope; add them to "
                                         r"blueprints/bootstrap_scope.py"):
        build(replace(stg[0], resource_types=(*stg[0].resource_types, "AWS::Glue::Job")))


def test_the_deploy_role_trusts_the_tooling_account_and_the_promoting_ci(
        stg: tuple[BootstrapProps, dict[str, Any]]) -> None:
    props, template = stg
    trust = template["Resources"]["DeployRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"]["AWS"] == ["arn:aws:iam::333333333333:role/ds-github-us-east-1",
                                         "arn:aws:iam::444444444444:root", {"Fn::GetAtt": ["GitHubRole", "Arn"]}]
    readers = template["Resources"]["ArtifactReadRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert readers["Principal"]["AWS"] == ["arn:aws:iam::333333333333:root"]  # prod reads stg's artifacts
    assert template["Outputs"]["BootstrapVersion"]["Value"] == str(props.version)


def test_every_opt_in_component_bootstraps() -> None:
    """With the api and serving components the scope table still covers every resource type of the plan."""
    from dsplatform.config import parse_config

    text = (ROOT / "dsplatform.yml").read_text()
    text = text.replace("# Component settings shared", "components: {plugins: [api, "
                        "serving]}\n\n# Component settings shared")
    text = text.replace("      alerts: {emails: [ds-alerts-stg@example.com]}",
                        "      alerts: {emails: [ds-alerts-stg@example.com]}\n      serving: {model_version: '1'}\n"
                        "      api: {certificate_arn: 'arn:aws:acm:us-east-1:222222222222:certificate/0a1b2c3d'}")
    project = parse_config(text, source=str(ROOT / "dsplatform.yml"))
    props = bootstrap_props(project, "stg")
    assert {"AWS::ECS::Service", "AWS::SageMaker::Endpoint"} <= set(props.resource_types)
    assert build(props).to_dict()["Resources"]["ExecutionRole"]
