"""`invoke pipeline`: on this machine, in order, the stages the generated delivery workflow runs.

tests -> images (tagged with the commit, recorded by digest) -> deploy (after the bootstrap check) -> e2e
(against what was deployed, recorded as promotion evidence) -> evidence (build/pipeline/<env>.json).
A stage that fails stops the ones after it; each stage's outcome and time are in the summary.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from dsplatform.components.delivery_stages import DELIVER_STAGES, test_stage
from dsplatform.errors import DsPlatformError

STAGES = ("tests", *DELIVER_STAGES, "evidence")


@dataclass
class StageResult:
    """One stage: passed, failed or skipped (with why), and how long it took."""

    name: str
    outcome: str = "skipped"
    seconds: float = 0.0
    detail: str = ""


@dataclass
class PipelineResult:
    """Every stage of one run, in order; ``ok`` when none failed."""

    env: str
    commit: str
    stages: list[StageResult] = field(default_factory=list)
    evidence: Path | None = None

    @property
    def ok(self) -> bool:
        """True when no stage failed."""
        return all(stage.outcome != "failed" for stage in self.stages)

    def summary(self) -> str:
        """A table: stage, outcome, seconds, detail."""
        lines = [f"pipeline {self.env} at {self.commit[:12]}: {'PASSED' if self.ok else 'FAILED'}"]
        lines += [f"  {s.name:<9} {s.outcome:<8} {s.seconds:7.1f}s  {s.detail}" for s in self.stages]
        if self.evidence:
            lines.append(f"evidence: {self.evidence}")
        return "\n".join(lines)


def commit_of(root: Path) -> str:
    """The checked-out commit (what CI tags images with), or ``local`` outside git."""
    out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=False)
    return out.stdout.strip() if out.returncode == 0 else "local"


def _run_stage(result: PipelineResult, name: str, body: Callable[[], str], skip: str | None) -> bool:
    stage = StageResult(name)
    result.stages.append(stage)
    if skip is not None:
        stage.detail = skip
        return True
    if any(s.outcome == "failed" for s in result.stages[:-1]):
        stage.detail = "not run: an earlier stage failed"
        return False
    began = time.monotonic()
    try:
        stage.detail = body()
        stage.outcome = "passed"
    except (DsPlatformError, subprocess.CalledProcessError, ClientError) as err:
        stage.outcome, stage.detail = "failed", str(err).splitlines()[0]
    stage.seconds = time.monotonic() - began
    return stage.outcome == "passed"


def run_pipeline(env: str, config_path: str | None = None, target: str | None = None, *, skip_tests: bool = False,
                 deploy_only: bool = False, stacks: list[str] | None = None,
                 test_command: str | None = None) -> PipelineResult:
    """Run the stages for ``env``; ``deploy_only`` runs deploy and evidence only (no tests, images or e2e)."""
    from dsplatform.config import load_config
    from dsplatform.delivery.bootstrap import check_bootstrapped
    from dsplatform.delivery.publish import ensure_repositories, push_tagged, record
    from dsplatform.deployer import ClientFactory, deploy
    from dsplatform.deployer.errors import EndpointUnreachableError
    from dsplatform.hashing import sha256_json
    from dsplatform.synth import plan_from_config
    from dsplatform.workflows.e2e import ensure_localstack, run_e2e

    project = load_config(config_path)
    plan = plan_from_config(project, env, target, stacks)
    root = plan.project_root
    result = PipelineResult(env=env, commit=commit_of(root))
    state: dict[str, Any] = {}
    command = test_command or test_stage(project).command  # the GitHub workflows' test command

    def tests() -> str:
        subprocess.run(shlex.split(command), cwd=root, check=True)
        return command

    def clients() -> Any:
        if "clients" not in state:
            state["clients"] = ClientFactory(plan.target)
            try:
                state["clients"].verify_account()
            except EndpointUnreachableError:
                if plan.target.kind != "localstack":
                    raise
                ensure_localstack(plan)  # nothing listens on the port: start this project's LocalStack
        return state["clients"]

    def images() -> str:
        ensure_repositories(plan, clients())
        state["images"] = push_tagged(plan, clients(), result.commit if result.commit != "local" else None)
        record(state["images"], root / "build" / "images" / f"{env}.json", env)
        return ", ".join(f"{i.job}@{i.digest[:19]}" for i in state["images"].values()) or "no job images"

    def deploy_stage() -> str:
        version = check_bootstrapped(project, plan, clients())
        deploy(plan, clients()).raise_for_failure()
        return f"{len(plan.stacks)} stack(s)" + (f", bootstrap v{version}" if version else "")

    def e2e() -> str:
        outcome = run_e2e(env, plan.target.kind, True, config_path, stacks=stacks, stream=False)  # deployed: kept
        state["e2e"] = outcome
        if not outcome.ok:
            raise DsPlatformError(f"e2e failed: {', '.join(outcome.failed + outcome.errors)}; see {outcome.html_path}")
        record_text = f", evidence record {outcome.record_key}" if outcome.record_key else ""
        return f"{len(outcome.passed)} passed, {len(outcome.skipped)} skipped{record_text}"

    def evidence() -> str:
        path = root / "build" / "pipeline" / f"{env}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        body = {"env": env, "commit": result.commit, "target": plan.target.kind,
                "stages": [{"name": s.name, "outcome": s.outcome, "seconds": round(s.seconds, 2)}
                           for s in result.stages if s.name != "evidence"],
                "templates": {s.name: sha256_json(s.template) for s in plan.stacks},
                "images": {job: i.digest for job, i in state.get("images", {}).items()},
                "e2e_record": getattr(state.get("e2e"), "record_key", "")}
        path.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        result.evidence = path
        return str(path.relative_to(root))

    only = "skipped: --deploy-only"
    _run_stage(result, "tests", tests, only if deploy_only else "skipped: --skip-tests" if skip_tests else None)
    _run_stage(result, "images", images, only if deploy_only else None)
    _run_stage(result, "deploy", deploy_stage, None)
    _run_stage(result, "e2e", e2e, only if deploy_only else None)
    _run_stage(result, "evidence", evidence, None if result.ok else "not run: an earlier stage failed")
    return result
