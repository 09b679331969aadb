"""Helpers for the LocalStack tests: a Step Functions execution waiter and a Fargate network lookup."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from botocore.waiter import WaiterModel, create_waiter_with_client

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"  # a simulated account of its own, so these tests never meet another suite's resources
REGION = "us-east-1"

_EXECUTION_WAITER = WaiterModel(
    {
        "version": 2,
        "waiters": {
            "ExecutionFinished": {
                "operation": "DescribeExecution",
                "delay": 0.5,
                "maxAttempts": 240,
                "acceptors": [
                    {"state": "success", "matcher": "path", "argument": "status", "expected": status}
                    for status in ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
                ],
            }
        },
    }
)


def wait_execution(sfn: Any, execution_arn: str) -> dict[str, Any]:
    """Wait (botocore waiter, explicit delay and attempts) until the execution is finished; return it."""
    create_waiter_with_client("ExecutionFinished", _EXECUTION_WAITER, sfn).wait(executionArn=execution_arn)
    return sfn.describe_execution(executionArn=execution_arn)


def task_waiter_config() -> dict[str, int | float]:
    """WaiterConfig for ECS task waiters: tasks are local processes, so poll often."""
    return {"Delay": 1, "MaxAttempts": 180}


def network(ec2: Any) -> dict[str, Any]:
    """awsvpc configuration from the account's default VPC (LocalStack's EC2 has one per account)."""
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]
    return {"awsvpcConfiguration": {"subnets": [subnets[0]["SubnetId"]], "securityGroups": [groups[0]["GroupId"]]}}


def unique(prefix: str) -> str:
    """A short unique name for a resource created by one test."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def settings_for(localstack: Any) -> Any:
    """Launcher settings for the instance the session fixture uses (host and port from its URL)."""
    from urllib.parse import urlparse

    from dsplatform.localstack import LocalStackSettings

    url = urlparse(localstack.endpoint_url)
    return LocalStackSettings(host=url.hostname or "127.0.0.1", port=url.port or 4566, project_root=REPO_ROOT)
