"""The schedule scenario's probe: a temporary rule with the deployed rule's target, matched by PutEvents.

Waiting for a real `rate(1 minute)` firing cost 20-60 s a run, and LocalStack's EventBridge Scheduler does not
fire one-time `at(...)` schedules (checked on 2026-11-30: created, never delivered). An event-pattern rule
delivers as soon as a matching event is put, through the same EventBridge target machinery (the target's
ARN, role and input), on LocalStack and on AWS alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from harness.runs import Run

SOURCE = "dsplatform.harness"
DETAIL_TYPE = "Schedule target probe"
PROBE_TARGET_ID = "pipeline"


@dataclass
class ProbeRule:
    """The temporary rule (put and fired at session start, so its execution overlaps other scenarios)."""

    run: Run
    name: str
    since: datetime
    target: dict[str, Any]
    payload: dict[str, Any]
    remove: Callable[[], None]


def probe_target(deployed: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """The deployed target as it is (ARN, role, retry policy, dead-letter queue...), with this run's input."""
    target = {k: v for k, v in deployed.items() if k not in ("Id", "Input")}
    return dict(target, Id=PROBE_TARGET_ID, Input=json.dumps(payload))


def put_probe_rule(run: Run, platform: Any, clients: Any, model: Any, data: bytes) -> ProbeRule:
    """Upload input and model, put a rule matching only this run's probe event with the deployed target, fire it."""
    input_key = run.put_input(data)
    run.use_model(model)
    run.expect_outputs()
    events = clients.client("events")
    deployed = deployed_target(clients, platform)
    payload = dict(json.loads(deployed.get("Input") or "{}"), run_id=run.id, input_key=input_key)
    target = probe_target(deployed, payload)
    name = f"{platform.project}-{run.id}"[:64]  # the project's prefix: inside the deploy role's scope
    removed: list[bool] = []

    def remove() -> None:
        if removed:
            return
        if events.list_targets_by_rule(Rule=name).get("Targets"):
            events.remove_targets(Rule=name, Ids=[PROBE_TARGET_ID])
        events.delete_rule(Name=name)
        removed.append(True)

    pattern = {"source": [SOURCE], "detail-type": [DETAIL_TYPE], "detail": {"run_id": [run.id]}}
    since = datetime.now(UTC)
    events.put_rule(Name=name, EventPattern=json.dumps(pattern), State="ENABLED",
                    Description="dsplatform harness: the deployed schedule target, fired once by PutEvents")
    run.add_cleanup(f"events rule {name}", remove)
    events.put_targets(Rule=name, Targets=[target])
    put = events.put_events(Entries=[{"Source": SOURCE, "DetailType": DETAIL_TYPE,
                                      "Detail": json.dumps({"run_id": run.id})}])
    assert put.get("FailedEntryCount", 0) == 0, f"PutEvents refused the probe event: {put.get('Entries')}"
    return ProbeRule(run=run, name=name, since=since, target=target, payload=payload, remove=remove)


def deployed_target(clients: Any, platform: Any) -> dict[str, Any]:
    """The deployed schedule rule's target that starts the state machine (fails if there is none)."""
    events = clients.client("events")
    targets = [t for page in events.get_paginator("list_targets_by_rule").paginate(Rule=platform.rule_name)
               for t in page.get("Targets", [])]
    matching = [t for t in targets if t.get("Arn") == platform.state_machine_arn]
    assert matching, f"rule {platform.rule_name} targets {[t.get('Arn') for t in targets]}, not the pipeline"
    return dict(matching[0])
