"""`invoke e2e`: start LocalStack if needed, deploy, push the images, run the scenarios, report, tear down."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsplatform.errors import DsPlatformError, UsageError
from dsplatform.workflows.scenarios import ScenarioRun, run_scenarios


@dataclass
class E2EResult:
    """What an e2e run did: stage timings, scenario outcomes, report paths and the promotion record."""

    env: str
    target: str
    ok: bool = False
    exit_code: int = 1
    stages: dict[str, float] = field(default_factory=dict)
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    junit_path: Path | None = None
    html_path: Path | None = None
    record_key: str = ""
    image_digests: dict[str, str] = field(default_factory=dict)  # job -> pushed digest
    release_id: str = ""
    localstack_reused: bool | None = None
    created_stacks: list[str] = field(default_factory=list)
    torn_down: bool = False

    def summary(self) -> str:
        """A few lines for the terminal."""
        verdict = "PASSED" if self.ok else "FAILED"
        stages = ", ".join(f"{k} {v:.1f}s" for k, v in self.stages.items())
        lines = [f"e2e {self.env} on {self.target}: {verdict} ({len(self.passed)} passed, {len(self.failed)} failed, "
                 f"{len(self.skipped)} skipped)", f"stages: {stages}"]
        lines += [f"failed: {name}" for name in self.failed]
        lines += [f"error: {err}" for err in self.errors]
        if self.html_path:
            lines.append(f"report: {self.html_path} (JUnit: {self.junit_path})")
        if self.record_key:
            lines.append(f"promotion record: {self.record_key}")
        if self.release_id:
            lines.append(f"release: {self.release_id}")
        return "\n".join(lines)


@contextmanager
def _stage(result: E2EResult, name: str) -> Iterator[None]:
    began = time.monotonic()
    try:
        yield
    finally:
        result.stages[name] = result.stages.get(name, 0.0) + time.monotonic() - began


def localstack_settings(plan: Any) -> Any:
    """LocalStack settings for a plan: its port, its project root (the instance's owner) and its jobs' images."""
    from dsplatform.localstack import LocalStackSettings

    return LocalStackSettings.for_plan(plan)


def ensure_localstack(plan: Any) -> bool:
    """Start (or reuse) LocalStack on the plan's port with its images registered; True when an instance was reused."""
    from dsplatform.localstack import start

    return bool(start(localstack_settings(plan)).reused)


def wait_for_job_images(plan: Any) -> None:
    """Wait until LocalStack has built the job images' venvs (started at launch, so it overlaps the deploy)."""
    from dsplatform.localstack.launcher import image_state, wait_for_images

    settings = localstack_settings(plan)
    if image_state(settings)[0] == "unknown":
        return  # an instance that does not report its warm-up (started elsewhere): the first task builds it
    wait_for_images(settings)


def run_e2e(
    env: str = "dev",
    target: str | None = "localstack",
    keep: bool = False,
    config_path: str | None = None,
    *,
    reuse: bool = False,
    markers: str | None = None,
    reports_dir: Path | None = None,
    stream: bool = True,
    stacks: list[str] | None = None,
) -> E2EResult:
    """Run the whole end-to-end check of ``env`` and return what happened (``ok`` False on any failure).

    Reports go to ``reports_dir`` (default: ``build/reports`` under the project root, the folder of
    dsplatform.yml).
    """
    from dsplatform.synth import build_plan
    from dsplatform.workflows.scenarios import check_markers

    check_markers(markers)  # before LocalStack starts or anything deploys
    began = time.monotonic()
    plan = build_plan(env, config_path, target, stacks)
    reports_dir = reports_dir or plan.project_root / "build" / "reports"
    result = E2EResult(env=env, target=plan.target.kind, stages={"synth": time.monotonic() - began})
    if plan.target.protected and not reuse:
        raise UsageError(f"environment {env!r} is protected: e2e does not deploy it; use `invoke promote --to {env}` "
                         f"or `invoke e2e --env {env} --reuse` to check it as deployed")
    if plan.target.kind == "localstack":
        with _stage(result, "localstack"):
            result.localstack_reused = ensure_localstack(plan)
    from dsplatform.deployer import ClientFactory
    from dsplatform.lifecycle import TeardownFailed, deployment

    clients = ClientFactory(plan.target)
    run: ScenarioRun | None = None
    lifecycle = ExitStack()
    dep: Any = None
    try:
        caller = clients.verify_account()
        with _stage(result, "deploy"):
            # Requirements (the api's model) are provided on LocalStack only; on AWS a missing one is refused.
            local = plan.target.kind == "localstack"
            dep = lifecycle.enter_context(deployment(plan, clients, reuse=reuse, keep=keep, provide=local))
        result.created_stacks = sorted(dep.created)
        result.image_digests = {job: image.digest for job, image in dep.images.items()}
        if plan.target.kind == "localstack":
            with _stage(result, "image"):
                wait_for_job_images(plan)
        with _stage(result, "scenarios"):
            run = run_scenarios(plan, config_path, reports_dir, reuse=True, keep=True, markers=markers, stream=stream)
        result.passed, result.failed, result.skipped = run.passed, run.failed, run.skipped
        result.ok = run.ok
        if dep.release is not None:
            from dsplatform.releases import add_event

            outcome = "smoke-passed" if run.ok else "smoke-failed"
            add_event(clients, dep.release_bucket, dep.release, outcome, f"{len(run.passed)} scenarios passed, "
                                                                          f"{len(run.failed)} failed")
            result.release_id = dep.release.id
        if not run.ok and not run.failed:
            result.errors.append(f"pytest exited {run.exit_code} with no scenario failure recorded")
        if result.ok and not reuse:
            with _stage(result, "record"):
                result.record_key = write_record(dep, run, caller, config_path)
    except DsPlatformError as err:
        result.errors.append(str(err))
        result.ok = False
    finally:
        with _stage(result, "teardown"):
            try:
                lifecycle.close()
            except TeardownFailed as err:
                result.errors.append(str(err))
        result.torn_down = bool(dep and dep.torn_down)
        _split_scenario_time(result, run)
        with _stage(result, "report"):
            _write_reports(result, plan, run, reports_dir)
    result.exit_code = 0 if result.ok and not result.errors else 1
    result.ok = result.exit_code == 0
    return result


def write_record(dep: Any, run: ScenarioRun, caller: str, config_path: str | None) -> str:
    """Store the passing e2e record of a deployment (renderings, images, artifacts, metrics); its s3:// URI."""
    from blueprints.storage import StorageOutputs
    from dsplatform.config import load_config
    from dsplatform.workflows.promotion import record as rec
    from dsplatform.workflows.promotion.artifacts import model_evidence
    from dsplatform.workflows.promotion.model import serving_evidence
    from dsplatform.workflows.promotion.store import put_record
    from dsplatform.workflows.scenarios import scenario_metrics

    plan = dep.plan
    envs = sorted(load_config(config_path).environments)
    renderings = rec.render_all(envs, config_path, plan.target.kind)
    renderings[plan.target.env] = rec.render(plan)
    record = rec.Record(
        kind="e2e", env=plan.target.env, account_id=plan.target.account_id, created_at=rec.now(),
        who=rec.who(caller), images=rec.image_evidence(dep.images),
        scenarios=tuple(run.passed), renderings=renderings,
        deployed_hashes=rec.deployed_hashes(dep.clients.client("cloudformation"), plan), passed=True,
        artifacts=model_evidence(plan, dep.clients) + serving_evidence(dep.deployed, dep.clients),
        metrics=scenario_metrics(run),
    )
    bucket = dep.deployed.get(StorageOutputs).artifact_bucket_name
    key = put_record(dep.clients.client("s3"), bucket, record)
    return f"s3://{bucket}/{key}"


def _split_scenario_time(result: E2EResult, run: ScenarioRun | None) -> None:
    """Split the pytest stage into the pipeline run (executions) and the checks around it."""
    total = result.stages.pop("scenarios", 0.0)
    if run is None:
        return
    result.stages["pipeline run"] = run.pipeline_seconds
    result.stages["checks"] = max(total - run.pipeline_seconds, 0.0)


def _write_reports(result: E2EResult, plan: Any, run: ScenarioRun | None, reports_dir: Path) -> None:
    from dsplatform.workflows.report.html import render_report

    reports_dir.mkdir(parents=True, exist_ok=True)
    fidelity = _fidelity_html(plan) if plan.target.kind == "localstack" else ""
    summary = {"environment": result.env, "target": result.target, "passed": len(result.passed),
               "failed": len(result.failed), "skipped": len(result.skipped),
               "errors": "; ".join(result.errors) or "none",
               "image digests": ", ".join(f"{j} {d}" for j, d in result.image_digests.items()) or "-",
               "promotion record": result.record_key or "-"}
    page = render_report(f"dsplatform e2e: {result.env} on {result.target}", dict(result.stages),
                         run.scenarios if run else [], fidelity, summary)
    result.html_path = reports_dir / "e2e.html"
    result.html_path.write_text(page)
    junit = reports_dir / "junit.xml"
    result.junit_path = junit if junit.is_file() else None


def _fidelity_html(plan: Any) -> str:
    try:
        from dsplatform.localstack.coverage import fidelity_report

        return str(fidelity_report({s.name: s.template for s in plan.stacks}).to_html())
    except (ImportError, DsPlatformError) as err:
        return f"<p>fidelity report unavailable: {type(err).__name__}: {err}</p>"

