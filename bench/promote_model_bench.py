"""Benchmark: time from `invoke model.promote` to the prod endpoint serving, against a plain deploy of the same stacks.

Needs a LocalStack at $DSPLATFORM_LOCALSTACK_URL (its project root this repository) and the registry venv built
(the LocalStack tests do both). Setup, once: a stg environment (storage, parameters, serving) with the sample
model fitted, registered and staged in a registry of its own, and its serving scenarios passed and recorded (the
evidence). Then N times, each into a fresh prod account: ``promote_model`` (gate, copy, deploy, smoke test) with
its ``seconds_to_serving``, and, as the baseline in another fresh account, the same prod stacks deployed by
``dsplatform.lifecycle.deployment`` with the model copied first and no gate nor smoke test.
Run: ``.venv/bin/python bench/promote_model_bench.py [--n 3]``.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROJECT = "pb"
_CLEANUP: list[Any] = []  # undo steps (the registry server, the endpoints' replicas)


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _account() -> str:
    account = f"6{random.randrange(10**10, 10**11)}"
    _CLEANUP.append(lambda: _delete_endpoints(account))
    return account


def _delete_endpoints(account: str) -> None:
    """Stop the account's endpoint replicas (local processes); the stacks stay in the throwaway account."""
    import boto3

    sagemaker = boto3.client("sagemaker", endpoint_url=os.environ.get("DSPLATFORM_LOCALSTACK_URL"),
                             region_name="us-east-1", aws_access_key_id=account, aws_secret_access_key="test")
    for endpoint in sagemaker.list_endpoints()["Endpoints"]:
        sagemaker.delete_endpoint(EndpointName=endpoint["EndpointName"])


def _config(path: Path, url: str, stg: str, prod: str, serving: dict[str, Any] | None) -> str:
    base = yaml.safe_load((ROOT / "dsplatform.yml").read_text())
    doc: dict[str, Any] = {"project": {"name": PROJECT}, "localstack": {"endpoint_url": url},
                           "defaults": base["defaults"], "environments": {
                               "bstg": {"account_id": stg, "target": "localstack", "settings": {}},
                               "bprod": {"account_id": prod, "target": "localstack", "protected": True,
                                         "settings": {}}}}
    if serving:
        doc["components"] = {"plugins": ["serving"]}  # it brings serving-registry
        for env in ("bstg", "bprod"):
            doc["environments"][env]["settings"]["serving"] = serving
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(path)


def _stg(folder: Path, url: str, stg: str) -> tuple[dict[str, Any], Any]:
    """stg with a staged model and serving, its scenarios passed and recorded; (serving settings, clients)."""
    from dsplatform.config import load_config
    from dsplatform.deployer import ClientFactory, DeployOptions, deploy
    from dsplatform.lifecycle import caller_of, deployment
    from dsplatform.localstack import LocalStackSettings, register_image_sources
    from dsplatform.localstack.imagesources import plan_image_sources
    from dsplatform.registry import registry_uri
    from dsplatform.registry.environment import local_settings
    from dsplatform.registry.models import fit, register, sample_training_csv, stage
    from dsplatform.registry.server import start, stop
    from dsplatform.synth import build_plan
    from dsplatform.workflows.e2e import write_record
    from dsplatform.workflows.scenarios import run_scenarios

    base_path = _config(folder / "base.yml", url, stg, _account(), None)
    base = build_plan("bstg", base_path).select(["parameters"])
    clients = ClientFactory(base.target)
    deploy(base, clients, DeployOptions()).raise_for_failure()
    registry = local_settings(base, clients)
    start(registry)
    _CLEANUP.append(lambda: stop(registry))
    uri = registry_uri(load_config(base_path).environment("bstg"))
    run_id = fit(uri, sample_training_csv(1500, 0), experiment=f"{PROJECT}-model").run_id
    staged = stage(base, clients, uri, f"{PROJECT}-model", register(uri, run_id, f"{PROJECT}-model"))
    serving = {"model_version": staged.version, "model_sha256": staged.sha256}
    config = _config(folder / "stg.yml", url, stg, _account(), serving)
    plan = build_plan("bstg", config, None, ["serving", "parameters"])
    register_image_sources(LocalStackSettings(port=int(url.rsplit(":", 1)[1]), project_root=ROOT),
                           plan_image_sources(plan))
    with deployment(plan, clients, keep=True) as dep:
        run = run_scenarios(plan, config, folder / "reports", stream=False)
        if not run.ok:
            raise SystemExit(f"stg serving scenarios failed: {run.failed}")
        write_record(dep, run, caller_of(clients), config)
    return serving, clients


def _baseline(folder: Path, url: str, stg: str, serving: dict[str, Any], stg_clients: Any) -> float:
    """Seconds for the same prod stacks by a plain deployment (model copied first), endpoint InService."""
    from blueprints.storage import StorageOutputs
    from dsplatform.deployer import ClientFactory, DeployOptions, deploy, read_deployed
    from dsplatform.lifecycle import deployment
    from dsplatform.synth import build_plan
    from dsplatform.workflows.promotion.model import served_model
    from dsplatform.workflows.promotion.model_deploy import copy_artifact

    config = _config(folder / f"base-{time.monotonic_ns()}.yml", url, stg, _account(), serving)
    plan = build_plan("bprod", config, None, ["serving", "parameters"])
    source = served_model(read_deployed(build_plan("bstg", config, None, ["serving"]), stg_clients), stg_clients)
    began = time.monotonic()
    clients = ClientFactory(plan.target)
    storage = plan.select(["storage"])
    deploy(storage, clients, DeployOptions()).raise_for_failure()
    copy_artifact(stg_clients.client("s3"), source, clients.client("s3"),  # type: ignore[arg-type]
                  read_deployed(storage, clients).get(StorageOutputs).artifact_bucket_name)
    with deployment(plan, clients, keep=True):
        return time.monotonic() - began


def main() -> int:
    """Set up stg once, then promote into N fresh prod accounts and deploy N baselines; print medians."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=3)
    args = parser.parse_args()
    from dsplatform.workflows import e2e
    from dsplatform.workflows.promotion.model import promote_model

    url = os.environ.get("DSPLATFORM_LOCALSTACK_URL", "http://127.0.0.1:4566")
    os.environ["DSPLATFORM_REGISTRY_URL"] = f"http://127.0.0.1:{_port()}"
    e2e.ensure_localstack = lambda plan: True  # type: ignore[assignment]  # the running instance is used as it is
    stg = _account()
    try:
        return _run(args.n, url, stg, promote_model)
    finally:
        for undo in reversed(_CLEANUP):
            undo()


def _run(n: int, url: str, stg: str, promote_model: Any) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        began = time.monotonic()
        serving, stg_clients = _stg(folder, url, stg)
        print(f"setup (stg deploy, model staged, scenarios passed): {time.monotonic() - began:.1f} s")
        promoted, plain = [], []
        for i in range(n):
            config = _config(folder / f"prod-{i}.yml", url, stg, _account(), serving)
            promoted.append(promote_model("bstg", "bprod", yes=True, config_path=config).seconds_to_serving)
            plain.append(_baseline(folder, url, stg, serving, stg_clients))
            print(f"run {i + 1}: model.promote {promoted[-1]:.1f} s, plain deploy {plain[-1]:.1f} s")
    median, baseline = statistics.median(promoted), statistics.median(plain)
    print(f"model.promote to prod serving, median of {n}: {median:.1f} s; plain deploy of the same stacks: "
          f"{baseline:.1f} s; ratio {median / baseline:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
