"""The waiting helper over a botocore waiter: success returns the settled state, else the last state is named."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from harness.waiting import Waiter, WaitFailed, WaitTimeout


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "x")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("ssm", region_name="us-east-1")
        client.put_parameter(Name="/x/state", Value="RUNNING", Type="String")
        yield client


def test_aws_wait_returns_settled_response(ssm) -> None:
    got = Waiter(timeout=2, interval=0.2).aws(ssm, "GetParameter", Name="/x/state", success_path="Parameter.Value",
                                              success="RUNNING", what="state")
    assert got["Parameter"]["Value"] == "RUNNING"


def test_aws_wait_times_out_with_last_state(ssm) -> None:
    with pytest.raises(WaitTimeout) as err:
        Waiter().aws(ssm, "GetParameter", Name="/x/state", success_path="Parameter.Value", success="DONE",
                     what="state DONE", timeout=0.4, interval=0.2)
    assert "RUNNING" in str(err.value) and "state DONE" in str(err.value)


def test_aws_wait_stops_at_failure_state(ssm) -> None:
    with pytest.raises(WaitFailed) as err:
        Waiter().aws(ssm, "GetParameter", Name="/x/state", success_path="Parameter.Value", success="DONE",
                     failure_path="Parameter.Value", failure=("RUNNING",), what="state DONE", timeout=5, interval=0.2)
    assert "RUNNING" in str(err.value)


def test_until_returns_first_done_state() -> None:
    seen = iter([1, 2, 3, 4])
    assert Waiter(timeout=5, interval=0.01).until(lambda: next(seen), lambda n: n >= 3, what="3") == 3
