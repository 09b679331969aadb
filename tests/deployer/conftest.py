"""Stubber fixtures: real boto3 clients whose every call is answered from a queue (no network)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber

from dsplatform.deployer.clients import ClientFactory
from dsplatform.deployer.models import DeployOptions
from dsplatform.deployer.progress import NullReporter
from dsplatform.deployer.stack import StackDeployer
from tests.deployer.deployer_stubs import FAST, TARGET


@pytest.fixture
def factory() -> ClientFactory:
    """A ClientFactory with dummy credentials; its clients never reach the network while stubbed."""
    session = boto3.Session(aws_access_key_id="111111111111", aws_secret_access_key="test", region_name="us-east-1")
    return ClientFactory(TARGET, session=session)


@pytest.fixture
def cfn_stub(factory: ClientFactory) -> Iterator[Stubber]:
    """Stubber on the factory's CloudFormation client; asserts every queued answer was used."""
    with Stubber(factory.client("cloudformation")) as stub:
        yield stub
        stub.assert_no_pending_responses()


@pytest.fixture
def ssm_stub(factory: ClientFactory) -> Iterator[Stubber]:
    """Stubber on the factory's SSM client."""
    with Stubber(factory.client("ssm")) as stub:
        yield stub
        stub.assert_no_pending_responses()


@pytest.fixture
def sts_stub(factory: ClientFactory) -> Iterator[Stubber]:
    """Stubber on the factory's STS client."""
    with Stubber(factory.client("sts")) as stub:
        yield stub
        stub.assert_no_pending_responses()


@pytest.fixture
def engine(factory: ClientFactory) -> StackDeployer:
    """A StackDeployer with instant polling."""
    return StackDeployer(factory.client("cloudformation"), TARGET, DeployOptions(), FAST, NullReporter())
