"""Rollback benchmark on LocalStack: rolling the whole environment back to a release, the native way and by
change sets alone, vs a fresh deploy of that release from source, in the same run (issue target: rollback at
most half of the fresh deploy, and under 10 s).

Each run makes a fresh environment (its own simulated account) of a copy of the project ("rbb"), records
release 1, deploys release 2 (a changed job image, new ingest function code behind the alias `live`, and a
changed alarm threshold), then times `dsplatform.workflows.rollback.rollback` back to release 1 with the native
fast paths (image tags, then UpdateAlias/UpdateService/UpdateEndpoint for what the release pinned, then the
change sets that reconcile the stacks, then the smoke scenario). Release 2 is deployed again and the same
rollback is timed with the change sets alone (``native=False``: the template path). Beside them, a cold deploy
plus image push of release 1's source into another fresh environment. Medians over --runs; ratios compare the
time until release 1 serves again ("serving": tags + native switches, or tags + change sets on the template
path) and the restore (everything but the smoke scenario) to the fresh deploy and to each other.

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


def _release_two(job: Path, handler: Path, config: str) -> None:
    """Release 2's source: the job image, the ingest function (a new version behind `live`), the alarm threshold."""
    main = job / "ds_preprocessing" / "__main__.py"
    main.write_text(main.read_text() + "\n# release 2\n")
    handler.write_text(handler.read_text() + "\n# release 2\n")
    Path(config).write_text(Path(config).read_text().replace("failed_threshold: 1", "failed_threshold: 3"))


def _release_one(job: Path, handler: Path) -> None:
    for path in (job / "ds_preprocessing" / "__main__.py", handler):
        path.write_text(path.read_text().replace("\n# release 2\n", ""))


def _deploy_release_two(env: str, config: str, clients: Any) -> None:
    with deployment(build_plan(env, config), clients, keep=True) as dep:
        add_event(clients, dep.release_bucket, dep.release, "smoke-failed", "bench: release 2")


def _timed_rollback(env: str, config: str, clients: Any, to: str, native: bool) -> tuple[Any, float]:
    began = time.monotonic()
    result = rollback(env, to=to, config_path=config, clients=clients, native=native)
    total = time.monotonic() - began
    assert result.ok, result
    return result, total


def one_run(endpoint: str, work: Path) -> dict[str, float]:
    """One native rollback, one template-path rollback and one fresh deploy; seconds of each."""
    job, functions = work / "containers" / "preprocessing", work / "functions" / "ingest"
    for src, dst in ((REPO / "containers" / "preprocessing", job), (REPO / "functions" / "ingest", functions)):
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns("tests", "__pycache__", "*.egg-info"))
    handler = functions / "ds_ingest" / "handler.py"
    config, env = _project(work, endpoint, 1)
    plan = build_plan(env, config)
    clients = ClientFactory(plan.target)
    _register(plan)
    made = [plan]
    try:
        with deployment(plan, clients, keep=True) as dep:
            add_event(clients, dep.release_bucket, dep.release, "smoke-passed", "bench: release 1")
            first = dep.release.id
        _release_two(job, handler, config)
        _deploy_release_two(env, config, clients)
        native, native_total = _timed_rollback(env, config, clients, first, native=True)
        assert any("moved" in line for line in native.native), native.native  # the alias really moved
        _deploy_release_two(env, config, clients)  # release 2 again, for the template path
        template, template_total = _timed_rollback(env, config, clients, first, native=False)

        _release_one(job, handler)  # release 1's source again
        Path(config).write_text(Path(config).read_text().replace("failed_threshold: 3", "failed_threshold: 1"))
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
    return {"native_serving": native.seconds["serving"],
            "native_restore": native_total - native.seconds["smoke"],
            "native_total": native_total,
            "template_serving": template.seconds["serving"],
            "template_restore": template_total - template.seconds["smoke"],
            "template_total": template_total,
            "native_change_sets": native.seconds["deploy"],
            "template_change_sets": template.seconds["deploy"],
            "rollback_smoke": native.seconds["smoke"],
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
    load = [os.getloadavg()[0]]  # 1-minute load average before and after: the machine is shared
    with tempfile.TemporaryDirectory(prefix="rollback-bench-") as tmp:
        for _ in range(args.runs):
            runs.append(one_run(args.endpoint_url, Path(tmp)))
    load.append(os.getloadavg()[0])
    med = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    for path in ("native", "template"):
        med[f"{path}_serving_vs_fresh"] = med[f"{path}_serving"] / med["fresh_deploy"]
        med[f"{path}_restore_vs_fresh"] = med[f"{path}_restore"] / med["fresh_deploy"]
        # Each run's own ratio (its rollback against its fresh deploy, minutes apart), then their median.
        med[f"{path}_restore_vs_fresh_per_run"] = statistics.median(r[f"{path}_restore"] / r["fresh_deploy"]
                                                                    for r in runs)
    med["native_vs_template_serving"] = med["native_serving"] / med["template_serving"]
    med["native_vs_template_restore"] = med["native_restore"] / med["template_restore"]
    if args.json:
        print(json.dumps({"runs": runs, "median": med, "load_average": load}, indent=2))
    else:
        print(f"runs: {args.runs} (medians; load average {load[0]:.1f} before, {load[1]:.1f} after); fresh deploy + "
              f"image push of the same release: {med['fresh_deploy']:.2f} s")
        for path, how in (("native", "tags + UpdateAlias/Service/Endpoint, then change sets"),
                          ("template", "tags + change sets only")):
            print(f"rollback, {path} ({how}): serving again after {med[f'{path}_serving']:.2f} s "
                  f"({med[f'{path}_serving_vs_fresh']:.2f} of fresh), restore {med[f'{path}_restore']:.2f} s "
                  f"({med[f'{path}_restore_vs_fresh']:.2f} of fresh; median of each run's own ratio "
                  f"{med[f'{path}_restore_vs_fresh_per_run']:.2f}), total with smoke {med[f'{path}_total']:.2f} s")
        print(f"change sets: {med['native_change_sets']:.2f} s after the native switch, "
              f"{med['template_change_sets']:.2f} s alone")
        print(f"native/template: serving {med['native_vs_template_serving']:.2f}, restore "
              f"{med['native_vs_template_restore']:.2f}; smoke scenario {med['rollback_smoke']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
