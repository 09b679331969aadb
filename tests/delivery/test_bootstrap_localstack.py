"""`invoke bootstrap` on a real LocalStack with the default config: it creates GitHub's OIDC provider (the
extension's AWS::IAM::OIDCProvider), is idempotent, and the OIDC trust names that provider and admits only the
configured repository and branches (read back from the deployed role); an account that already has the provider
bootstraps with `oidc_provider: existing`; and `invoke deploy`'s check on both sides of the opt-in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import yaml

from dsplatform.config import load_config
from dsplatform.delivery.bootstrap import BOOTSTRAP_VERSION, NotBootstrappedError, bootstrap_plan, check_bootstrapped
from dsplatform.deployer import ClientFactory, deploy
from dsplatform.deployer.models import Outcome
from dsplatform.synth import plan_from_config
from tests.integration.conftest import unique_env

pytestmark = pytest.mark.localstack
ROOT = Path(__file__).resolve().parents[2]


GITHUB_ISSUER = "token.actions.githubusercontent.com"


def _config(localstack: Any, tmp_path: Path, opt_in: bool, existing_provider: bool = False) -> tuple[str, str]:
    name, account = unique_env()
    doc = yaml.safe_load((ROOT / "dsplatform.yml").read_text())
    doc["localstack"] = {"endpoint_url": localstack.endpoint_url}
    doc["environments"] = {name: {"account_id": account, "target": "localstack"}}
    github = {"repository": "acme/ds-infra"}  # oidc_provider left at its default (create) unless told
    if existing_provider:
        github["oidc_provider"] = "existing"
    doc["delivery"] = {"branches": {"release/1.x": name}, "github": github, "bootstrap_check_on_localstack": opt_in}
    path = tmp_path / f"{name}.yml"
    path.write_text(yaml.safe_dump(doc))
    return str(path), name


def _invoke(localstack: Any, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "DSPLATFORM_LOCALSTACK_URL": localstack.endpoint_url})


def _provider_arn(project: Any, env: str) -> str:
    return f"arn:aws:iam::{project.environments[env].account_id}:oidc-provider/{GITHUB_ISSUER}"


def _trust(clients: Any, project: Any, env: str) -> dict[str, Any]:
    role = clients.client("iam").get_role(RoleName=f"ds-github-{project.environments[env].region}")["Role"]
    document = role["AssumeRolePolicyDocument"]
    document = json.loads(unquote(document)) if isinstance(document, str) else document
    [statement] = document["Statement"]
    return dict(statement)


@pytest.fixture(scope="module")
def bootstrapped(localstack: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str, Any]]:
    """A fresh account with the check opted in, bootstrapped once by `invoke bootstrap`: (project, env, clients).

    Module-wide: the tests using it only read the account or deploy the same bootstrap again (unchanged).
    """
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("DSPLATFORM_LOCALSTACK_URL", localstack.endpoint_url)
        path, env = _config(localstack, tmp_path_factory.mktemp("bootstrap"), opt_in=True)
        project = load_config(path)
        clients = ClientFactory(bootstrap_plan(project, env).target)
        with pytest.raises(NotBootstrappedError, match=rf"not bootstrapped; run `invoke bootstrap --env {env}`"):
            check_bootstrapped(project, plan_from_config(project, env), clients)
        # The default config creates GitHub's OIDC provider in the stack (nothing made through IAM beforehand).
        out = _invoke(localstack, "bootstrap", "--env", env, "--config", path)
        assert out.returncode == 0, out.stdout + out.stderr
        yield project, env, clients


def test_bootstrap_is_idempotent_and_deploy_finds_its_version(bootstrapped: tuple[Any, str, Any]) -> None:
    project, env, clients = bootstrapped
    again = deploy(bootstrap_plan(project, env), clients)
    assert again.ok and [r.outcome for r in again.stacks.values()] == [Outcome.UNCHANGED]
    assert check_bootstrapped(project, plan_from_config(project, env), clients) == BOOTSTRAP_VERSION


def test_the_oidc_role_trusts_the_created_provider_and_admits_only_the_configured_repository_and_branches(
        bootstrapped: tuple[Any, str, Any]) -> None:
    project, env, clients = bootstrapped
    provider = clients.client("iam").get_open_id_connect_provider(OpenIDConnectProviderArn=_provider_arn(project, env))
    assert (provider["Url"], provider["ClientIDList"]) == (GITHUB_ISSUER, ["sts.amazonaws.com"])
    [resource] = clients.client("cloudformation").describe_stack_resources(
        StackName=bootstrap_plan(project, env).stacks[0].name, LogicalResourceId="GitHubOidcProvider")["StackResources"]
    assert resource["PhysicalResourceId"] == _provider_arn(project, env)
    statement = _trust(clients, project, env)
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"]["Federated"] == _provider_arn(project, env)  # the stack's provider, by Ref
    condition = statement["Condition"]
    assert set(condition) == {"StringEquals"}  # no StringLike: no wildcard subject can slip in
    subjects = condition["StringEquals"][f"{GITHUB_ISSUER}:sub"]
    assert sorted(subjects) == [f"repo:acme/ds-infra:environment:{env}",
                                "repo:acme/ds-infra:ref:refs/heads/release/1.x"]
    assert condition["StringEquals"][f"{GITHUB_ISSUER}:aud"] == "sts.amazonaws.com"


def test_an_account_that_has_the_provider_bootstraps_with_existing(localstack: Any, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSPLATFORM_LOCALSTACK_URL", localstack.endpoint_url)
    path, env = _config(localstack, tmp_path, opt_in=False, existing_provider=True)
    project = load_config(path)
    plan = bootstrap_plan(project, env)
    clients = ClientFactory(plan.target)
    # An account holds one provider per issuer: one made before (by hand, or another region's bootstrap) is used.
    thumbprint = "6938fd4d98bab03faadb97b34396831e3780aea1"
    arn = clients.client("iam").create_open_id_connect_provider(
        Url=f"https://{GITHUB_ISSUER}", ClientIDList=["sts.amazonaws.com"], ThumbprintList=[thumbprint],
    )["OpenIDConnectProviderArn"]
    assert deploy(plan, clients).ok
    types = {r["ResourceType"] for r in clients.client("cloudformation").describe_stack_resources(
        StackName=plan.stacks[0].name)["StackResources"]}
    assert "AWS::IAM::OIDCProvider" not in types and "AWS::IAM::Role" in types
    assert _trust(clients, project, env)["Principal"]["Federated"] == arn == _provider_arn(project, env)
    kept = clients.client("iam").get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert kept["ThumbprintList"] == [thumbprint]  # left as it was


def test_without_the_opt_in_localstack_deploys_skip_the_check(localstack: Any, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSPLATFORM_LOCALSTACK_URL", localstack.endpoint_url)
    path, env = _config(localstack, tmp_path, opt_in=False)
    project = load_config(path)
    plan = plan_from_config(project, env)
    assert check_bootstrapped(project, plan, ClientFactory(plan.target)) is None  # never bootstrapped, not asked


def test_invoke_deploy_refuses_an_account_that_is_not_bootstrapped(localstack: Any, tmp_path: Path) -> None:
    path, env = _config(localstack, tmp_path, opt_in=True)
    out = _invoke(localstack, "deploy", "--env", env, "--config", path)
    assert out.returncode == 2, out.stdout + out.stderr
    assert f"is not bootstrapped; run `invoke bootstrap --env {env}`" in out.stderr
    assert out.stderr.strip().count("\n") == 0
