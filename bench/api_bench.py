"""API benchmark on a deployed api component (LocalStack's local ALB, or AWS): medians and same-run ratios.

Measures, against an environment where the api component is deployed (``components.plugins: [api]``):
  1. GET /health through the load balancer vs directly to one task (its ENI address and container port),
     interleaved in the same run: p50/p99 latency and the proxy's overhead as a ratio (sequential requests);
  2. throughput through the load balancer with ``--concurrency`` clients for ``--seconds`` (requests/s);
  3. POST /v1/transform latency for 1 record (via the ALB and directly, interleaved: the same-run ratio) and
     for 100 records (target: p99 under 50 ms for one record here); the 1-minute load average per run;
  4. with ``--deploy``: seconds from UpdateService with a new release to every answer carrying it.

Direct calls need to reach the task's address: on LocalStack it is a loopback address; on AWS run this
inside the VPC. Usage:
  python bench/api_bench.py --config dsplatform.yml --env dev [--requests 300] [--runs 3] [--deploy] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dsplatform.deployer import ClientFactory  # noqa: E402
from dsplatform.localstack.endpoints import local_url  # noqa: E402
from dsplatform.synth import plan_from_config  # noqa: E402

RECORD = {"id": 1, "event_date": "2026-01-15", "amount": 9.5, "quantity": 2, "category": "toys", "region": "west",
          "description": "bench"}


def _timed(url: str, body: bytes | None = None) -> float:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"},
                                     method="POST" if body else "GET")
    began = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{url}: HTTP {response.status}")
    return (time.perf_counter() - began) * 1000


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _target(config: str, env: str) -> tuple[str, str, Any, Any]:
    from dsplatform.config import load_config

    plan = plan_from_config(load_config(config), env)
    clients = ClientFactory(plan.target)
    cfn = clients.client("cloudformation")
    outputs: dict[str, dict[str, str]] = {}
    for spec in (s for s in plan.stacks if s.component in ("api", "compute")):
        stack = cfn.describe_stacks(StackName=spec.name)["Stacks"][0]
        outputs[spec.component] = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    url = outputs["api"]["Url"]
    if clients.is_localstack:
        url = local_url(clients.client("elbv2"), url)
    return url.rstrip("/"), outputs["compute"]["ClusterName"], outputs["api"]["ServiceName"], clients


def _task_url(clients: Any, cluster: str, service: str) -> str:
    ecs = clients.client("ecs")
    arns = ecs.list_tasks(cluster=cluster, serviceName=service, desiredStatus="RUNNING")["taskArns"]
    task = ecs.describe_tasks(cluster=cluster, tasks=arns[:1])["tasks"][0]
    ip = next(d["value"] for d in task["attachments"][0]["details"] if d["name"] == "privateIPv4Address")
    port = ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"])["taskDefinition"][
        "containerDefinitions"][0]["portMappings"][0]["containerPort"]
    return f"http://{ip}:{port}"


def latency(alb: str, direct: str, requests: int) -> dict[str, float]:
    """Interleaved sequential GET /health via the ALB and directly: p50/p99 each and the ALB/direct ratio."""
    via, straight = [], []
    for _ in range(requests):
        via.append(_timed(alb + "/health"))
        straight.append(_timed(direct + "/health"))
    return {"alb_p50_ms": _pct(via, 50), "alb_p99_ms": _pct(via, 99), "direct_p50_ms": _pct(straight, 50),
            "direct_p99_ms": _pct(straight, 99), "p50_ratio": _pct(via, 50) / _pct(straight, 50)}


def throughput(url: str, concurrency: int, seconds: float) -> float:
    """Requests/s of GET /health with ``concurrency`` clients for ``seconds``."""
    counts = [0] * concurrency
    stop = time.monotonic() + seconds

    def _client(index: int) -> None:
        while time.monotonic() < stop:
            _timed(url + "/health")
            counts[index] += 1

    threads = [threading.Thread(target=_client, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / seconds


def transform(url: str, direct: str, requests: int) -> dict[str, float]:
    """p50/p99 of POST /v1/transform with 1 record (via the ALB and directly, interleaved) and with 100."""
    one = json.dumps(RECORD).encode()
    hundred = json.dumps({"records": [{**RECORD, "id": i + 1} for i in range(100)]}).encode()
    singles, straight = [], []
    for _ in range(requests):
        singles.append(_timed(url + "/v1/transform", one))
        straight.append(_timed(direct + "/v1/transform", one))
    batches = [_timed(url + "/v1/transform", hundred) for _ in range(max(10, requests // 5))]
    return {"one_p50_ms": _pct(singles, 50), "one_p99_ms": _pct(singles, 99),
            "one_direct_p50_ms": _pct(straight, 50), "one_direct_p99_ms": _pct(straight, 99),
            "one_p50_ratio": _pct(singles, 50) / _pct(straight, 50),
            "hundred_p50_ms": _pct(batches, 50), "hundred_p99_ms": _pct(batches, 99)}


def deploy_to_serving(url: str, clients: Any, cluster: str, service: str) -> float:
    """Seconds from UpdateService (a new release of the same image) until every answer carries it; then back."""
    ecs = clients.client("ecs")
    current = ecs.describe_services(cluster=cluster, services=[service])["services"][0]["taskDefinition"]
    base = ecs.describe_task_definition(taskDefinition=current)["taskDefinition"]
    container = dict(base["containerDefinitions"][0])
    release = f"bench-{int(time.time())}"
    container["environment"] = [e for e in container.get("environment", []) if e["name"] != "DS_API_RELEASE"] + [
        {"name": "DS_API_RELEASE", "value": release}]
    keep = ("family", "taskRoleArn", "executionRoleArn", "networkMode", "requiresCompatibilities", "cpu", "memory")
    new = ecs.register_task_definition(**{k: base[k] for k in keep if k in base}, containerDefinitions=[container])[
        "taskDefinition"]["taskDefinitionArn"]
    began = time.monotonic()
    ecs.update_service(cluster=cluster, service=service, taskDefinition=new)
    try:
        while time.monotonic() - began < 900:
            answers = set()
            for _ in range(10):
                with urllib.request.urlopen(url + "/health", timeout=10) as response:
                    answers.add(json.loads(response.read()).get("release"))
            deployments = ecs.describe_services(cluster=cluster, services=[service])["services"][0]["deployments"]
            if answers == {release} and len(deployments) == 1:
                return time.monotonic() - began
            time.sleep(0.5)
        raise RuntimeError("the new release was not served everywhere within 900 s")
    finally:
        ecs.update_service(cluster=cluster, service=service, taskDefinition=current)


def main() -> int:
    """Run the measurements and print medians over runs."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(REPO / "dsplatform.yml"))
    parser.add_argument("--env", default="dev")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--deploy", action="store_true", help="also time a rolling deploy to serving")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    url, cluster, service, clients = _target(args.config, args.env)
    direct = _task_url(clients, cluster, service)
    runs = [{**latency(url, direct, args.requests), "rps": throughput(url, args.concurrency, args.seconds),
             **transform(url, direct, args.requests), "load_average_1m": os.getloadavg()[0]}
            for _ in range(args.runs)]
    medians = {key: round(statistics.median(r[key] for r in runs), 3) for key in runs[0]}
    if args.deploy:
        medians["deploy_to_serving_s"] = round(deploy_to_serving(url, clients, cluster, service), 1)
    if args.json:
        print(json.dumps(medians, indent=2))
    else:
        for key, value in medians.items():
            print(f"{key:22} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
