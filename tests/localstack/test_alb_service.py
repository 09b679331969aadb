"""The local ALB and ECS service scheduler, with real processes and real HTTP through the local listener."""

from __future__ import annotations

import itertools
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from harness.scenarios_api._http import Load
from tests.localstack.alb_support import Web, create_web, register_image, task_definition
from tests.localstack.support import ACCOUNT

pytestmark = pytest.mark.localstack


@pytest.fixture(scope="module")
def image(localstack: Any) -> str:
    """The tiny HTTP service's image (tests/localstack/httpsvc/), registered on the running LocalStack."""
    return register_image(localstack, ACCOUNT)


@pytest.fixture
def web(localstack: Any, image: str) -> Iterator[Web]:
    """Two tasks of version v1 behind their own load balancer."""
    yield from create_web(localstack, ACCOUNT, task_definition(localstack.client("ecs", ACCOUNT), image, "v1"))


def _running_tasks(web: Web) -> list[dict[str, Any]]:
    arns = web.ecs.list_tasks(cluster=web.cluster, serviceName=web.service, desiredStatus="RUNNING")["taskArns"]
    tasks = web.ecs.describe_tasks(cluster=web.cluster, tasks=arns)["tasks"] if arns else []
    return [t for t in tasks if t["lastStatus"] == "RUNNING"]


def _ip(task: dict[str, Any]) -> str:
    details = task["attachments"][0]["details"]
    return next(d["value"] for d in details if d["name"] == "privateIPv4Address")


def _wait_replaced(web: Web, victim: dict[str, Any]) -> set[str]:
    """Until two other tasks run and both targets are healthy (at most 60 s); the running tasks' ARNs."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        arns = {t["taskArn"] for t in _running_tasks(web)}
        if len(arns) == 2 and victim["taskArn"] not in arns and list(web.health().values()).count("healthy") == 2:
            break
        time.sleep(0.5)
    return arns


def test_requests_round_robin_over_the_healthy_tasks(web: Web) -> None:
    service = web.wait_stable()
    assert service["runningCount"] == 2
    assert service["deployments"][0]["rolloutState"] == "COMPLETED"
    ips = {_ip(t) for t in _running_tasks(web)}
    assert web.health() == {ip: "healthy" for ip in ips}
    answered = [web.get()[1]["address"] for _ in range(10)]
    assert {a.split(":")[0] for a in answered} == ips
    assert all(a != b for a, b in itertools.pairwise(answered))  # strictly alternating
    assert any("has reached a steady state" in e["message"] for e in service["events"])


def test_a_killed_task_is_routed_around_and_replaced(web: Web) -> None:
    web.wait_stable()
    victim = _running_tasks(web)[0]
    pid = int(victim["containers"][0]["runtimeId"].removeprefix("local-"))
    os.killpg(pid, signal.SIGKILL)  # a task process this LocalStack started for the test's service
    deadline = time.monotonic() + 30
    while web.health().get(_ip(victim)) == "healthy" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert web.health().get(_ip(victim)) != "healthy"
    statuses = [web.get()[0] for _ in range(30)]
    assert statuses == [200] * 30  # routed around once the load balancer stopped sending to it
    arns = _wait_replaced(web, victim)
    assert len(arns) == 2 and victim["taskArn"] not in arns, "the service did not replace the killed task"
    stopped = web.ecs.describe_tasks(cluster=web.cluster, tasks=[victim["taskArn"]])["tasks"][0]
    assert stopped["lastStatus"] == "STOPPED" and stopped["containers"][0]["exitCode"] == 137


def test_stop_task_drains_a_service_task_before_it_stops_so_no_request_fails(web: Web) -> None:
    web.wait_stable()
    victim = _running_tasks(web)[0]
    load = Load(web.url + "/", rate=25, label="address")
    time.sleep(1)
    began = time.monotonic()
    answer = web.ecs.stop_task(cluster=web.cluster, task=victim["taskArn"], reason="test: a task is stopped")["task"]
    # As ECS: the task is taken out of the load balancer first (DEACTIVATING), and signalled only once drained
    # (at once when nothing is in flight, as ELB completes such a deregistration without waiting the delay).
    assert answer["desiredStatus"] == "STOPPED" and answer["lastStatus"] == "RUNNING"
    arns = _wait_replaced(web, victim)
    ended = time.monotonic()
    time.sleep(1)
    results = load.stop()
    assert len(arns) == 2 and victim["taskArn"] not in arns, "the service did not replace the stopped task"
    # The load ran through the stop and the replacement, however long they took on a busy machine.
    gap = load.longest_gap(began, ended)
    assert gap <= 3, f"no request was sent for {gap:.1f}s of the {ended - began:.1f}s stop ({len(results)} requests)"
    assert load.failures() == []
    stopped = web.ecs.describe_tasks(cluster=web.cluster, tasks=[victim["taskArn"]])["tasks"][0]
    assert stopped["lastStatus"] == "STOPPED" and stopped["stoppedReason"] == "test: a task is stopped"
    events = [e["message"] for e in web.describe()["events"]]
    assert any("has begun draining connections" in m for m in events)
    assert not web.describe()["deployments"][0].get("failedTasks")  # a stop asked for is no failure


def test_a_rolling_deploy_under_load_fails_no_request(web: Web, image: str) -> None:
    web.wait_stable()
    v2 = task_definition(web.ecs, image, "v2")
    load = Load(web.url + "/", rate=25, label="version")
    time.sleep(1)
    began = time.monotonic()
    web.ecs.update_service(cluster=web.cluster, service=web.service, taskDefinition=v2)
    service = web.wait_stable()
    ended = time.monotonic()
    time.sleep(1)
    results = load.stop()
    assert load.failures() == []
    # The load kept going through the whole deploy, however long it took on a busy machine.
    gap = load.longest_gap(began, ended)
    assert gap <= 3, f"no request was sent for {gap:.1f}s of the {ended - began:.1f}s deploy ({len(results)} requests)"
    versions = Counter(v for _, v in results)
    assert set(versions) == {"v1", "v2"}
    assert service["deployments"][0]["taskDefinition"] == v2
    assert service["deployments"][0]["rolloutState"] == "COMPLETED"
    assert {web.get()[1]["version"] for _ in range(10)} == {"v2"}
    assert any("has begun draining connections" in e["message"] for e in service["events"])


def test_the_circuit_breaker_rolls_a_never_ready_version_back(web: Web, image: str) -> None:
    v1 = web.wait_stable()["taskDefinition"]
    broken = task_definition(web.ecs, image, "broken", ready=False)
    load = Load(web.url + "/", rate=10, label="version")
    time.sleep(0.5)
    began = time.monotonic()
    web.ecs.update_service(cluster=web.cluster, service=web.service, taskDefinition=broken)
    time.sleep(2)
    service = web.wait_stable()
    ended = time.monotonic()
    time.sleep(0.5)
    results = load.stop()
    assert load.failures() == []
    assert load.longest_gap(began, ended) <= 3, f"the load did not run through the rollback: {len(results)} requests"
    assert {v for _, v in results} == {"v1"}  # the old version kept serving
    assert service["taskDefinition"] == v1
    assert service["deployments"][0]["taskDefinition"] == v1
    messages = [e["message"] for e in service["events"]]
    assert any("deployment failed: tasks failed to start" in m for m in messages)
    assert any("rolling back to deployment" in m for m in messages)
    assert any("is unhealthy in (target-group" in m for m in messages)
