"""Rollback triggers on LocalStack (extension's cfn_triggers): an update whose trigger alarm fires rolls back."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.localstack.support import ACCOUNT, unique

pytestmark = pytest.mark.localstack
_SETTLED_SECONDS = 120


def _template(name: str, value: str, extra: bool) -> str:
    resources: dict[str, Any] = {
        "Setting": {"Type": "AWS::SSM::Parameter", "Properties": {"Name": f"/{name}/setting", "Type": "String",
                                                                  "Value": value}},
    }
    if extra:  # a resource only the new template has: the rollback must delete it
        resources["Extra"] = {"Type": "AWS::SSM::Parameter", "Properties": {"Name": f"/{name}/extra",
                                                                            "Type": "String", "Value": "x"}}
    return json.dumps({"Resources": resources, "Outputs": {"Setting": {"Value": value}}})


def _alarm(cloudwatch: Any, name: str) -> str:
    cloudwatch.put_metric_alarm(AlarmName=name, Namespace="Test", MetricName="Errors", Statistic="Sum", Period=60,
                                EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold")
    return str(cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["AlarmArn"])


def _settled(cfn: Any, name: str) -> dict[str, Any]:
    deadline = time.monotonic() + _SETTLED_SECONDS
    while time.monotonic() < deadline:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        if not stack["StackStatus"].endswith("_IN_PROGRESS"):
            return dict(stack)
        time.sleep(0.2)
    raise AssertionError(f"{name} still in progress after {_SETTLED_SECONDS} s")


def _update(cfn: Any, name: str, body: str, config: dict[str, Any] | None) -> None:
    cs = cfn.create_change_set(StackName=name, ChangeSetName=unique("cs"), ChangeSetType="UPDATE", TemplateBody=body,
                               **({"RollbackConfiguration": config} if config is not None else {}))
    cfn.get_waiter("change_set_create_complete").wait(ChangeSetName=cs["Id"], WaiterConfig={"Delay": 0.5})
    cfn.execute_change_set(ChangeSetName=cs["Id"])


def _statuses(cfn: Any, name: str) -> list[tuple[str, str]]:
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    return [(e["ResourceStatus"], e.get("ResourceStatusReason", "")) for e in reversed(events)
            if e["ResourceType"] == "AWS::CloudFormation::Stack"]


@pytest.fixture
def stack(localstack: Any) -> Any:
    cfn = localstack.client("cloudformation", ACCOUNT)
    name = unique("trig")
    cfn.create_stack(StackName=name, TemplateBody=_template(name, "one", extra=False))
    assert _settled(cfn, name)["StackStatus"] == "CREATE_COMPLETE"
    yield name
    cfn.delete_stack(StackName=name)


def test_alarm_during_monitoring_rolls_the_update_back(localstack: Any, stack: str) -> None:
    cfn, ssm, cloudwatch = (localstack.client(s, ACCOUNT) for s in ("cloudformation", "ssm", "cloudwatch"))
    arn = _alarm(cloudwatch, unique("alarm"))
    config = {"RollbackTriggers": [{"Arn": arn, "Type": "AWS::CloudWatch::Alarm"}], "MonitoringTimeInMinutes": 30}
    _update(cfn, stack, _template(stack, "two", extra=True), config)
    deadline = time.monotonic() + 60
    while ssm.get_parameter(Name=f"/{stack}/setting")["Parameter"]["Value"] != "two":  # resources updated
        assert time.monotonic() < deadline, "the update never applied"
        time.sleep(0.2)
    time.sleep(1.0)
    assert cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "UPDATE_IN_PROGRESS"  # monitoring
    cloudwatch.set_alarm_state(AlarmName=arn.split(":alarm:")[1], StateValue="ALARM", StateReason="errors")

    after = _settled(cfn, stack)
    assert after["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert ssm.get_parameter(Name=f"/{stack}/setting")["Parameter"]["Value"] == "one"
    assert not ssm.get_parameters(Names=[f"/{stack}/extra"])["Parameters"]  # what the update added is gone
    assert dict(cfn.get_template(StackName=stack)["TemplateBody"]) == json.loads(_template(stack, "one", False))
    assert after["RollbackConfiguration"] == config
    statuses = _statuses(cfn, stack)
    rolling = [reason for status, reason in statuses if status == "UPDATE_ROLLBACK_IN_PROGRESS"]
    assert rolling and arn.split(":alarm:")[1] in rolling[0]
    assert [s for s, _ in statuses][-2:] == ["UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE"]


def test_alarm_already_firing_fails_the_update_up_front_and_the_triggers_are_kept(localstack: Any,
                                                                                 stack: str) -> None:
    cfn, ssm, cloudwatch = (localstack.client(s, ACCOUNT) for s in ("cloudformation", "ssm", "cloudwatch"))
    name = unique("alarm")
    arn = _alarm(cloudwatch, name)
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="errors")
    config = {"RollbackTriggers": [{"Arn": arn, "Type": "AWS::CloudWatch::Alarm"}], "MonitoringTimeInMinutes": 0}
    _update(cfn, stack, _template(stack, "two", extra=False), config)
    assert _settled(cfn, stack)["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert ssm.get_parameter(Name=f"/{stack}/setting")["Parameter"]["Value"] == "one"
    assert any(name in reason for status, reason in _statuses(cfn, stack) if status == "UPDATE_ROLLBACK_IN_PROGRESS")

    # The next update gives no configuration: the stack's saved triggers still apply, as on AWS. The alarm is put
    # in ALARM again first: its metric has no data, so an evaluation (every 60 s, as on AWS) may already have
    # moved it to INSUFFICIENT_DATA while the first update rolled back (seen once on a loaded machine).
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="errors again")
    _update(cfn, stack, _template(stack, "three", extra=False), None)
    assert _settled(cfn, stack)["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert ssm.get_parameter(Name=f"/{stack}/setting")["Parameter"]["Value"] == "one"

    cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="recovered")
    _update(cfn, stack, _template(stack, "four", extra=False), None)
    assert _settled(cfn, stack)["StackStatus"] == "UPDATE_COMPLETE"
    assert ssm.get_parameter(Name=f"/{stack}/setting")["Parameter"]["Value"] == "four"


def test_missing_trigger_alarm_fails_the_update(localstack: Any, stack: str) -> None:
    cfn, ssm = (localstack.client(s, ACCOUNT) for s in ("cloudformation", "ssm"))
    arn = f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:{unique('nosuch')}"
    config = {"RollbackTriggers": [{"Arn": arn, "Type": "AWS::CloudWatch::Alarm"}]}
    _update(cfn, stack, _template(stack, "two", extra=False), config)
    assert _settled(cfn, stack)["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert ssm.get_parameter(Name=f"/{stack}/setting")["Parameter"]["Value"] == "one"
    assert any("does not exist" in reason for status, reason in _statuses(cfn, stack)
               if status == "UPDATE_ROLLBACK_IN_PROGRESS")


def test_update_stack_with_triggers_rolls_back_too(localstack: Any, stack: str) -> None:
    cfn, ssm, cloudwatch = (localstack.client(s, ACCOUNT) for s in ("cloudformation", "ssm", "cloudwatch"))
    name = unique("alarm")
    arn = _alarm(cloudwatch, name)
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="errors")
    cfn.update_stack(StackName=stack, TemplateBody=_template(stack, "two", extra=False),
                     RollbackConfiguration={"RollbackTriggers": [{"Arn": arn, "Type": "AWS::CloudWatch::Alarm"}]})
    assert _settled(cfn, stack)["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert ssm.get_parameter(Name=f"/{stack}/setting")["Parameter"]["Value"] == "one"
