"""Monitoring: alarms on the state machine's failures, time-outs and throttles, and a dashboard."""

from __future__ import annotations

import json
from dataclasses import dataclass

from troposphere import Ref, Sub, Template, cloudwatch

from blueprints.alerts import AlertsOutputs
from blueprints.common import new_template
from blueprints.orchestration import OrchestrationOutputs
from blueprints.outputs import Key, Outputs

METRICS = (("ExecutionsFailed", "Failed"), ("ExecutionsTimedOut", "TimedOut"), ("ExecutionThrottled", "Throttled"))


class MonitoringOutputs(Outputs):
    """Outputs of the monitoring stack."""

    failed_alarm_name = Key("ExecutionsFailed alarm name")
    timed_out_alarm_name = Key("ExecutionsTimedOut alarm name")
    throttled_alarm_name = Key("ExecutionThrottled alarm name")
    dashboard_name = Key("CloudWatch dashboard name")


_ALARM_OUTPUTS = {"Failed": MonitoringOutputs.failed_alarm_name, "TimedOut": MonitoringOutputs.timed_out_alarm_name,
                  "Throttled": MonitoringOutputs.throttled_alarm_name}


@dataclass(frozen=True)
class MonitoringProps:
    """Inputs of the monitoring blueprint; ``alarm_names`` maps metric name -> alarm name."""

    alarm_names: dict[str, str]
    dashboard_name: str
    failed_threshold: int = 1
    timed_out_threshold: int = 1
    throttled_threshold: int = 1
    period_seconds: int = 300
    evaluation_periods: int = 1


def _dashboard_body() -> str:
    metrics = [["AWS/States", metric, "StateMachineArn", "${StateMachineArn}"]
               for metric in ("ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut",
                              "ExecutionThrottled")]
    body = {"widgets": [{"type": "metric", "x": 0, "y": 0, "width": 24, "height": 6, "properties": {
        "title": "Pipeline executions", "view": "timeSeries", "stat": "Sum", "period": 300,
        "region": "${AWS::Region}", "metrics": metrics}}]}
    return json.dumps(body, sort_keys=True)


def build(props: MonitoringProps) -> Template:
    """Render the monitoring template."""
    template = new_template("monitoring (alarms and dashboard of the pipeline)")
    machine_arn = Ref(OrchestrationOutputs.state_machine_arn.parameter(
        template, "state machine ARN (orchestration stack)"))
    topic_arn = Ref(AlertsOutputs.alert_topic_arn.parameter(template, "alert topic ARN (alerts stack)"))
    thresholds = {"Failed": props.failed_threshold, "TimedOut": props.timed_out_threshold,
                  "Throttled": props.throttled_threshold}
    for metric, label in METRICS:
        alarm = template.add_resource(cloudwatch.Alarm(
            f"{label}Alarm", AlarmName=props.alarm_names[metric],
            AlarmDescription=f"dsplatform pipeline: {metric} >= {thresholds[label]}",
            Namespace="AWS/States", MetricName=metric,
            Dimensions=[cloudwatch.MetricDimension(Name="StateMachineArn", Value=machine_arn)],
            Statistic="Sum", Period=props.period_seconds, EvaluationPeriods=props.evaluation_periods,
            Threshold=thresholds[label], ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData="notBreaching", AlarmActions=[topic_arn]))
        _ALARM_OUTPUTS[label].emit(template, Ref(alarm), f"{metric} alarm name")
    dashboard = template.add_resource(cloudwatch.Dashboard(
        "Dashboard", DashboardName=props.dashboard_name,
        DashboardBody=Sub(_dashboard_body(), StateMachineArn=machine_arn)))
    MonitoringOutputs.dashboard_name.emit(template, Ref(dashboard))
    return template
