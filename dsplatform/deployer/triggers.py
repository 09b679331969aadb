"""CloudFormation rollback triggers: the configured alarms that roll a stack update back when they fire."""

from __future__ import annotations

from typing import Any

from dsplatform.stackspec import Target

_DESCRIBE_BATCH = 100  # DescribeAlarms takes at most 100 names


def rollback_configuration(cloudwatch: Any, target: Target) -> dict[str, Any] | None:
    """The ``RollbackConfiguration`` for update change sets, with only the trigger alarms that exist now.

    CloudFormation fails the whole operation on a missing trigger, and a first deploy is what creates the
    alarms, so absent ones are left out (they guard the next update). None when no trigger is configured.
    """
    if not target.rollback_alarms:
        return None
    names = list(target.rollback_alarms)
    arns: list[str] = []
    for start in range(0, len(names), _DESCRIBE_BATCH):
        page = cloudwatch.describe_alarms(AlarmNames=names[start:start + _DESCRIBE_BATCH], AlarmTypes=["MetricAlarm"])
        arns += [alarm["AlarmArn"] for alarm in page.get("MetricAlarms", [])]
    if not arns:
        return None
    return {"RollbackTriggers": [{"Arn": arn, "Type": "AWS::CloudWatch::Alarm"} for arn in sorted(arns)],
            "MonitoringTimeInMinutes": target.monitoring_minutes}
