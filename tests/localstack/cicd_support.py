"""Helpers for the CodeBuild / CodePipeline tests: waiters, source archives, an SNS -> SQS listener."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from botocore.waiter import WaiterModel, create_waiter_with_client

from tests.localstack.support import ACCOUNT, unique

ROLE = f"arn:aws:iam::{ACCOUNT}:role/ci"  # roles are not enforced locally; CodeBuild only checks the ARN's shape
ENVIRONMENT = {"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0", "computeType": "BUILD_GENERAL1_SMALL"}

_WAITERS = WaiterModel({
    "version": 2,
    "waiters": {
        "BuildComplete": {
            "operation": "BatchGetBuilds", "delay": 0.2, "maxAttempts": 300,
            "acceptors": [{"state": "success", "matcher": "path", "argument": "builds[0].buildComplete",
                           "expected": True}],
        },
        "ExecutionDone": {
            "operation": "GetPipelineExecution", "delay": 0.2, "maxAttempts": 300,
            "acceptors": [{"state": "success", "matcher": "path", "argument": "pipelineExecution.status",
                           "expected": status} for status in ("Succeeded", "Failed", "Stopped", "Superseded")],
        },
    },
})
_APPROVAL_WAITER = WaiterModel({
    "version": 2,
    "waiters": {
        "ApprovalWaiting": {
            "operation": "GetPipelineState", "delay": 0.2, "maxAttempts": 300,
            "acceptors": [{"state": "success", "matcher": "path", "expected": True,
                           "argument": "length(stageStates[].actionStates[].latestExecution.token) > `0`"}],
        },
    },
})


def wait_build(codebuild: Any, build_id: str) -> dict[str, Any]:
    """Wait until the build is complete (botocore waiter); return it."""
    create_waiter_with_client("BuildComplete", _WAITERS, codebuild).wait(ids=[build_id])
    return dict(codebuild.batch_get_builds(ids=[build_id])["builds"][0])


def wait_execution(codepipeline: Any, pipeline: str, execution_id: str) -> dict[str, Any]:
    """Wait until the pipeline execution has ended; return it."""
    create_waiter_with_client("ExecutionDone", _WAITERS, codepipeline).wait(
        pipelineName=pipeline, pipelineExecutionId=execution_id)
    return dict(codepipeline.get_pipeline_execution(pipelineName=pipeline,
                                                     pipelineExecutionId=execution_id)["pipelineExecution"])


def wait_approval(codepipeline: Any, pipeline: str) -> str:
    """Wait until an approval action of the pipeline waits; its token."""
    create_waiter_with_client("ApprovalWaiting", _APPROVAL_WAITER, codepipeline).wait(name=pipeline)
    state = codepipeline.get_pipeline_state(name=pipeline)
    return str(next(a["latestExecution"]["token"] for s in state["stageStates"] for a in s["actionStates"]
                    if a.get("latestExecution", {}).get("token")))


def wait_action(codepipeline: Any, pipeline: str, execution_id: str, stage: str) -> None:
    """Wait until an action of the execution in ``stage`` has succeeded."""
    model = WaiterModel({"version": 2, "waiters": {"ActionSucceeded": {
        "operation": "ListActionExecutions", "delay": 0.2, "maxAttempts": 300,
        "acceptors": [{"state": "success", "matcher": "path", "expected": True, "argument":
                       f"length(actionExecutionDetails[?stageName=='{stage}' && status=='Succeeded']) > `0`"}]}}})
    create_waiter_with_client("ActionSucceeded", model, codepipeline).wait(
        pipelineName=pipeline, filter={"pipelineExecutionId": execution_id})


def zipped(files: dict[str, str]) -> bytes:
    """A zip archive of ``files`` (name -> text)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def unzipped(body: bytes) -> dict[str, str]:
    """The files of a zip archive (name -> text)."""
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


def log_lines(logs: Any, build: dict[str, Any]) -> list[str]:
    """The build's CloudWatch log lines (every line is flushed when the build completes)."""
    events = logs.get_log_events(logGroupName=build["logs"]["groupName"], logStreamName=build["logs"]["streamName"],
                                 startFromHead=True)["events"]
    return [e["message"] for e in events]


def topic_queue(sns: Any, sqs: Any, prefix: str) -> tuple[str, str]:
    """An SNS topic with an SQS queue subscribed; (topic ARN, queue URL)."""
    topic = sns.create_topic(Name=unique(prefix))["TopicArn"]
    queue = sqs.create_queue(QueueName=unique(prefix))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    return topic, queue


def sns_messages(sqs: Any, queue: str, want: int = 1, seconds: int = 10) -> list[dict[str, Any]]:
    """Up to ``want`` SNS notifications from the queue (Subject and parsed Message), waiting at most ``seconds``."""
    found: list[dict[str, Any]] = []
    for _ in range(seconds):
        for message in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1, MaxNumberOfMessages=10).get(
                "Messages", []):
            body = json.loads(message["Body"])
            found.append({"Subject": body.get("Subject"), "Message": json.loads(body["Message"])})
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        if len(found) >= want:
            break
    return found
