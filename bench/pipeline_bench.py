"""Benchmark a full CodePipeline execution on LocalStack against running the same stages with `invoke pipeline`.

Both deliver the same tiny consumer project (``tests/delivery/pipeline_source``: storage, parameters and a
one-parameter component with its scenario) to the same simulated dev account: the pipeline (deployed to a
simulated tooling account by component ``pipeline``, no promotion stage) runs Source -> Test -> Deliver (images,
deploy, e2e) through the extension's CodePipeline and CodeBuild; the baseline runs ``invoke pipeline --env dev``
(tests, images, deploy, e2e, evidence) as a subprocess in the same source folder. After one warm-up of each (the
first deploy creates the stacks), the two run interleaved, ``--repeat`` times each, with nothing to change, so
both skip unchanged stacks. Printed: each run's wall time, the medians, the pipeline/direct ratio (the
emulation's overhead: source copy, artifact zips, build processes, polling) and, for the last pipeline run, each
action's own time as LocalStack recorded it.

Needs a LocalStack at $DSPLATFORM_LOCALSTACK_URL (``invoke localstack.start``). Example:
``python bench/pipeline_bench.py --repeat 3``.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "tests" / "delivery" / "pipeline_source"
TEST = "python -m pytest -q -p no:cacheprovider unit"


def _project(root: Path, endpoint: str) -> None:
    shutil.copytree(SOURCE, root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "tasks.py").write_text("from dsplatform.tasks import ns  # noqa: F401\n", encoding="utf-8")
    accounts = [f"6{random.randrange(10**10, 10**11)}" for _ in range(2)]
    doc = {
        "project": {"name": f"b{random.randrange(10**5, 10**6)}", "tags": {"release": "bench"}},
        "localstack": {"endpoint_url": endpoint},
        "components": {"stock": ["storage", "parameters"], "plugins": ["pipeline", "probe_infra.probe:PROBE"]},
        # One test command for both runners: `invoke pipeline` reads delivery.github.test, the buildspec too.
        "delivery": {"github": {"repository": "acme/bench", "test": TEST},
                     "pipeline": {"deliver": "dev", "install": "invoke --version",
                                  "variables": {"DSPLATFORM_CACHE_DIR": str(_cache(root))}}},
        "environments": {"tooling": {"account_id": accounts[0], "target": "localstack"},
                         "dev": {"account_id": accounts[1], "target": "localstack"}},
    }
    (root / "dsplatform.yml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def _cache(root: Path) -> Path:
    # Both runners' own dsplatform cache: the LocalStack they share is recorded as owned by the project that
    # started it, and `invoke e2e` refuses another project's instance by that record.
    return root.parent / "runner-cache"


def _archive(root: Path) -> bytes:
    out = root.parent / "source.zip"
    with zipfile.ZipFile(out, "w") as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file() and not {"__pycache__", "build"} & set(path.relative_to(root).parts):
                archive.write(path, path.relative_to(root).as_posix())
    return out.read_bytes()


def _wait(probe: Any, done: Any, what: str, timeout: float = 900) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        state = probe()
        if done(state):
            return state
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}; last state: {state!r}"[:800])
        time.sleep(0.25)


def _pipeline_run(codepipeline: Any, name: str) -> tuple[float, str]:
    began = time.perf_counter()
    execution_id = codepipeline.start_pipeline_execution(name=name)["pipelineExecutionId"]
    final = _wait(lambda: codepipeline.get_pipeline_execution(pipelineName=name, pipelineExecutionId=execution_id)
                  ["pipelineExecution"], lambda e: e["status"] != "InProgress", f"execution {execution_id}")
    seconds = time.perf_counter() - began
    if final["status"] != "Succeeded":
        state = codepipeline.get_pipeline_state(name=name)["stageStates"]
        raise SystemExit(f"pipeline run {execution_id} ended {final['status']}: {state!r}"[:2000])
    return seconds, execution_id


def _direct_run(root: Path) -> float:
    # As the builds run: no AWS_* of this shell, and the builds' cache folder.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["DSPLATFORM_CACHE_DIR"] = str(_cache(root))
    # The same tools first on PATH as the builds get (the launcher's DSPLATFORM_CODEBUILD_PATH is this venv's bin).
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    began = time.perf_counter()
    done = subprocess.run([str(Path(sys.executable).parent / "invoke"), "pipeline", "--env", "dev"], cwd=root,
                          env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"invoke pipeline failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds


def _actions(codepipeline: Any, name: str, execution_id: str) -> list[str]:
    found = codepipeline.list_action_executions(pipelineName=name, filter={"pipelineExecutionId": execution_id})
    rows = sorted(found["actionExecutionDetails"], key=lambda a: a["startTime"])
    return [f"  {a['stageName']:<8} {(a['lastUpdateTime'] - a['startTime']).total_seconds():6.2f}s" for a in rows]


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="measured runs of each (after one warm-up each)")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from blueprints.pipeline import PipelineOutputs
    from dsplatform.config import load_config
    from dsplatform.deployer import ClientFactory, deploy, read_deployed
    from dsplatform.localstack import health
    from dsplatform.synth import plan_from_config

    endpoint = os.environ.get("DSPLATFORM_LOCALSTACK_URL", "http://127.0.0.1:4566").rstrip("/")
    if health(endpoint) is None:
        raise SystemExit(f"no LocalStack at {endpoint}; start it with `invoke localstack.start`")
    root = Path(tempfile.mkdtemp(prefix="pipeline-bench-")) / "source"
    _project(root, endpoint)
    project = load_config(root / "dsplatform.yml")
    plan = plan_from_config(project, "tooling")
    tooling = ClientFactory(plan.target)
    deploy(plan, tooling).raise_for_failure()
    outputs = read_deployed(plan, tooling).get(PipelineOutputs)
    codepipeline, name = tooling.client("codepipeline"), outputs.pipeline_name
    # Started on create, as on AWS; with no source yet it fails at Source.
    _wait(lambda: codepipeline.list_pipeline_executions(pipelineName=name)["pipelineExecutionSummaries"],
          lambda runs: bool(runs) and all(r["status"] != "InProgress" for r in runs), "the pipeline's first run")
    print(f"project {project.project.name} in {root}; warm-up (first deploy of dev) ...")
    warm_direct = _direct_run(root)
    # Putting the archive starts the warm-up run (S3 -> EventBridge -> pipeline); later runs are started by hand.
    tooling.client("s3").put_object(Bucket=outputs.artifact_bucket_name, Key=outputs.source_key,
                                    Body=_archive(root))
    _wait(lambda: codepipeline.list_pipeline_executions(pipelineName=name)["pipelineExecutionSummaries"],
          lambda runs: len(runs) >= 2 and all(r["status"] != "InProgress" for r in runs), "the triggered run")
    print(f"  warm-up: invoke pipeline {warm_direct:.2f}s, CodePipeline (triggered by the put) done")
    piped, direct, last = [], [], ""
    for i in range(args.repeat):
        seconds, last = _pipeline_run(codepipeline, name)
        piped.append(seconds)
        direct.append(_direct_run(root))
        print(f"  run {i + 1}: CodePipeline {piped[-1]:6.2f}s   invoke pipeline {direct[-1]:6.2f}s")
    mp, md = statistics.median(piped), statistics.median(direct)
    print(f"median: CodePipeline {mp:.2f}s, invoke pipeline {md:.2f}s, ratio {mp / md:.2f}x "
          f"({args.repeat} runs each, interleaved)")
    print("last CodePipeline run, per action (LocalStack's times):")
    print("\n".join(_actions(codepipeline, name, last)))


if __name__ == "__main__":
    main()
