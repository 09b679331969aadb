"""`invoke bootstrap` on a real LocalStack: idempotent, the OIDC trust admits only the configured repository and
branches (read back from the deployed role), and `invoke deploy`'s check on both sides of the opt-in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


def _config(localstack: Any, tmp_path: Path, opt_in: bool) -> tuple[str, str]:
    name, account = unique_env()
    doc = yaml.safe_load((ROOT / "dsplatform.yml").read_text())
    doc["localstack"] = {"endpoint_url": localstack.endpoint_url}
    doc["environments"] = {name: {"account_id": account, "target": "localstack"}}
    doc["delivery"] = {"branches": {"release/1.x": name},
                       "github": {"repository": "acme/ds-infra", "oidc_provider": "existing"},
                       "bootstrap_check_on_localstack": opt_in}
    path = tmp_path / f"{name}.yml"
    path.write_text(yaml.safe_dump(doc))
    return str(path), name


@pytest.fixture
def bootstrapped(localstack: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, str, Any]:
    """A fresh account with the check opted in, bootstrapped once: (project, env, clients)."""
    monkeypatch.setenv("DSPLATFORM_LOCALSTACK_URL", localstack.endpoint_url)
    path, env = _config(localstack, tmp_path, opt_in=True)
    project = load_config(path)
    plan = bootstrap_plan(project, env)
    clients = ClientFactory(plan.target)
    # LocalStack's CloudFormation has no AWS::IAM::OIDCProvider (fidelity report): the account gets the provider
    # through IAM first, as an account that already trusts GitHub has it, and the bootstrap uses it.
    clients.client("iam").create_open_id_connect_provider(
        Url="https://token.actions.githubusercontent.com", ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=["6938fd4d98bab03faadb97b34396831e3780aea1"])
    with pytest.raises(NotBootstrappedError, match=rf"not bootstrapped; run `invoke bootstrap --env {env}`"):
        check_bootstrapped(project, plan_from_config(project, env), clients)
    assert deploy(plan, clients).ok
    return project, env, clients


def test_bootstrap_is_idempotent_and_deploy_finds_its_version(bootstrapped: tuple[Any, str, Any]) -> None:
    project, env, clients = bootstrapped
    again = deploy(bootstrap_plan(project, env), clients)
    assert again.ok and [r.outcome for r in again.stacks.values()] == [Outcome.UNCHANGED]
    assert check_bootstrapped(project, plan_from_config(project, env), clients) == BOOTSTRAP_VERSION


def test_the_oidc_role_admits_only_the_configured_repository_and_branches(
        bootstrapped: tuple[Any, str, Any]) -> None:
    project, env, clients = bootstrapped
    role = clients.client("iam").get_role(RoleName=f"ds-github-{project.environments[env].region}")["Role"]
    document = role["AssumeRolePolicyDocument"]
    document = json.loads(unquote(document)) if isinstance(document, str) else document
    [statement] = document["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"]["Federated"].endswith(":oidc-provider/token.actions.githubusercontent.com")
    condition = statement["Condition"]
    assert set(condition) == {"StringEquals"}  # no StringLike: no wildcard subject can slip in
    subjects = condition["StringEquals"]["token.actions.githubusercontent.com:sub"]
    assert sorted(subjects) == [f"repo:acme/ds-infra:environment:{env}",
                                "repo:acme/ds-infra:ref:refs/heads/release/1.x"]
    assert condition["StringEquals"]["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"


def test_without_the_opt_in_localstack_deploys_skip_the_check(localstack: Any, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSPLATFORM_LOCALSTACK_URL", localstack.endpoint_url)
    path, env = _config(localstack, tmp_path, opt_in=False)
    project = load_config(path)
    plan = plan_from_config(project, env)
    assert check_bootstrapped(project, plan, ClientFactory(plan.target)) is None  # never bootstrapped, not asked


def test_invoke_deploy_refuses_an_account_that_is_not_bootstrapped(localstack: Any, tmp_path: Path) -> None:
    path, env = _config(localstack, tmp_path, opt_in=True)
    out = subprocess.run([sys.executable, "-m", "invoke", "deploy", "--env", env, "--config", path], cwd=ROOT,
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, "DSPLATFORM_LOCALSTACK_URL": localstack.endpoint_url})
    assert out.returncode == 2, out.stdout + out.stderr
    assert f"is not bootstrapped; run `invoke bootstrap --env {env}`" in out.stderr
    assert out.stderr.strip().count("\n") == 0
