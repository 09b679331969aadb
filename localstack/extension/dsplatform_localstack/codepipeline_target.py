"""EventBridge rules may target a pipeline (`arn:aws:codepipeline:<region>:<account>:<name>`): a matching event
starts an execution with trigger CloudWatchEvent, as on AWS (e.g. an S3 object upload starting the pipeline).
LocalStack's events service has no such target; it is registered through its public TargetSenderFactory hook."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from localstack.services.events.target import TargetSender, TargetSenderFactory


class CodePipelineTargetSender(TargetSender):
    """StartPipelineExecution for the target pipeline (triggerType CloudWatchEvent, detail = the rule's ARN)."""

    def send_event(self, event: Any, trace_header: Any) -> None:
        """Start the pipeline named by the target ARN in the target's account and region."""
        from dsplatform_localstack.codepipeline_service import start_execution

        context = SimpleNamespace(account_id=self.target_account_id or self.account_id,
                                  region=self.target_region or self.region)
        start_execution(context, self.target["Arn"].split(":", 5)[5],
                        {"triggerType": "CloudWatchEvent", "triggerDetail": self.rule_arn})


def register() -> None:
    """Make `codepipeline` a target service of EventBridge rules."""
    TargetSenderFactory.register_target_sender("codepipeline", CodePipelineTargetSender)
