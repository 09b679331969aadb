"""Deployer benchmark against LocalStack (or any CloudFormation endpoint): medians and same-run ratios.

Measures, each on fresh environments (a new simulated account per run, so every cold deploy is cold;
each new account gets one read per service first, see touch_account):
  1. cold deploy of the whole platform, parallel plan vs the same stacks one after another (target <= 0.7x);
  2. cold deploy vs the engine floor: raw create_stack calls started as soon as their dependencies finish,
     waited on with a 0.05 s waiter (the slowest chain of raw creates; target <= 1.3x);
  3. a no-op `invoke deploy` of the whole environment as a subprocess (target <= 2 s) vs aws-cli
     `cloudformation deploy` doing the same no-op stack by stack.

Usage: python bench/deploy_bench.py [--endpoint-url URL] [--runs N] [--skip-aws-cli] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dsplatform.deployer import ClientFactory, DeployOptions, deploy, destroy  # noqa: E402
from dsplatform.deployer.graph import Graph, run_graph  # noqa: E402
from dsplatform.deployer.inventory import deployed_stacks, stack_outputs  # noqa: E402
from dsplatform.deployer.params import cfn_parameters, resolve_parameters, template_body  # noqa: E402
from dsplatform.deployer.stack import CAPABILITIES  # noqa: E402
from dsplatform.stackspec import Plan  # noqa: E402
from dsplatform.synth import build_plan  # noqa: E402


class Environments:
    """Fresh environments (name, account) written into one config file derived from the repo's."""

    def __init__(self, endpoint: str, base_env: str, workdir: Path) -> None:
        self.endpoint, self.workdir = endpoint, workdir
        self.base = yaml.safe_load((REPO / "dsplatform.yml").read_text())
        self.settings = (self.base["environments"].get(base_env) or {}).get("settings", {})
        self.made: list[Plan] = []

    def fresh(self) -> tuple[Plan, str, str]:
        """A new environment's plan, its config path and its name."""
        account = f"6{random.randrange(10**10, 10**11)}"
        name = f"b{account[-6:]}"
        doc = {k: v for k, v in self.base.items() if k != "environments"}
        doc["localstack"] = {"endpoint_url": self.endpoint}
        doc["environments"] = {
            name: {"account_id": account, "region": "us-east-1", "target": "localstack", "settings": self.settings}
        }
        path = self.workdir / f"{name}.yml"
        path.write_text(yaml.safe_dump(doc))
        plan = build_plan(name, str(path))
        self.made.append(plan)
        touch_account(plan)
        return plan, str(path), name


def touch_account(plan: Plan) -> None:
    """One read per service the deployer uses, before any clock starts, for every fresh account alike.

    LocalStack sets up each service of a new account on first use (the first SSM call in a fresh
    account took 0.35 s here); a real environment's account already exists, so that is not deploy time.
    """
    clients = ClientFactory(plan.target)
    clients.client("sts").get_caller_identity()
    clients.client("ssm").describe_parameters(MaxResults=1)
    clients.client("cloudformation").describe_stacks()


def timed_deploy(plan: Plan, concurrency: int, poll: float | None) -> float:
    """Wall time of deploy() (account check and lock included); raises if any stack failed.

    Clients are built before the clock starts, as engine_floor does: both measure engine work, not
    botocore loading its service models (the no-op figure times the whole command, loading included).
    """
    clients = ClientFactory(plan.target)
    for service in ("sts", "ssm", "cloudformation"):
        clients.client(service)
    t0 = time.perf_counter()
    result = deploy(plan, clients, DeployOptions(concurrency=concurrency, poll_delay=poll))
    elapsed = time.perf_counter() - t0
    result.raise_for_failure()
    return elapsed


def engine_floor(plan: Plan, concurrency: int | None = None) -> tuple[float, float]:
    """Raw create_stack per stack as soon as its dependencies are done, no change sets, no checks.

    ``concurrency=1`` gives the raw sequential time: how much the engine itself gains from parallelism.

    Returns (wall time, slowest dependency chain of the measured per-stack create times).
    """
    clients = ClientFactory(plan.target)
    cfn = clients.client("cloudformation")
    outputs: dict[str, dict[str, str]] = {}
    took: dict[str, float] = {}
    guard = threading.Lock()

    def work(name: str) -> bool:
        spec = plan.stack(name)
        with guard:
            params = resolve_parameters(spec, outputs)
        t0 = time.perf_counter()
        cfn.create_stack(
            StackName=name,
            TemplateBody=template_body(spec),
            Parameters=cfn_parameters(params),
            Capabilities=CAPABILITIES,
        )
        cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 6000})
        took[name] = time.perf_counter() - t0
        desc = cfn.describe_stacks(StackName=name)["Stacks"][0]
        with guard:
            outputs[name] = stack_outputs(desc)
        return True

    graph = Graph.for_deploy(plan)
    t0 = time.perf_counter()
    run_graph(graph, work, concurrency=concurrency or len(graph.nodes), on_blocked=lambda n, d: None)
    wall = time.perf_counter() - t0
    chain: dict[str, float] = {}
    for name in graph.order():
        chain[name] = took[name] + max((chain[d] for d in graph.after[name]), default=0.0)
    return wall, max(chain.values())


def invoke_command(env: str, config: str) -> list[str]:
    """`invoke deploy` through the repo's tasks.py, or through the deploy tasks alone if it is not there yet."""
    invoke = str(Path(sys.executable).with_name("invoke"))
    if (REPO / "tasks.py").exists():
        return [invoke, "-r", str(REPO), "deploy", "--env", env, "--config", config]
    shim = Path(tempfile.mkdtemp(prefix="bench-tasks-"))
    (shim / "tasks.py").write_text("from dsplatform.tasks.deploy_tasks import ns  # noqa: F401\n")
    return [invoke, "-r", str(shim), "deploy", "--env", env, "--config", config]


def timed_command(cmd: list[str], env: dict[str, str]) -> float:
    """Wall time of a subprocess that must succeed."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO, check=False)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(
            f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
        )
    return elapsed


def aws_cli_noop(plan: Plan, aws: str, endpoint: str, workdir: Path) -> float:
    """aws-cli `cloudformation deploy` of every stack in order, same template, parameters and tags: a no-op."""
    clients = ClientFactory(plan.target)
    current = deployed_stacks(clients.client("cloudformation"), [s.name for s in plan.stacks])
    outputs = {n: stack_outputs(d) for n, d in current.items()}
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": plan.target.account_id,
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": plan.target.region,
    }
    total = 0.0
    for name in Graph.for_deploy(plan).order():
        spec = plan.stack(name)
        tpl = workdir / f"{name}.json"
        tpl.write_text(template_body(spec))
        params = [f"{k}={v}" for k, v in resolve_parameters(spec, outputs).items()]
        tags = [f"{t['Key']}={t['Value']}" for t in current[name].get("Tags", [])]
        cmd = [
            aws,
            "--endpoint-url",
            endpoint,
            "cloudformation",
            "deploy",
            "--stack-name",
            name,
            "--template-file",
            str(tpl),
            "--capabilities",
            *CAPABILITIES,
            "--no-fail-on-empty-changeset",
        ]
        if params:
            cmd += ["--parameter-overrides", *params]
        if tags:
            cmd += ["--tags", *tags]
        total += timed_command(cmd, env)
    return total


def main() -> None:
    """Run the benchmark and print medians and ratios."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint-url", default=os.environ.get("DSPLATFORM_LOCALSTACK_URL", "http://127.0.0.1:4566"))
    ap.add_argument("--runs", type=int, default=3, help="runs per measurement (median reported)")
    ap.add_argument("--base-env", default="dev", help="environment whose settings the fresh environments copy")
    ap.add_argument("--poll-delay", type=float, default=None, help="deployer waiter delay (default: its own)")
    ap.add_argument("--skip-aws-cli", action="store_true", help="do not measure the aws-cli baseline")
    ap.add_argument("--no-cleanup", action="store_true", help="leave the benchmark environments deployed")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    os.environ["DSPLATFORM_LOCALSTACK_URL"] = args.endpoint_url
    workdir = Path(tempfile.mkdtemp(prefix="deploy-bench-"))
    envs = Environments(args.endpoint_url, args.base_env, workdir)
    log = (lambda *a: None) if args.json else (lambda *a: print(*a, file=sys.stderr, flush=True))

    # Warm LocalStack's lazily loaded services once, outside the measurements.
    warm, _, _ = envs.fresh()
    log("warm-up deploy ...")
    timed_deploy(warm, 4, args.poll_delay)

    par, seq, floor, chain, raw_seq = [], [], [], [], []
    for i in range(args.runs):  # interleaved, so drift in LocalStack's speed hits all three alike
        par.append(timed_deploy(envs.fresh()[0], 4, args.poll_delay))
        seq.append(timed_deploy(envs.fresh()[0], 1, args.poll_delay))
        wall, crit = engine_floor(envs.fresh()[0])
        floor.append(wall)
        chain.append(crit)
        raw_seq.append(engine_floor(envs.fresh()[0], concurrency=1)[0])
        log(
            f"run {i + 1}: parallel {par[-1]:.2f}s, sequential {seq[-1]:.2f}s, floor {floor[-1]:.2f}s "
            f"(chain {crit:.2f}s), raw sequential {raw_seq[-1]:.2f}s"
        )

    plan, config, name = envs.fresh()
    timed_deploy(plan, 4, args.poll_delay)
    sub_env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = invoke_command(name, config)
    noop = [timed_command(cmd, sub_env) for _ in range(args.runs)]
    log(f"no-op invoke deploy: {', '.join(f'{t:.2f}s' for t in noop)}")
    aws = shutil.which("aws")
    cli: list[float] = []
    if not args.skip_aws_cli and aws:
        cli = [aws_cli_noop(plan, aws, args.endpoint_url, workdir) for _ in range(args.runs)]
        log(f"no-op aws-cli deploy: {', '.join(f'{t:.2f}s' for t in cli)}")
    med = statistics.median
    figures: dict[str, Any] = {
        "runs": args.runs,
        "stacks": len(plan.stacks),
        "cold_parallel_s": med(par),
        "cold_sequential_s": med(seq),
        "parallel_vs_sequential": med(par) / med(seq),
        "engine_floor_s": med(floor),
        "engine_floor_chain_s": med(chain),
        "cold_vs_floor": med(par) / med(floor),
        "raw_sequential_s": med(raw_seq),
        "engine_parallel_gain": med(floor) / med(raw_seq),
        "noop_invoke_s": med(noop),
        "noop_aws_cli_s": med(cli) if cli else None,
        "noop_vs_aws_cli": med(noop) / med(cli) if cli else None,
    }
    if not args.no_cleanup:
        failed = sum(0 if destroy(p, ClientFactory(p.target), purge_data=True).ok else 1 for p in envs.made)
        figures["cleanup_failures"] = failed
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{figures['stacks']} stacks, medians of {args.runs} runs")
    print(f"cold deploy, parallel     {figures['cold_parallel_s']:7.2f} s")
    print(
        f"cold deploy, sequential   {figures['cold_sequential_s']:7.2f} s   "
        f"ratio {figures['parallel_vs_sequential']:.2f} (target <= 0.70)"
    )
    print(
        f"engine floor (raw creates){figures['engine_floor_s']:7.2f} s   cold/floor {figures['cold_vs_floor']:.2f} "
        f"(target <= 1.30); slowest chain {figures['engine_floor_chain_s']:.2f} s"
    )
    print(
        f"raw creates, sequential   {figures['raw_sequential_s']:7.2f} s   engine's own parallel/sequential "
        f"{figures['engine_parallel_gain']:.2f} (the best any deployer can do here)"
    )
    print(f"no-op `invoke deploy`     {figures['noop_invoke_s']:7.2f} s   (target <= 2.00)")
    if cli:
        print(f"no-op aws-cli deploy      {figures['noop_aws_cli_s']:7.2f} s   ratio {figures['noop_vs_aws_cli']:.2f}")
    else:
        print("no-op aws-cli deploy      skipped (no `aws` on PATH or --skip-aws-cli)")
    if "cleanup_failures" in figures:
        print(f"cleanup: {figures['cleanup_failures']} environment(s) not fully destroyed")


if __name__ == "__main__":
    main()
