"""Schedule: the EventBridge rule targets the pipeline with the configured expression, and a rule really fires."""

from __future__ import annotations

from harness.scenarios._plan import resource_properties
from harness.scenarios._schedule import deployed_target


def test_rule_targets_pipeline_with_configured_expression(ds_clients, ds_platform, ds_plan):
    """The deployed rule's expression and state equal the rendered template's; its target is the state machine."""
    rule = ds_clients.client("events").describe_rule(Name=ds_platform.rule_name)
    wanted = resource_properties(ds_plan, ds_platform.stack_name("schedule"), "AWS::Events::Rule")
    assert len(wanted) == 1, f"expected one rule in the schedule stack, found {len(wanted)}"
    assert rule["ScheduleExpression"] == wanted[0]["ScheduleExpression"]
    assert rule.get("State") == wanted[0].get("State", "ENABLED")
    assert deployed_target(ds_clients, ds_platform).get("RoleArn"), "the rule's target has no role"


def test_rate_rule_really_starts_an_execution(rate_rule, ds_execution, ds_clients, ds_platform, ds_wait):
    """A throwaway `rate(1 minute)` rule (put at session start, deployed target's role) starts the pipeline."""
    sfn = ds_clients.client("stepfunctions")

    def started_by_rule() -> list[str]:
        arns = []
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=ds_platform.state_machine_arn):
            for ex in page["executions"]:
                if ex["startDate"] >= rate_rule.since:
                    described = sfn.describe_execution(executionArn=ex["executionArn"])
                    if rate_rule.run.id in described.get("input", ""):
                        arns.append(ex["executionArn"])
        return arns

    arns = ds_wait.until(started_by_rule, bool, what=f"an execution started by rule {rate_rule.name}",
                         timeout=150, interval=3)
    rate_rule.remove()  # one firing is the evidence; a second would only add load
    execution = ds_execution(rate_rule.run, arn=arns[0])
    assert execution.status == "SUCCEEDED", f"{execution.status}: {execution.error} {execution.cause[:500]}"
