"""In-place updates for community types whose update is "not implemented" (the engine keeps the old values).

For these types the create call is an upsert keyed by the physical name (PutRule, PutMetricAlarm,
PutBucketPolicy), so an update re-runs create under the same name; for a rule, targets that left the
template are removed too. Properties that force a replacement are still handled by the engine.
"""

from __future__ import annotations

import functools
from typing import Any

UPDATED_TYPES = ("AWS::Events::Rule", "AWS::CloudWatch::Alarm", "AWS::S3::BucketPolicy")


def _rule_name(model: dict[str, Any]) -> str | None:
    return model.get("Name") or (str(model["Id"]).rsplit("|", 1)[-1] if model.get("Id") else None)


def _keep_rule_name(request: Any, previous: dict[str, Any]) -> None:
    if not request.desired_state.get("Name") and _rule_name(previous):
        request.desired_state["Name"] = _rule_name(previous)


def _remove_stale_targets(request: Any, previous: dict[str, Any], model: dict[str, Any]) -> None:
    wanted = {t.get("Id") for t in model.get("Targets") or []}
    stale = [t["Id"] for t in previous.get("Targets") or [] if t.get("Id") not in wanted]
    if stale:
        kwargs: dict[str, Any] = {"Rule": _rule_name(model), "Ids": stale}
        if model.get("EventBusName"):
            kwargs["EventBusName"] = model["EventBusName"]
        request.aws_client_factory.events.remove_targets(**kwargs)


def _keep_alarm_name(request: Any, previous: dict[str, Any]) -> None:
    if not request.desired_state.get("AlarmName") and previous.get("AlarmName"):
        request.desired_state["AlarmName"] = previous["AlarmName"]


def _wrap(cls: type, keep_name: Any = None, after: Any = None) -> None:
    original = cls.update

    @functools.wraps(original)
    def update(self, request):  # type: ignore[no-untyped-def]
        try:
            return original(self, request)
        except NotImplementedError:
            pass
        previous = dict(request.previous_state or {})
        if keep_name:
            keep_name(request, previous)  # the physical name the stack (and every Ref to it) already uses
        event = self.create(request)
        if after and event.status.name == "SUCCESS" and event.resource_model:
            after(request, previous, event.resource_model)
        return event

    cls.update = update


def install() -> None:
    """Give Events::Rule, CloudWatch::Alarm and S3::BucketPolicy an update that applies the new properties."""
    from localstack.services.cloudwatch.resource_providers.aws_cloudwatch_alarm import CloudWatchAlarmProvider
    from localstack.services.events.resource_providers.aws_events_rule import EventsRuleProvider
    from localstack.services.s3.resource_providers.aws_s3_bucketpolicy import S3BucketPolicyProvider

    _wrap(EventsRuleProvider, _keep_rule_name, _remove_stale_targets)
    _wrap(CloudWatchAlarmProvider, _keep_alarm_name)
    _wrap(S3BucketPolicyProvider)
