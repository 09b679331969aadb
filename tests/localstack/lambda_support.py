"""Helpers for the Lambda tests: a zip from source text, an execution role, a queue, log lines of a function."""

from __future__ import annotations

import io
import json
import time
import zipfile
from typing import Any

# One handler for every test: it echoes, counts (warm reuse), sleeps, fails and writes to DynamoDB on request.
HANDLER_SOURCE = """
import json, os, time
import boto3

CALLS = 0


def handler(event, context):
    global CALLS
    CALLS += 1
    print("event", json.dumps(event))
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("fail"):
        raise RuntimeError("asked to fail: " + str(event["fail"]))
    if event.get("table"):
        boto3.resource("dynamodb").Table(event["table"]).put_item(Item={"pk": event["pk"], "calls": CALLS})
    return {"pid": os.getpid(), "calls": CALLS, "version": context.function_version,
            "remaining_ms": context.get_remaining_time_in_millis(), "tag": os.environ.get("TAG", "")}
"""


def zip_source(files: dict[str, str]) -> bytes:
    """A zip holding these files (name -> text)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in sorted(files.items()):
            archive.writestr(name, text)
    return buffer.getvalue()


def lambda_role(iam: Any, name: str) -> str:
    """An execution role Lambda can assume (policies are not enforced by LocalStack)."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])


def create_function(
    lam: Any,
    name: str,
    role: str,
    *,
    timeout: int = 3,
    runtime: str = "python3.11",
    source: str = HANDLER_SOURCE,
    env: dict[str, str] | None = None,
) -> str:
    """Create a function from ``source`` (module ``app``) and wait until it is Active; return its ARN."""
    arn = lam.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=role,
        Handler="app.handler",
        Timeout=timeout,
        Code={"ZipFile": zip_source({"app.py": source})},
        Environment={"Variables": env or {}},
    )["FunctionArn"]
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 300})
    return str(arn)


def invoke(lam: Any, name: str, payload: dict[str, Any], qualifier: str | None = None) -> tuple[str | None, Any]:
    """Invoke synchronously; (FunctionError or None, decoded payload)."""
    kwargs: dict[str, Any] = {"FunctionName": name, "Payload": json.dumps(payload).encode()}
    if qualifier:
        kwargs["Qualifier"] = qualifier
    response = lam.invoke(**kwargs)
    return response.get("FunctionError"), json.loads(response["Payload"].read() or b"null")


def log_messages(logs: Any, name: str, want: str, timeout: float = 30.0) -> list[str]:
    """Every message in ``/aws/lambda/<name>``, once one contains ``want`` (logs are shipped asynchronously)."""
    deadline = time.monotonic() + timeout
    messages: list[str] = []
    while time.monotonic() < deadline:
        messages = []
        try:
            for page in logs.get_paginator("filter_log_events").paginate(logGroupName=f"/aws/lambda/{name}"):
                messages += [event["message"] for event in page["events"]]
        except logs.exceptions.ResourceNotFoundException:
            pass
        if any(want in message for message in messages):
            return messages
        time.sleep(0.5)
    raise AssertionError(f"no log line with {want!r} in /aws/lambda/{name} after {timeout}s; saw {messages[-10:]}")


def receive_one(sqs: Any, queue_url: str, timeout: float = 60.0) -> dict[str, Any]:
    """The first message on the queue (long polling until ``timeout``), body decoded as JSON."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=2, MaxNumberOfMessages=1).get("Messages")
        if messages:
            return dict(json.loads(messages[0]["Body"]))
    raise AssertionError(f"no message on {queue_url} after {timeout}s")


def wait_item(table: Any, key: dict[str, Any], timeout: float = 60.0) -> dict[str, Any]:
    """The DynamoDB item with ``key`` once it exists."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        item = table.get_item(Key=key, ConsistentRead=True).get("Item")
        if item:
            return dict(item)
        time.sleep(0.3)
    raise AssertionError(f"no item {key} in {table.name} after {timeout}s")
