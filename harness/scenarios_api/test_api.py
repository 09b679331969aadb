"""The api component end to end: real HTTP through its load balancer, task failures and deployments.

The deployments here register a new revision of the deployed task definition and update the service (as a
release pipeline would), then put the service back on the stack's revision, so the stack stays as deployed.
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Iterator
from typing import Any

import pytest

from harness.scenarios_api._http import Load, call

RECORDS = [
    {
        "id": 1,
        "event_date": "2026-01-15",
        "amount": 9.5,
        "quantity": 2,
        "category": "toys",
        "region": "west",
        "description": "a, b",
    },
    {
        "id": 2,
        "event_date": "2026-02-01",
        "amount": None,
        "quantity": None,
        "category": "books",
        "region": None,
        "description": "",
    },
]
CSV = (
    "id,event_date,amount,quantity,category,region,description\n"
    '1,2026-01-15,9.5,2,toys,west,"a, b"\n2,2026-02-01,,,books,,\n'
)


@pytest.fixture
def revision(api: Any) -> Iterator[Any]:
    """Registers revisions of the deployed task definition (env changes); the service goes back afterwards."""
    original = api.describe()["taskDefinition"]
    base = api.ecs.describe_task_definition(taskDefinition=original)["taskDefinition"]

    def _register(**env: str) -> str:
        container = dict(base["containerDefinitions"][0])
        merged = {e["name"]: e["value"] for e in container.get("environment", [])} | env
        container["environment"] = [{"name": k, "value": v} for k, v in merged.items()]
        keep = (
            "family",
            "taskRoleArn",
            "executionRoleArn",
            "networkMode",
            "requiresCompatibilities",
            "cpu",
            "memory",
            "runtimePlatform",
        )
        return api.ecs.register_task_definition(
            **{k: base[k] for k in keep if k in base}, containerDefinitions=[container]
        )["taskDefinition"]["taskDefinitionArn"]

    yield _register
    if api.describe()["taskDefinition"] != original:
        api.ecs.update_service(cluster=api.cluster, service=api.service, taskDefinition=original)
        api.wait_rolled_out()


def test_records_through_the_load_balancer_get_the_batch_jobs_features(api: Any, ds_clients: Any) -> None:
    """Online features equal the batch job's for the same rows (computed here with the deployed model)."""
    import pyarrow as pa
    from ds_preprocessing import process, reader, validate
    from ds_preprocessing.model import load_model

    status, model = call(api.url + "/v1/model")
    assert status == 200, model
    loaded = load_model(ds_clients.client("s3"), model["bucket"], model["key"])
    assert loaded.sha256 == model["sha256"]
    chunks = list(reader.iter_chunks(io.BytesIO(CSV.encode()), "scenario"))
    batch = process.to_output(
        pa.concat_tables([validate.split(c.batch).valid for c in chunks]), loaded.pipeline
    ).to_pylist()
    status, body = call(api.url + "/v1/transform", {"records": RECORDS})
    assert status == 200, body
    for online, expected in zip(body["records"], batch, strict=True):
        for name, value in expected.items():
            if isinstance(value, float):
                assert math.isclose(online[name], value, rel_tol=1e-9, abs_tol=1e-12), name
    status, body = call(api.url + "/v1/transform", {**RECORDS[0], "event_date": "2026-13-01"})
    assert status == 422
    assert {"field": "event_date", "value": "2026-13-01", "rule": "bad_event_date"}.items() <= body["detail"][0].items()


def test_a_stopped_task_is_routed_around_and_replaced(api: Any) -> None:
    """No failed request once the load balancer stops sending to it; the service starts a replacement."""
    api.wait_rolled_out()
    arns = api.ecs.list_tasks(cluster=api.cluster, serviceName=api.service, desiredStatus="RUNNING")["taskArns"]
    victim = arns[0]
    load = Load(api.url + "/health", rate=20)
    time.sleep(1)
    began = time.monotonic()
    api.ecs.stop_task(cluster=api.cluster, task=victim, reason="scenario: a task dies")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        running = set(
            api.ecs.list_tasks(cluster=api.cluster, serviceName=api.service, desiredStatus="RUNNING")["taskArns"]
        )
        if victim not in running and len(running) >= api.describe()["desiredCount"]:
            break
        time.sleep(2)
    service = api.wait_rolled_out()
    ended = time.monotonic()
    time.sleep(1)
    results = load.stop()
    assert [r for r in results if r[0] != 200] == []
    gap = load.longest_gap(began, ended)
    assert gap <= 3, f"no request was sent for {gap:.1f}s of the {ended - began:.0f}s replacement: nothing was proven"
    assert service["runningCount"] == service["desiredCount"]


def test_a_rolling_deploy_under_load_fails_no_request(api: Any, revision: Any) -> None:
    """A request sent at least every 3 s (25/s asked for) through the deploy; zero failures; the new release after."""
    new = revision(DS_API_RELEASE=f"scenario-{int(time.time())}")
    release = api.ecs.describe_task_definition(taskDefinition=new)["taskDefinition"]["containerDefinitions"][0]
    wanted = next(e["value"] for e in release["environment"] if e["name"] == "DS_API_RELEASE")
    load = Load(api.url + "/health", rate=25)
    time.sleep(1)
    began = time.monotonic()
    api.ecs.update_service(cluster=api.cluster, service=api.service, taskDefinition=new)
    service = api.wait_rolled_out()
    ended = time.monotonic()
    time.sleep(1)
    results = load.stop()
    assert [r for r in results if r[0] != 200] == []
    gap = load.longest_gap(began, ended)
    assert gap <= 3, f"no request was sent for {gap:.1f}s of the {ended - began:.0f}s deploy ({len(results)} requests)"
    assert service["taskDefinition"] == new
    assert {call(api.url + "/health")[1]["release"] for _ in range(10)} == {wanted}


def test_a_broken_release_is_rolled_back_and_the_old_one_keeps_serving(api: Any, revision: Any) -> None:
    """A release that never gets ready (its model parameters are missing): circuit breaker, rollback, no outage."""
    before = api.wait_rolled_out()["taskDefinition"]
    broken = revision(DS_SSM_PREFIX="/ds-scenario/missing/", DS_API_RELEASE="broken")
    load = Load(api.url + "/health", rate=10)
    time.sleep(1)
    began = time.monotonic()
    api.ecs.update_service(cluster=api.cluster, service=api.service, taskDefinition=broken)
    time.sleep(2)
    service = api.wait_rolled_out()
    ended = time.monotonic()
    time.sleep(1)
    results = load.stop()
    gap = load.longest_gap(began, ended)
    assert gap <= 3, f"no request was sent for {gap:.1f}s of the {ended - began:.0f}s rollback: nothing was proven"
    assert [r for r in results if r[0] != 200] == []
    assert "broken" not in {release for _, release in results}
    assert service["taskDefinition"] == before
    messages = [e["message"] for e in service["events"]]
    assert any("deployment failed" in m for m in messages) and any("rolling back" in m for m in messages)
