"""Stock component ``monitoring``: alarms on the pipeline's failures, time-outs and throttles, and a dashboard."""

from __future__ import annotations

from blueprints import monitoring
from dsplatform.components.model import Component, Context
from dsplatform.components.stock._pipeline import JOB


def props(ctx: Context) -> monitoring.MonitoringProps:
    """Monitoring props from ``settings.alarms``."""
    s = ctx.env.settings.alarms
    return monitoring.MonitoringProps(
        alarm_names={metric: ctx.names.alarm(JOB, metric) for metric, _ in monitoring.METRICS},
        dashboard_name=ctx.names.dashboard(JOB), failed_threshold=s.failed_threshold,
        timed_out_threshold=s.timed_out_threshold, throttled_threshold=s.throttled_threshold,
        period_seconds=s.period_seconds, evaluation_periods=s.evaluation_periods)


COMPONENT = Component("monitoring", monitoring.build, props, monitoring.MonitoringOutputs, ("orchestration", "alerts"))
