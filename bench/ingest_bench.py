"""Benchmark: the ingest component on LocalStack (medians, same-run ratios).

On a fresh environment (its own simulated account) with the whole stock platform deployed:
  1. invoke latency of the function on LocalStack: cold (a new execution environment: the function's
     configuration is changed before each call) and warm, against a bare in-process call of the same handler
     against the same LocalStack (the floor: the handler's own work and its AWS calls);
  2. catalogue throughput: files per second for --files small files put under raw/ at once, until every
     item is in the catalogue;
  3. a no-op deploy of the whole environment with the ingest component (in-process ``deploy()``, and
     ``invoke deploy`` as a subprocess), target <= 1 s for the former.
The environment is destroyed afterwards (data purged).

Usage: DSPLATFORM_LOCALSTACK_URL=http://127.0.0.1:4566 .venv/bin/python bench/ingest_bench.py [--runs 7] [--files 200]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "functions" / "ingest"))

from dsplatform.deployer import ClientFactory, deploy, destroy  # noqa: E402
from dsplatform.synth import build_plan  # noqa: E402

CSV = b"id,event_date,amount,quantity,category,region,description\n1,2026-01-15,9.5,1,toys,west,ok\n"


def _config(endpoint: str, workdir: Path) -> tuple[str, str, str]:
    base = yaml.safe_load((REPO / "dsplatform.yml").read_text())
    account = f"7{random.randrange(10**10, 10**11)}"
    name = f"i{account[-6:]}"
    doc = {k: v for k, v in base.items() if k != "environments"}
    doc["localstack"] = {"endpoint_url": endpoint}
    doc["environments"] = {
        name: {
            "account_id": account,
            "region": "us-east-1",
            "target": "localstack",
            "settings": base["environments"]["dev"].get("settings", {}),
        }
    }
    path = workdir / "dsplatform.yml"
    path.write_text(yaml.safe_dump(doc))
    return str(path), name, account


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--files", type=int, default=200)
    args = parser.parse_args()
    endpoint = os.environ.get("DSPLATFORM_LOCALSTACK_URL", "http://127.0.0.1:4566")
    with tempfile.TemporaryDirectory() as tmp:
        config, env, _ = _config(endpoint, Path(tmp))
        plan = build_plan(env, config)
        clients = ClientFactory(plan.target)
        started = time.perf_counter()
        deploy(plan, clients).raise_for_failure()
        cold_deploy = time.perf_counter() - started
        try:
            report = _measure(plan, clients, config, env, args)
        finally:
            destroy(plan, clients, purge_data=True)
    report["cold deploy (s)"] = round(cold_deploy, 1)
    print(json.dumps(report, indent=2))


def _measure(plan: Any, clients: ClientFactory, config: str, env: str, args: argparse.Namespace) -> dict[str, Any]:
    stacks = {plan.stack(name).component: result for name, result in deploy(plan, clients).stacks.items()}
    ingest, input_bucket = stacks["ingest"].outputs, stacks["storage"].outputs["InputBucketName"]
    lam, s3, ddb = clients.client("lambda"), clients.client("s3"), clients.client("dynamodb")
    status_fn, table = ingest["StatusFunctionName"], ingest["CatalogueTableName"]
    machine = stacks["orchestration"].outputs["StateMachineArn"]
    # An outcome for a file never catalogued: one conditional UpdateItem, refused (the handler's real AWS work).
    detail = {
        "stateMachineArn": machine,
        "name": "bench",
        "status": "SUCCEEDED",
        "input": json.dumps({"run_id": "bench", "input_key": "raw/never.csv"}),
    }
    event = json.dumps({"detail": detail}).encode()
    variables = lam.get_function_configuration(FunctionName=status_fn)["Environment"]["Variables"]

    cold, warm = [], []
    for i in range(args.runs):
        lam.update_function_configuration(
            FunctionName=status_fn, Environment={"Variables": {**variables, "BENCH": str(i)}}
        )
        lam.get_waiter("function_updated_v2").wait(FunctionName=status_fn, WaiterConfig={"Delay": 0.2})
        t0 = time.perf_counter()
        response = lam.invoke(FunctionName=status_fn, Payload=event)
        assert "FunctionError" not in response and b"skipped" in response["Payload"].read(), response
        cold.append(time.perf_counter() - t0)
        for _ in range(3):
            t0 = time.perf_counter()
            lam.invoke(FunctionName=status_fn, Payload=event)
            warm.append(time.perf_counter() - t0)

    # The bare call: the same handler in this process, its clients pointed at the same LocalStack.
    os.environ.update(
        {
            "CATALOGUE_TABLE": table,
            "TRIGGER": "schedule",
            "AWS_ENDPOINT_URL": clients.endpoint_url or "",
            "AWS_ACCESS_KEY_ID": plan.target.account_id,
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": plan.target.region,
            "PIPELINE_STATE_MACHINE_ARN": "",
        }
    )
    from ds_ingest import handler

    handler._aws.cache_clear()
    assert handler.on_execution_status(json.loads(event), None)["outcome"] == "skipped"  # creates the clients
    bare = []
    for _ in range(args.runs * 3):
        t0 = time.perf_counter()
        handler.on_execution_status(json.loads(event), None)
        bare.append(time.perf_counter() - t0)

    prefix = f"raw/bench-{int(time.time())}/"
    t0 = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        list(
            pool.map(
                lambda i: s3.put_object(Bucket=input_bucket, Key=f"{prefix}{i:04d}.csv", Body=CSV), range(args.files)
            )
        )
    count = 0
    while time.perf_counter() - t0 < 600:
        count = ddb.scan(
            TableName=table,
            Select="COUNT",
            FilterExpression="begins_with(object_key, :p)",
            ExpressionAttributeValues={":p": {"S": prefix}},
            ConsistentRead=True,
        )["Count"]
        if count >= args.files:
            break
        time.sleep(0.2)
    elapsed = time.perf_counter() - t0

    noop = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        result = deploy(plan, clients)
        noop.append(time.perf_counter() - t0)
        assert all(r.outcome.name == "UNCHANGED" for r in result.stacks.values()), result.stacks
    task = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run(
            [str(Path(sys.executable).parent / "invoke"), "deploy", "--env", env, "--config", config],
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        task.append(time.perf_counter() - t0)
    return {
        "invoke cold median (ms)": round(_median_ms(cold), 1),
        "invoke warm median (ms)": round(_median_ms(warm), 1),
        "bare handler call median (ms)": round(_median_ms(bare), 2),
        "warm / bare": round(statistics.median(warm) / statistics.median(bare), 1),
        "cold / warm": round(statistics.median(cold) / statistics.median(warm), 1),
        f"catalogue throughput, {args.files} files (files/s)": round(count / elapsed, 1),
        "catalogued": count,
        "no-op deploy() median (s)": round(statistics.median(noop), 3),
        "no-op `invoke deploy` median (s)": round(statistics.median(task), 2),
        "stacks": len(plan.stacks),
    }


if __name__ == "__main__":
    main()
