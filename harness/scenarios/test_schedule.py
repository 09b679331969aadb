"""Schedule: the EventBridge rule targets the pipeline with the configured expression, and a rule really fires."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from harness.scenarios._plan import resource_properties


def _target(ds_clients, ds_platform):
    events = ds_clients.client("events")
    targets = [
        t
        for page in events.get_paginator("list_targets_by_rule").paginate(Rule=ds_platform.rule_name)
        for t in page.get("Targets", [])
    ]
    matching = [t for t in targets if t.get("Arn") == ds_platform.state_machine_arn]
    assert matching, f"rule {ds_platform.rule_name} targets {[t.get('Arn') for t in targets]}, not the pipeline"
    return matching[0]


def test_rule_targets_pipeline_with_configured_expression(ds_clients, ds_platform, ds_plan):
    """The deployed rule's expression and state equal the rendered template's; its target is the state machine."""
    rule = ds_clients.client("events").describe_rule(Name=ds_platform.rule_name)
    wanted = resource_properties(ds_plan, ds_platform.stack_name("schedule"), "AWS::Events::Rule")
    assert len(wanted) == 1, f"expected one rule in the schedule stack, found {len(wanted)}"
    assert rule["ScheduleExpression"] == wanted[0]["ScheduleExpression"]
    assert rule.get("State") == wanted[0].get("State", "ENABLED")
    target = _target(ds_clients, ds_platform)
    assert target.get("RoleArn"), "the rule's target has no role to start the state machine with"


def test_rate_rule_really_starts_an_execution(ds_run, ds_execution, ds_clients, ds_platform, ds_wait,
                                              trained_model, sample_input):
    """A throwaway `rate(1 minute)` rule with the deployed target's role starts a run of the pipeline."""
    run = ds_run("sched")
    input_key = run.put_input(sample_input)
    run.upload_model(trained_model)
    events, sfn = ds_clients.client("events"), ds_clients.client("stepfunctions")
    deployed = _target(ds_clients, ds_platform)
    payload = dict(json.loads(deployed.get("Input") or "{}"), run_id=run.id, input_key=input_key)
    name = f"ds-{run.id}"[:64]
    since = datetime.now(UTC)
    events.put_rule(Name=name, ScheduleExpression="rate(1 minute)", State="ENABLED")

    removed: list[bool] = []

    def remove_rule() -> None:
        if removed:
            return
        if events.list_targets_by_rule(Rule=name).get("Targets"):
            events.remove_targets(Rule=name, Ids=["pipeline"])
        events.delete_rule(Name=name)
        removed.append(True)

    run.add_cleanup(f"events rule {name}", remove_rule)
    events.put_targets(
        Rule=name,
        Targets=[{"Id": "pipeline", "Arn": ds_platform.state_machine_arn, "RoleArn": deployed["RoleArn"],
                  "Input": json.dumps(payload)}],
    )

    def started_by_rule() -> list[str]:
        arns = []
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=ds_platform.state_machine_arn):
            for ex in page["executions"]:
                if ex["startDate"] >= since:
                    described = sfn.describe_execution(executionArn=ex["executionArn"])
                    if run.id in described.get("input", ""):
                        arns.append(ex["executionArn"])
        return arns

    arns = ds_wait.until(started_by_rule, bool, what=f"an execution started by rule {name}", timeout=150, interval=5)
    remove_rule()  # one firing is the evidence; a second would only add load
    execution = ds_execution(run, arn=arns[0])
    assert execution.status == "SUCCEEDED", f"{execution.status}: {execution.error} {execution.cause[:500]}"
