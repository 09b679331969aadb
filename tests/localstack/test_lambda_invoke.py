"""Lambda without Docker: the extension's runtime executor runs handlers as local processes.

Sync and async invokes, the timeout, errors to an on-failure destination, logs in CloudWatch, warm reuse,
and a runtime whose interpreter is missing, all against the real LocalStack.
"""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest

from tests.localstack.lambda_support import (
    create_function,
    invoke,
    lambda_role,
    log_messages,
    receive_one,
    wait_item,
)
from tests.localstack.support import ACCOUNT, REGION, unique

pytestmark = pytest.mark.localstack


@pytest.fixture(scope="module")
def fn(localstack: Any) -> dict[str, Any]:
    """One function (3 s timeout) and a DynamoDB table it writes to, shared by the tests of this module."""
    lam, iam, ddb = (localstack.client(s, ACCOUNT) for s in ("lambda", "iam", "dynamodb"))
    name = unique("lsfn")
    role = lambda_role(iam, name)
    create_function(lam, name, role, timeout=3)
    ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    table = boto3.resource(
        "dynamodb",
        endpoint_url=localstack.endpoint_url,
        region_name=REGION,
        aws_access_key_id=ACCOUNT,
        aws_secret_access_key="test",
    ).Table(name)
    return {"name": name, "role": role, "table": table}


def test_sync_invoke_returns_the_handlers_result(localstack: Any, fn: dict[str, Any]) -> None:
    lam = localstack.client("lambda", ACCOUNT)
    error, body = invoke(lam, fn["name"], {"hello": "world"})
    assert error is None, body
    assert body["version"] == "$LATEST"
    assert 0 < body["remaining_ms"] <= 3000


def test_async_invoke_runs_the_handler(localstack: Any, fn: dict[str, Any]) -> None:
    lam = localstack.client("lambda", ACCOUNT)
    pk = unique("async")
    response = lam.invoke(
        FunctionName=fn["name"],
        InvocationType="Event",
        Payload=json.dumps({"table": fn["table"].name, "pk": pk}).encode(),
    )
    assert response["StatusCode"] == 202
    assert wait_item(fn["table"], {"pk": pk})["pk"] == pk


def test_warm_environment_is_reused_between_invocations(localstack: Any, fn: dict[str, Any]) -> None:
    lam = localstack.client("lambda", ACCOUNT)
    _, first = invoke(lam, fn["name"], {})
    _, second = invoke(lam, fn["name"], {})
    assert second["pid"] == first["pid"]  # the same process...
    assert second["calls"] == first["calls"] + 1  # ...with its module state kept


def test_timeout_fails_the_invocation_and_resets_the_environment(localstack: Any, fn: dict[str, Any]) -> None:
    lam, logs = localstack.client("lambda", ACCOUNT), localstack.client("logs", ACCOUNT)
    _, before = invoke(lam, fn["name"], {})
    started = time.monotonic()
    error, body = invoke(lam, fn["name"], {"sleep": 30})
    elapsed = time.monotonic() - started
    assert error == "Unhandled"
    assert body["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 3.00 seconds" in body["errorMessage"]
    assert elapsed < 15, f"the invocation was not stopped at its timeout ({elapsed:.1f}s)"
    _, after = invoke(lam, fn["name"], {})
    assert after["pid"] != before["pid"] and after["calls"] == 1  # a fresh environment, as Lambda does
    log_messages(logs, fn["name"], "Task timed out after 3.00 seconds")


def test_handler_error_and_logs_reach_cloudwatch(localstack: Any, fn: dict[str, Any]) -> None:
    lam, logs = localstack.client("lambda", ACCOUNT), localstack.client("logs", ACCOUNT)
    marker = unique("boom")
    error, body = invoke(lam, fn["name"], {"fail": marker})
    assert error == "Unhandled"
    assert body["errorType"] == "RuntimeError" and body["errorMessage"] == f"asked to fail: {marker}"
    messages = log_messages(logs, fn["name"], f"asked to fail: {marker}")
    assert any(m.startswith("START RequestId:") for m in messages)
    assert any(m.startswith("REPORT RequestId:") for m in messages)
    assert any(f'"fail": "{marker}"' in m for m in messages)  # the handler's own print


def test_async_error_goes_to_the_on_failure_queue(localstack: Any, fn: dict[str, Any]) -> None:
    lam, sqs = localstack.client("lambda", ACCOUNT), localstack.client("sqs", ACCOUNT)
    queue_url = sqs.create_queue(QueueName=unique("lsdlq"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    name = unique("lsfail")
    create_function(lam, name, fn["role"], timeout=3)
    lam.put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=0, DestinationConfig={"OnFailure": {"Destination": queue_arn}}
    )
    marker = unique("dest")
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"fail": marker}).encode())
    record = receive_one(sqs, queue_url)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestPayload"] == {"fail": marker}
    assert record["responsePayload"]["errorMessage"] == f"asked to fail: {marker}"


def test_missing_interpreter_fails_the_invocation_naming_it(localstack: Any, fn: dict[str, Any]) -> None:
    lam = localstack.client("lambda", ACCOUNT)
    name = unique("lsnopy")
    create_function(lam, name, fn["role"], runtime="python3.14")  # no python3.14 on these machines
    error, body = invoke(lam, name, {})
    assert error == "Unhandled"
    assert body["errorType"] == "Runtime.InterpreterNotFound"
    assert "python3.14" in body["errorMessage"] and "pyenv install 3.14" in body["errorMessage"]


def test_event_invoke_config_of_an_alias_applies_to_events_sent_to_the_alias(
    localstack: Any, fn: dict[str, Any]
) -> None:
    lam, sqs = localstack.client("lambda", ACCOUNT), localstack.client("sqs", ACCOUNT)
    queue_url = sqs.create_queue(QueueName=unique("lsalq"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    name = unique("lsalias")
    create_function(lam, name, fn["role"], timeout=3)
    version = lam.publish_version(FunctionName=name)["Version"]
    alias_arn = lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)["AliasArn"]
    lam.put_function_event_invoke_config(
        FunctionName=name,
        Qualifier="live",
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    marker = unique("alias")
    lam.invoke(FunctionName=alias_arn, InvocationType="Event", Payload=json.dumps({"fail": marker}).encode())
    # With the alias's config ignored, LocalStack retried after 60 s and 120 s before any destination.
    record = receive_one(sqs, queue_url, timeout=30)
    assert record["requestPayload"] == {"fail": marker}
    assert record["requestContext"]["condition"] == "RetriesExhausted"
