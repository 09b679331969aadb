"""Alarms: the failure alarms exist with the configured thresholds and an alarm in ALARM notifies the topic."""

from __future__ import annotations

from harness.scenarios._plan import resource_properties


def test_alarms_have_configured_thresholds(ds_clients, ds_platform, ds_plan):
    """Each deployed alarm matches the rendered template (metric, threshold, comparison) and notifies the topic."""
    cloudwatch = ds_clients.client("cloudwatch")
    deployed = {
        a["AlarmName"]: a
        for page in cloudwatch.get_paginator("describe_alarms").paginate(AlarmNames=list(ds_platform.alarm_names))
        for a in page.get("MetricAlarms", [])
    }
    assert sorted(deployed) == sorted(ds_platform.alarm_names)
    wanted = {
        p["MetricName"]: p
        for p in resource_properties(ds_plan, ds_platform.stack_name("monitoring"), "AWS::CloudWatch::Alarm")
    }
    for name, alarm in deployed.items():
        want = wanted.get(alarm["MetricName"])
        assert want is not None, f"alarm {name} watches {alarm['MetricName']}, which the template does not define"
        assert float(alarm["Threshold"]) == float(want["Threshold"]), name
        assert alarm["ComparisonOperator"] == want["ComparisonOperator"], name
        assert int(alarm["EvaluationPeriods"]) == int(want["EvaluationPeriods"]), name
        assert ds_platform.topic_arn in alarm.get("AlarmActions", []), f"{name} does not notify the alert topic"
        dims = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
        assert dims.get("StateMachineArn") == ds_platform.state_machine_arn, f"{name} watches {dims}"


def test_alarm_in_alarm_state_notifies_topic(ds_run, ds_clients, ds_platform, ds_wait):
    """Setting the failed-executions alarm to ALARM delivers a notification to an SQS subscriber of the topic."""
    run = ds_run("alarm")
    queue = run.subscribe_queue(ds_platform.topic_arn)
    cloudwatch, sqs = ds_clients.client("cloudwatch"), ds_clients.client("sqs")
    alarm = ds_platform.failed_alarm
    run.add_cleanup(
        f"alarm {alarm} back to OK",
        lambda: cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason=f"e2e {run.id} done"),
    )
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason=f"e2e {run.id}")
    seen: list[str] = []

    def receive() -> list[str]:
        got = sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10, WaitTimeSeconds=5)
        seen.extend(m["Body"] for m in got.get("Messages", []))
        return list(seen)

    ds_wait.until(
        receive,
        lambda bodies: any(alarm in b and "ALARM" in b for b in bodies),
        what=f"the ALARM notification of {alarm} in {queue.url}",
        timeout=60,
        interval=0.1,
    )
