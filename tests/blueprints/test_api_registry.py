"""The api image's repository is its own stack (api-registry): created, and pushed to, before the api stack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dsplatform.config.loader import parse_config
from dsplatform.deployer.images import image_stacks_first
from dsplatform.synth import plan_from_config

ROOT = Path(__file__).parents[2]
CERT = '  api: {certificate_arn: "arn:aws:acm:us-east-1:222222222222:certificate/0a1b2c3d"}\n'


def _project(plugins: str) -> Any:
    text = (ROOT / "dsplatform.yml").read_text() + f"\ncomponents:\n  plugins: {plugins}\n"
    text = text.replace("\ndefaults:\n", f"\ndefaults:\n{CERT}")  # stg and prod are aws targets: HTTPS only
    return parse_config(text, str(ROOT / "dsplatform.yml"))


def _stacks(env: str, plugins: str = "[api]") -> dict[str, Any]:
    return {s.component: s for s in plan_from_config(_project(plugins), env).stacks}


@pytest.mark.parametrize("plugins", ["[api]", "[api, api-registry]", "[api-registry, api]"])
def test_listing_the_api_brings_its_registry_once_and_before_it(plugins: str) -> None:
    names = [s.component for s in plan_from_config(_project(plugins), "dev").stacks]
    assert names.count("api-registry") == 1
    assert names.index("api-registry") < names.index("api")


@pytest.mark.parametrize(("env", "mutability"), [("dev", "MUTABLE"), ("prod", "IMMUTABLE")])
def test_the_registry_is_named_by_the_naming_module_and_immutable_where_protected(env: str, mutability: str) -> None:
    spec = _stacks(env)["api-registry"]
    repository = spec.template["Resources"]["Repository"]["Properties"]
    assert spec.name == f"ds-{env}-api-registry"
    assert repository["RepositoryName"] == "ds-api"  # Names.repository("api"), as the plan's image pushes to
    assert repository["ImageTagMutability"] == mutability
    rules = json.loads(repository["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
    assert "rel-" in rules[0]["selection"]["tagPrefixList"]  # a release's image is never expired
    assert [i.repository for i in plan_from_config(_project("[api]"), env).images if i.component == "api"] == [
        "ds-api"
    ]


def test_the_api_stack_imports_the_repository_and_runs_the_image_by_digest() -> None:
    api = _stacks("dev")["api"]
    assert "ds-dev-api-registry" in api.depends_on
    assert not [r for r in api.template["Resources"].values() if r["Type"] == "AWS::ECR::Repository"]
    assert {"RepositoryUri", "RepositoryArn", "ImageDigest"} <= set(api.template["Parameters"])
    container = api.template["Resources"]["ApiTaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    by_digest, by_tag = container["Image"]["Fn::If"][1:]
    assert by_digest == {"Fn::Sub": ["${Uri}@${Digest}", {"Uri": {"Ref": "RepositoryUri"},
                                                           "Digest": {"Ref": "ImageDigest"}}]}
    assert by_tag["Fn::Sub"][0] == "${Uri}:latest"
    role = api.template["Resources"]["ApiExecutionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    pull = next(s for s in role["Statement"] if s["Sid"] == "PullImage")
    assert pull["Resource"] == [{"Ref": "RepositoryArn"}]  # only this repository


def test_the_registry_is_deployed_before_the_api_so_the_image_is_pushed_before_its_first_create() -> None:
    plan = plan_from_config(_project("[api]"), "dev")
    first = image_stacks_first(plan)
    assert first is not None
    names = {s.component for s in first.stacks}
    assert "api-registry" in names and "api" not in names
