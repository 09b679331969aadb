"""Benchmark: LocalStack time to healthy (venv built), first install, and process exit -> runTask.sync done.

Medians of N runs, each with a baseline measured in the same run:
- start: a fresh instance on a spare port to health, vs the bare `import localstack.runtime.main` in
  LocalStack's venv (the floor: interpreter + imports, no services). Target <= 15 s.
- runTask.sync: a state machine's task process prints its exit time; the delay is the execution's stopDate
  minus that time, vs a one-Pass-state execution's own duration (Step Functions' floor). Target <= 2 s.
- first install (only with --first-install): LocalStack's venv built into an empty cache folder.
Run: ``.venv/bin/python bench/localstack_bench.py [--runs 5] [--first-install]``.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dsplatform.localstack import LocalStackSettings, health, start, stop  # noqa: E402
from dsplatform.localstack.venv import ensure_venv, venv_dir  # noqa: E402

ACCOUNT = "999999999999"
EXIT_SCRIPT = "import time; print('EXIT_AT', repr(time.time()), flush=True)"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_start(runs: int) -> tuple[float, float]:
    """Median seconds to healthy on a spare port (venv already built), and the bare-import baseline."""
    settings = LocalStackSettings(port=_free_port())
    python = ensure_venv(settings) / "bin" / "python"
    starts, imports = [], []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run([str(python), "-c", "import localstack.runtime.main"], check=True, cwd=tempfile.gettempdir())
        imports.append(time.perf_counter() - began)
        settings = LocalStackSettings(port=_free_port())
        began = time.perf_counter()
        start(settings)
        starts.append(time.perf_counter() - began)
        stop(settings)
    return statistics.median(starts), statistics.median(imports)


def _clients(endpoint: str) -> dict[str, object]:
    import boto3

    kw = {
        "endpoint_url": endpoint,
        "region_name": "us-east-1",
        "aws_access_key_id": ACCOUNT,
        "aws_secret_access_key": "test",
    }
    return {name: boto3.client(name, **kw) for name in ("ecs", "ec2", "stepfunctions", "logs", "iam")}


def _finished(sfn: object, arn: str) -> dict[str, object]:
    from botocore.waiter import WaiterModel, create_waiter_with_client

    model = WaiterModel(
        {
            "version": 2,
            "waiters": {
                "Done": {
                    "operation": "DescribeExecution",
                    "delay": 0.2,
                    "maxAttempts": 600,
                    "acceptors": [
                        {"state": "success", "matcher": "path", "argument": "status", "expected": s}
                        for s in ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
                    ],
                }
            },
        }
    )
    create_waiter_with_client("Done", model, sfn).wait(executionArn=arn)
    return sfn.describe_execution(executionArn=arn)  # type: ignore[attr-defined, no-any-return]


def bench_runtask_sync(endpoint: str, runs: int) -> tuple[float, float]:
    """Median delay from the task process's exit to the execution's stop, and a Pass-only execution's duration."""
    c = _clients(endpoint)
    ecs, ec2, sfn, logs = c["ecs"], c["ec2"], c["stepfunctions"], c["logs"]
    name = f"bench-{uuid.uuid4().hex[:8]}"
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]  # type: ignore[attr-defined]
    group = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]["GroupId"]  # type: ignore[attr-defined]
    cluster = ecs.create_cluster(clusterName=name)["cluster"]["clusterArn"]  # type: ignore[attr-defined]
    logs.create_log_group(logGroupName=f"/bench/{name}")  # type: ignore[attr-defined]
    task_def = ecs.register_task_definition(  # type: ignore[attr-defined]
        family=name,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {
                "name": "job",
                "image": "python:3.11-slim",
                "command": ["python", "-c", EXIT_SCRIPT],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": f"/bench/{name}",
                        "awslogs-region": "us-east-1",
                        "awslogs-stream-prefix": "b",
                    },
                },
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    role = f"arn:aws:iam::{ACCOUNT}:role/bench"
    run_task = {
        "StartAt": "Run",
        "States": {
            "Run": {
                "Type": "Task",
                "Resource": "arn:aws:states:::ecs:runTask.sync",
                "End": True,
                "Parameters": {
                    "Cluster": cluster,
                    "TaskDefinition": task_def,
                    "LaunchType": "FARGATE",
                    "NetworkConfiguration": {"AwsvpcConfiguration": {"Subnets": [subnet], "SecurityGroups": [group]}},
                },
            }
        },
    }
    pass_only = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    sm_task = sfn.create_state_machine(name=name, definition=json.dumps(run_task), roleArn=role)["stateMachineArn"]  # type: ignore[attr-defined]
    sm_pass = sfn.create_state_machine(name=f"{name}-p", definition=json.dumps(pass_only), roleArn=role)[
        "stateMachineArn"
    ]  # type: ignore[attr-defined]
    delays, floors = [], []
    for _ in range(runs):
        execution = _finished(sfn, sfn.start_execution(stateMachineArn=sm_task)["executionArn"])  # type: ignore[attr-defined]
        output = json.loads(str(execution["output"]))
        task_id = output["TaskArn"].rsplit("/", 1)[-1]
        events = logs.get_log_events(logGroupName=f"/bench/{name}", logStreamName=f"b/job/{task_id}")["events"]  # type: ignore[attr-defined]
        exit_at = float(next(e["message"].split()[1] for e in events if e["message"].startswith("EXIT_AT")))
        delays.append(execution["stopDate"].timestamp() - exit_at)  # type: ignore[attr-defined]
        floor = _finished(sfn, sfn.start_execution(stateMachineArn=sm_pass)["executionArn"])  # type: ignore[attr-defined]
        floors.append((floor["stopDate"] - floor["startDate"]).total_seconds())  # type: ignore[operator]
    return statistics.median(delays), statistics.median(floors)


def bench_first_install() -> float:
    """Seconds to build LocalStack's venv (pinned install + extension) into an empty cache folder."""
    with tempfile.TemporaryDirectory(prefix="dsplatform-bench-") as cache:
        settings = LocalStackSettings(cache=Path(cache))
        began = time.perf_counter()
        ensure_venv(settings)
        elapsed = time.perf_counter() - began
        assert venv_dir(settings).exists()
    return elapsed


def main() -> None:
    """Run the benchmarks and print medians, baselines and ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--first-install", action="store_true", help="also time a fresh venv build (~1-2 min)")
    args = parser.parse_args()

    healthy, bare = bench_start(args.runs)
    print(
        f"time to healthy (venv built): median {healthy:.2f}s over {args.runs} runs"
        f" | bare import {bare:.2f}s | ratio {healthy / bare:.1f}x"
        f" | target <= 15s: {'ok' if healthy <= 15 else 'MISSED'}"
    )

    settings = LocalStackSettings(port=_free_port())
    inst = start(settings)
    try:
        assert health(inst.endpoint_url) is not None
        delay, floor = bench_runtask_sync(inst.endpoint_url, args.runs)
    finally:
        stop(settings)
    print(
        f"process exit -> runTask.sync done: median {delay:.2f}s over {args.runs} runs"
        f" | Pass-only execution {floor:.2f}s | ratio {delay / max(floor, 1e-3):.1f}x"
        f" | target <= 2s: {'ok' if delay <= 2 else 'MISSED'}"
    )

    if args.first_install:
        print(f"first install (pinned LocalStack + extension into an empty cache): {bench_first_install():.1f}s")


if __name__ == "__main__":
    main()
