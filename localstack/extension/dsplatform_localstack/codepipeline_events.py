"""What a CodePipeline execution tells the world: EventBridge state-change events (source aws.codepipeline, on the
default bus) and the manual-approval message on the action's SNS topic, in AWS's shapes."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from dsplatform_localstack.codebuild_io import client, put_event

LOG = logging.getLogger(__name__)
_APPROVAL_DAYS = 7  # an approval expires after seven days on AWS


def pipeline_arn(account_id: str, region: str, name: str) -> str:
    """A pipeline's ARN."""
    return f"arn:aws:codepipeline:{region}:{account_id}:{name}"


def emit(account_id: str, region: str, pipeline: str, detail_type: str, detail: dict[str, Any]) -> None:
    """Put one `aws.codepipeline` event on the account's default bus (rules -> SNS see it as on AWS)."""
    put_event(account_id, region, "aws.codepipeline", detail_type, detail, [pipeline_arn(account_id, region, pipeline)])


def execution_event(account_id: str, region: str, pipeline: str, version: int, execution_id: str, state: str,
                    trigger: dict[str, Any]) -> None:
    """"CodePipeline Pipeline Execution State Change" (STARTED, SUCCEEDED, FAILED, SUPERSEDED, STOPPED, ...)."""
    emit(account_id, region, pipeline, "CodePipeline Pipeline Execution State Change", {
        "pipeline": pipeline, "execution-id": execution_id, "state": state, "version": version,
        "execution-trigger": {"trigger-type": trigger.get("triggerType"),
                              "trigger-detail": trigger.get("triggerDetail")}})


def stage_event(account_id: str, region: str, pipeline: str, version: int, execution_id: str, stage: str,
                state: str) -> None:
    """"CodePipeline Stage Execution State Change"."""
    emit(account_id, region, pipeline, "CodePipeline Stage Execution State Change", {
        "pipeline": pipeline, "execution-id": execution_id, "stage": stage, "state": state, "version": version})


def action_event(account_id: str, region: str, pipeline: str, version: int, execution_id: str, stage: str,
                 action: dict[str, Any], state: str) -> None:
    """"CodePipeline Action Execution State Change" (with the action's type, as AWS sends it)."""
    type_id = action["actionTypeId"]
    emit(account_id, region, pipeline, "CodePipeline Action Execution State Change", {
        "pipeline": pipeline, "execution-id": execution_id, "stage": stage, "action": action["name"],
        "state": state, "region": region, "version": version,
        "type": {"owner": type_id["owner"], "provider": type_id["provider"], "category": type_id["category"],
                 "version": type_id["version"]}})


def approval_message(account_id: str, region: str, pipeline: str, stage: str, action: dict[str, Any],
                     token: str) -> None:
    """Publish the approval request to the action's NotificationArn, worded as CodePipeline's message."""
    config = action.get("configuration") or {}
    topic = config.get("NotificationArn")
    if not topic:
        return
    expires = datetime.now(UTC) + timedelta(days=_APPROVAL_DAYS)
    console = f"https://console.aws.amazon.com/codepipeline/home?region={region}#"
    approval: dict[str, Any] = {
        "pipelineName": pipeline, "stageName": stage, "actionName": action["name"], "token": token,
        "expires": expires.strftime("%Y-%m-%dT%H:%MZ"),
        "externalEntityLink": config.get("ExternalEntityLink"),
        "approvalReviewLink": f"{console}/approval/{pipeline}/{stage}/{action['name']}/{token}",
        "customData": config.get("CustomData")}
    approval = {k: v for k, v in approval.items() if v is not None}  # unset options are absent from the message
    message = {"region": region, "consoleLink": f"{console}/view/{pipeline}", "approval": approval}
    topic_region = topic.split(":")[3] if topic.count(":") >= 5 else region
    try:
        client("sns", account_id, topic_region).publish(
            TopicArn=topic, Subject=f"APPROVAL NEEDED: AWS CodePipeline {pipeline} for action {action['name']}",
            Message=json.dumps(message))
    except Exception:
        LOG.exception("could not publish the approval request of %s to %s", pipeline, topic)
