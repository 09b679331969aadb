"""Helpers for the deployer's Stubber tests: stack descriptions, specs, the stub target."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dsplatform.deployer.waiters import Polling
from dsplatform.stackspec import StackSpec, Target

NOW = dt.datetime(2026, 11, 22, 12, 0, 0, tzinfo=dt.UTC)
TARGET = Target(env="dev", account_id="111111111111", region="us-east-1", kind="localstack", endpoint_url="http://stub")
FAST = Polling(delay=0.0, max_wait=1.0)


def stack_desc(
    name: str,
    status: str,
    tags: dict[str, str] | None = None,
    outputs: dict[str, str] | None = None,
    protected: bool = False,
) -> dict[str, Any]:
    """A DescribeStacks entry."""
    return {
        "StackName": name,
        "StackId": f"arn:aws:cloudformation:us-east-1:111111111111:stack/{name}/id",
        "CreationTime": NOW,
        "StackStatus": status,
        "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
        "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in (outputs or {}).items()],
        "EnableTerminationProtection": protected,
    }


def stack_id(name: str) -> str:
    """The StackId stack_desc uses."""
    return f"arn:aws:cloudformation:us-east-1:111111111111:stack/{name}/id"


def spec(name: str = "ds-dev-storage", resources: dict[str, Any] | None = None, **kw: Any) -> StackSpec:
    """A small StackSpec."""
    template = {"Resources": resources or {"Queue": {"Type": "AWS::SQS::Queue"}}}
    if "parameters_decl" in kw:
        template["Parameters"] = kw.pop("parameters_decl")
    return StackSpec(name=name, component=name.rsplit("-", 1)[-1], template=template, **kw)
