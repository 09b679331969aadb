"""Stock component ``schedule``: the EventBridge rule that starts the pipeline."""

from __future__ import annotations

from blueprints import schedule
from dsplatform.components.model import Component, Context
from dsplatform.components.stock._pipeline import JOB


def props(ctx: Context) -> schedule.ScheduleProps:
    """Schedule props from ``settings.schedule``."""
    s = ctx.env.settings.schedule
    # With trigger on_arrival the ingest function starts runs; the rule stays, disabled.
    enabled = s.enabled and s.trigger == "schedule"
    return schedule.ScheduleProps(rule_name=ctx.names.schedule_rule(JOB), expression=s.expression, enabled=enabled)


COMPONENT = Component("schedule", schedule.build, props, schedule.ScheduleOutputs, ("orchestration",))
