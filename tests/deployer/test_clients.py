"""ClientFactory on the AWS side (profile / assumed deploy role), against moto: no network."""

from __future__ import annotations

import pytest
from moto import mock_aws

from dsplatform.deployer import AccountMismatchError, ClientFactory
from dsplatform.deployer.clients import localstack_endpoint
from dsplatform.stackspec import Target

MOTO_ACCOUNT = "123456789012"  # moto's default account


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy base credentials, as a CI runner would have, and no real config files."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")


def _aws_target(role: str | None, account: str = MOTO_ACCOUNT) -> Target:
    return Target(env="stg", account_id=account, region="eu-west-1", kind="aws", deploy_role_arn=role)


def test_deploy_role_is_assumed_and_the_account_checked(aws_env: None) -> None:
    with mock_aws():
        clients = ClientFactory(_aws_target(f"arn:aws:iam::{MOTO_ACCOUNT}:role/dsplatform-deploy"))
        arn = clients.verify_account()
        assert ":assumed-role/dsplatform-deploy/dsplatform-stg" in arn
        assert clients.client("cloudformation").meta.region_name == "eu-west-1"
        assert clients.endpoint_url is None


def test_wrong_account_is_refused_on_aws(aws_env: None) -> None:
    with mock_aws(), pytest.raises(AccountMismatchError, match="333333333333"):
        ClientFactory(_aws_target(None, account="333333333333")).verify_account()


def test_clients_are_cached_and_use_standard_retries(aws_env: None) -> None:
    with mock_aws():
        clients = ClientFactory(_aws_target(None))
        assert clients.client("s3") is clients.client("s3")
        assert clients.client("s3").meta.config.retries["mode"] == "standard"


def test_localstack_endpoint_falls_back_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    t = Target(env="dev", account_id="111111111111", region="us-east-1", kind="localstack")
    monkeypatch.setenv("DSPLATFORM_LOCALSTACK_URL", "http://127.0.0.1:4999")
    assert localstack_endpoint(t) == "http://127.0.0.1:4999"
    monkeypatch.delenv("DSPLATFORM_LOCALSTACK_URL")
    assert localstack_endpoint(t) == "http://127.0.0.1:4566"
    assert localstack_endpoint(Target(**{**t.__dict__, "endpoint_url": "http://ls:1"})) == "http://ls:1"
