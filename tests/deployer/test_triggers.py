"""Rollback triggers: the configured alarms reach update change sets, only those that exist, never creates."""

from __future__ import annotations

import boto3
from botocore.stub import Stubber

from dsplatform.config import parse_config
from dsplatform.deployer.triggers import rollback_configuration
from dsplatform.stackspec import Target
from dsplatform.synth import plan_from_config

CONFIG = """
environments:
  dev:
    account_id: "111111111111"
    target: localstack
    settings: {rollback: {alarms: [pipeline, team-latency], monitoring_minutes: 5}}
"""


def test_pipeline_keyword_expands_to_the_stock_failure_alarms() -> None:
    target = plan_from_config(parse_config(CONFIG), "dev").target
    assert target.rollback_alarms == ("ds-preprocessing-ExecutionsFailed", "ds-preprocessing-ExecutionsTimedOut",
                                      "ds-preprocessing-ExecutionThrottled", "team-latency")
    assert target.monitoring_minutes == 5


def test_only_existing_alarms_become_triggers() -> None:
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    target = Target(env="dev", account_id="111111111111", region="us-east-1", kind="aws",
                    rollback_alarms=("a", "b"), monitoring_minutes=3)
    arn = "arn:aws:cloudwatch:us-east-1:111111111111:alarm:a"
    with Stubber(cloudwatch) as stub:
        stub.add_response("describe_alarms", {"MetricAlarms": [{"AlarmName": "a", "AlarmArn": arn}]},
                          {"AlarmNames": ["a", "b"], "AlarmTypes": ["MetricAlarm"]})
        config = rollback_configuration(cloudwatch, target)
    assert config == {"RollbackTriggers": [{"Arn": arn, "Type": "AWS::CloudWatch::Alarm"}],
                      "MonitoringTimeInMinutes": 3}
    with Stubber(cloudwatch) as stub:  # none exist yet (a first deploy creates them): no triggers at all
        stub.add_response("describe_alarms", {"MetricAlarms": []})
        assert rollback_configuration(cloudwatch, target) is None
    assert rollback_configuration(cloudwatch, Target(env="dev", account_id="1" * 12, region="us-east-1",
                                                     kind="aws")) is None  # not configured: not even asked
