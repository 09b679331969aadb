"""The throwaway rate rule of the schedule scenario and the deployed rule's target."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from harness.runs import Run


@dataclass
class RateRule:
    """A throwaway `rate(1 minute)` rule put at session start, so its first firing overlaps other scenarios."""

    run: Run
    name: str
    since: datetime
    remove: Callable[[], None]


def put_rate_rule(run: Run, platform: Any, clients: Any, model: Any, data: bytes) -> RateRule:
    """Upload input and model, then put the rule with the deployed target's role and this run's input."""
    input_key = run.put_input(data)
    run.use_model(model)
    run.expect_outputs()
    events = clients.client("events")
    deployed = deployed_target(clients, platform)
    payload = dict(json.loads(deployed.get("Input") or "{}"), run_id=run.id, input_key=input_key)
    name = f"ds-{run.id}"[:64]
    removed: list[bool] = []

    def remove() -> None:
        if removed:
            return
        if events.list_targets_by_rule(Rule=name).get("Targets"):
            events.remove_targets(Rule=name, Ids=["pipeline"])
        events.delete_rule(Name=name)
        removed.append(True)

    since = datetime.now(UTC)
    events.put_rule(Name=name, ScheduleExpression="rate(1 minute)", State="ENABLED")
    run.add_cleanup(f"events rule {name}", remove)
    events.put_targets(Rule=name, Targets=[{"Id": "pipeline", "Arn": platform.state_machine_arn,
                                            "RoleArn": deployed["RoleArn"], "Input": json.dumps(payload)}])
    return RateRule(run=run, name=name, since=since, remove=remove)


def deployed_target(clients: Any, platform: Any) -> dict[str, Any]:
    """The deployed schedule rule's target that starts the state machine (fails if there is none)."""
    events = clients.client("events")
    targets = [t for page in events.get_paginator("list_targets_by_rule").paginate(Rule=platform.rule_name)
               for t in page.get("Targets", [])]
    matching = [t for t in targets if t.get("Arn") == platform.state_machine_arn]
    assert matching, f"rule {platform.rule_name} targets {[t.get('Arn') for t in targets]}, not the pipeline"
    return dict(matching[0])
