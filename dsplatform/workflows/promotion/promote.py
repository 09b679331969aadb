"""`invoke promote`: deploy what passed in one environment to the next, only with evidence, then smoke-test it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsplatform.errors import DsPlatformError, UsageError
from dsplatform.workflows.confirm import ask
from dsplatform.workflows.promotion.artifacts import artifact_problems
from dsplatform.workflows.promotion.compare import Verdict, find_evidence
from dsplatform.workflows.promotion.record import (
    Record,
    deployed_hashes,
    image_evidence,
    now,
    render,
    who,
)
from dsplatform.workflows.promotion.store import list_records, put_record


class PromotionRefused(DsPlatformError):
    """No passing record vouches for what would be promoted; lists what changed."""

    exit_code = 3

    def __init__(self, from_env: str, to_env: str, problems: list[str]) -> None:
        self.from_env, self.to_env, self.problems = from_env, to_env, problems
        shown = "; ".join(problems[:6]) + (f"; and {len(problems) - 6} more" if len(problems) > 6 else "")
        super().__init__(f"promotion {from_env} -> {to_env} refused: {shown}; "
                         f"run `invoke e2e --env {from_env} --keep` on this checkout first")


class PromotionAborted(DsPlatformError):
    """The user declined the confirmation."""

    exit_code = 4

    def __init__(self, from_env: str, to_env: str) -> None:
        super().__init__(f"promotion {from_env} -> {to_env} not confirmed; nothing deployed (use --yes in CI)")


class SmokeFailed(DsPlatformError):
    """The target was deployed but its smoke scenario failed; no promotion record was written."""

    exit_code = 5

    def __init__(self, to_env: str, failed: list[str], report: Path) -> None:
        super().__init__(f"{to_env} deployed but the smoke scenario failed ({', '.join(failed) or 'no scenario ran'}); "
                         f"see {report}; fix and re-run, or return to the last good release with "
                         f"`invoke rollback --env {to_env}`")


@dataclass
class PromotionResult:
    """What a promotion did."""

    from_env: str
    to_env: str
    evidence: str = ""
    record_key: str = ""
    image_digests: dict[str, str] = field(default_factory=dict)  # job -> pushed digest
    release_id: str = ""
    smoke_passed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Evidence:
    """The plans of both environments, the source's clients and the verdict on its records."""

    source_plan: Any
    target_plan: Any
    source_clients: Any
    bucket: str
    verdict: Verdict


def check_direction(project: Any, from_env: str, to_env: str, target: str | None = None) -> None:
    """Refuse a promotion that does not go one step forward along the environments' order in the config file.

    The order of ``environments`` in dsplatform.yml (dev, stg, prod) is the promotion chain: what passed in
    one environment may go to the next one only, never backwards, sideways or skipping a stage.
    """
    for env in (from_env, to_env):
        project.environment(env, target)  # ConfigError naming an unknown environment or a bad --target
    order = list(project.environments)
    chain = " -> ".join(order)
    position = order.index(from_env)
    if position + 1 == len(order):
        raise UsageError(f"--from {from_env} --to {to_env}: {from_env} is the last environment in {project.source} "
                         f"({chain}); there is nothing to promote it to")
    following = order[position + 1]
    if to_env != following:
        raise UsageError(f"--from {from_env} --to {to_env}: promotion goes one step forward along the order of "
                         f"environments in {project.source} ({chain}); from {from_env} use --to {following}")


def check_evidence(from_env: str, to_env: str, config_path: str | None = None,
                   target: str | None = None) -> Evidence:
    """Find the source's passing e2e record that vouches for the current checkout (no side effects)."""
    from dsplatform.synth import build_plan

    return _evidence(build_plan(from_env, config_path, target), build_plan(to_env, config_path, target))


def _evidence(source_plan: Any, target_plan: Any) -> Evidence:
    from blueprints.storage import StorageOutputs
    from dsplatform.deployer import ClientFactory, read_deployed
    from dsplatform.images import source_digest

    from_env, to_env = source_plan.target.env, target_plan.target.env
    clients = ClientFactory(source_plan.target)
    clients.verify_account()
    deployed = read_deployed(source_plan, clients)
    if "storage" not in deployed:
        raise PromotionRefused(from_env, to_env, [f"{from_env} is not deployed, so it holds no evidence"])
    bucket = deployed.get(StorageOutputs).artifact_bucket_name
    records = list_records(clients.client("s3"), bucket, "e2e")
    digests = {image.job: source_digest(image.source) for image in source_plan.images}
    verdict = find_evidence(records, render(source_plan), render(target_plan), digests)
    return Evidence(source_plan, target_plan, clients, bucket, verdict)


def promote(
    from_env: str,
    to_env: str,
    yes: bool = False,
    config_path: str | None = None,
    target: str | None = None,
    confirm: Callable[[str], bool] | None = None,
    reports_dir: Path | None = None,
) -> PromotionResult:
    """Refuse without evidence; else confirm, deploy ``to_env``, push the images, smoke-test, record."""
    from blueprints.storage import StorageOutputs
    from dsplatform.config import load_config
    from dsplatform.deployer import ClientFactory
    from dsplatform.lifecycle import deployment
    from dsplatform.synth import build_plan
    from dsplatform.workflows.e2e import ensure_localstack
    from dsplatform.workflows.scenarios import run_scenarios

    check_direction(load_config(config_path), from_env, to_env, target)
    source_plan, plan = build_plan(from_env, config_path, target), build_plan(to_env, config_path, target)
    if plan.target.kind == "localstack":
        ensure_localstack(plan)
    evidence = _evidence(source_plan, plan)
    if not evidence.verdict.ok or evidence.verdict.record is None:
        raise PromotionRefused(from_env, to_env, list(evidence.verdict.problems))
    record: Record = evidence.verdict.record
    # The model that passed is pinned by its bytes: write access to the source's bucket is not enough.
    changed = artifact_problems(evidence.source_clients.client("s3"), record.artifacts) if record.artifacts else []
    if changed:
        raise PromotionRefused(from_env, to_env, changed)
    evidence_uri = f"s3://{evidence.bucket}/{evidence.verdict.key}"
    result = PromotionResult(from_env, to_env, evidence=evidence_uri)
    tested = ", ".join(f"{i.job} {i.digest[:19]}..." for i in record.images) or "no images"
    question = (f"Promote {from_env} -> {to_env}: deploy {len(plan.stacks)} stacks to account "
                f"{plan.target.account_id} ({plan.target.kind}) with images {tested}, "
                f"evidence {evidence_uri} ({len(record.scenarios)} scenarios passed {record.created_at} "
                f"by {record.who.caller_arn})?")
    if not yes and not (confirm or ask)(question):
        raise PromotionAborted(from_env, to_env)
    clients = ClientFactory(plan.target)
    caller = clients.verify_account()
    # keep=True: a promotion deploys an environment for good; it never tears anything down.
    with deployment(plan, clients, keep=True) as dep:
        result.image_digests = {job: image.digest for job, image in dep.images.items()}
        passed = {image.job: image for image in record.images}
        for job, image in dep.images.items():
            if job in passed and image.digest != passed[job].digest:
                result.notes.append(f"pushed digest {image.digest} of {job} differs from the tested "
                                    f"{passed[job].digest} (same source digest {image.source_digest})")
        report = (reports_dir or plan.project_root / "build" / "reports") / f"promote-{to_env}"
        smoke = run_scenarios(plan, config_path, report, reuse=True, keep=True, markers="smoke")
        if not smoke.ok:
            if dep.release is not None:
                from dsplatform.releases import add_event

                add_event(clients, dep.release_bucket, dep.release, "smoke-failed", ", ".join(smoke.failed))
            raise SmokeFailed(to_env, smoke.failed, report)
        result.smoke_passed = smoke.passed
        promotion = Record(
            kind="promotion", env=to_env, account_id=plan.target.account_id, created_at=now(), who=who(caller),
            images=image_evidence(dep.images), scenarios=tuple(smoke.passed),
            renderings={to_env: render(plan), from_env: render(evidence.source_plan)},
            deployed_hashes=deployed_hashes(clients.client("cloudformation"), plan),
            source={"from_env": from_env, "evidence": evidence_uri}, passed=True, artifacts=record.artifacts,
        )
        bucket = dep.deployed.get(StorageOutputs).artifact_bucket_name
        key = put_record(clients.client("s3"), bucket, promotion)
        result.record_key = f"s3://{bucket}/{key}"
        if dep.release is not None:
            # The release a later `invoke rollback --env <to>` returns to.
            from dsplatform.releases import add_event

            add_event(clients, dep.release_bucket, dep.release, "promoted", f"from {from_env}, evidence {evidence_uri}")
            result.release_id = dep.release.id
    return result
