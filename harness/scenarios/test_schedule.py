"""Schedule: the deployed rule's expression matches the configuration, and its target really starts the pipeline."""

from __future__ import annotations

import json

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


def test_rule_target_really_starts_the_pipeline(probe_rule, ds_execution, ds_clients, ds_platform, ds_wait):
    """A temporary rule carrying the deployed rule's target (ARN, role, every other field; input plus this
    run's id), matched by one PutEvents at session start, starts the pipeline through EventBridge; it succeeds."""
    sfn = ds_clients.client("stepfunctions")
    deployed = deployed_target(ds_clients, ds_platform)
    assert {k: v for k, v in probe_rule.target.items() if k not in ("Id", "Input")} == {
        k: v for k, v in deployed.items() if k not in ("Id", "Input")
    }, "the probe's target is not the deployed one"

    def started_by_rule() -> list[str]:
        arns = []
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=ds_platform.state_machine_arn):
            for ex in page["executions"]:
                if ex["startDate"] >= probe_rule.since:
                    described = sfn.describe_execution(executionArn=ex["executionArn"])
                    if probe_rule.run.id in described.get("input", ""):
                        arns.append(ex["executionArn"])
        return arns

    arns = ds_wait.until(started_by_rule, bool, what=f"an execution started by rule {probe_rule.name}",
                         timeout=60, interval=0.5)
    assert len(arns) == 1, f"one probe event should start one execution, saw {arns}"
    described = sfn.describe_execution(executionArn=arns[0])
    # EventBridge hands the target's constant Input to the state machine unchanged.
    assert json.loads(described["input"]) == probe_rule.payload
    execution = ds_execution(probe_rule.run, arn=arns[0])
    assert execution.status == "SUCCEEDED", f"{execution.status}: {execution.error} {execution.cause[:500]}"
