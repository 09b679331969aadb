"""Rollback benchmark on LocalStack: rolling the whole environment back to a release vs a fresh deploy of that
release from source, in the same run (issue target: rollback at most half of it, and under 10 s).

Each run makes a fresh environment (its own simulated account) of a copy of the project ("rbb"), records
release 1, deploys release 2 (a changed job image and a changed alarm threshold), then times
`dsplatform.workflows.rollback.rollback` back to release 1 (its stages: image tags, deploy of the recorded
templates, smoke scenario) and, beside it, a cold deploy plus image push of release 1's source into another
fresh environment. Medians over --runs; the ratio compares the restore (tags + deploy) and the whole rollback
(with its smoke scenario) to the fresh deploy.

Usage: python bench/rollback_bench.py --endpoint-url http://127.0.0.1:4566 [--runs 3] [--json]
(start LocalStack first: `invoke localstack.start`).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dsplatform.deployer import ClientFactory, destroy  # noqa: E402
from dsplatform.lifecycle import deployment  # noqa: E402
from dsplatform.localstack import LocalStackSettings, register_image_sources  # noqa: E402
from dsplatform.releases import add_event  # noqa: E402
from dsplatform.synth import build_plan  # noqa: E402
from dsplatform.workflows.rollback import rollback  # noqa: E402


def _project(work: Path, endpoint: str, threshold: int) -> tuple[str, str]:
    base = yaml.safe_load((REPO / "dsplatform.yml").read_text())
    account = f"6{random.randrange(10**10, 10**11)}"
    env = f"r{account[-6:]}"
    doc = {"project": {"name": "rbb"}, "localstack": {"endpoint_url": endpoint}, "defaults": base["defaults"],
           "environments": {env: {"account_id": account, "target": "localstack",
                                  "settings": {"alarms": {"failed_threshold": threshold}}}}}
    path = work / f"{env}.yml"
    path.write_text(yaml.safe_dump(doc))
    return str(path), env


def _register(plan: Any) -> None:
    port = int(plan.target.endpoint_url.rsplit(":", 1)[1])
    register_image_sources(LocalStackSettings(port=port, project_root=REPO),
                           {image.repository: image.source for image in plan.images})


def one_run(endpoint: str, work: Path) -> dict[str, float]:
    """One rollback and one fresh deploy; seconds of each."""
    job = work / "containers" / "preprocessing"
    shutil.rmtree(job, ignore_errors=True)
    shutil.copytree(REPO / "containers" / "preprocessing", job,
                    ignore=shutil.ignore_patterns("tests", "__pycache__", "*.egg-info"))
    config, env = _project(work, endpoint, 1)
    plan = build_plan(env, config)
    clients = ClientFactory(plan.target)
    _register(plan)
    made = [plan]
    try:
        with deployment(plan, clients, keep=True) as dep:
            add_event(clients, dep.release_bucket, dep.release, "smoke-passed", "bench: release 1")
        main = job / "ds_preprocessing" / "__main__.py"
        main.write_text(main.read_text() + "\n# release 2\n")
        second = Path(config).read_text().replace("failed_threshold: 1", "failed_threshold: 3")
        Path(config).write_text(second)
        with deployment(build_plan(env, config), clients, keep=True) as dep:
            add_event(clients, dep.release_bucket, dep.release, "smoke-failed", "bench: release 2")
        began = time.monotonic()
        result = rollback(env, config_path=config, clients=clients)
        total = time.monotonic() - began
        assert result.ok, result

        main.write_text(main.read_text().replace("\n# release 2\n", ""))  # release 1's source again
        fresh_config, fresh_env = _project(work, endpoint, 1)
        fresh = build_plan(fresh_env, fresh_config)
        made.append(fresh)
        _register(fresh)
        began = time.monotonic()
        with deployment(fresh, ClientFactory(fresh.target), keep=True):
            pass
        cold = time.monotonic() - began
    finally:
        for each in made:
            destroy(each, ClientFactory(each.target), purge_data=True)
    restore = result.seconds["images"] + result.seconds["deploy"]
    return {"rollback_restore": restore, "rollback_total": total, "rollback_smoke": result.seconds["smoke"],
            "fresh_deploy": cold}


def main() -> int:
    """Run the benchmark and print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--endpoint-url", default=os.environ.get("DSPLATFORM_LOCALSTACK_URL", "http://127.0.0.1:4566"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ["DSPLATFORM_LOCALSTACK_URL"] = args.endpoint_url
    runs = []
    with tempfile.TemporaryDirectory(prefix="rollback-bench-") as tmp:
        for _ in range(args.runs):
            runs.append(one_run(args.endpoint_url, Path(tmp)))
    med = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    med["restore_vs_fresh"] = med["rollback_restore"] / med["fresh_deploy"]
    med["total_vs_fresh"] = med["rollback_total"] / med["fresh_deploy"]
    if args.json:
        print(json.dumps({"runs": runs, "median": med}, indent=2))
    else:
        print(f"runs: {args.runs} (medians)")
        print(f"rollback, restore (tags + deploy of the recorded templates): {med['rollback_restore']:.2f} s")
        print(f"rollback, total (with its smoke scenario {med['rollback_smoke']:.1f} s): {med['rollback_total']:.2f} s")
        print(f"fresh deploy + image push of the same release: {med['fresh_deploy']:.2f} s")
        print(f"ratio restore/fresh {med['restore_vs_fresh']:.2f} (target <= 0.5), total/fresh "
              f"{med['total_vs_fresh']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
