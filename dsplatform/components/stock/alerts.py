"""Stock component ``alerts``: the SNS topic that receives the pipeline's failures and alarms."""

from __future__ import annotations

from blueprints import alerts
from dsplatform.components.model import Component, Context
from dsplatform.components.stock._pipeline import JOB


def props(ctx: Context) -> alerts.AlertsProps:
    """Alerts props from ``settings.alerts``."""
    return alerts.AlertsProps(topic_name=ctx.names.alert_topic(JOB), emails=ctx.env.settings.alerts.emails)


COMPONENT = Component("alerts", alerts.build, props, alerts.AlertsOutputs)
