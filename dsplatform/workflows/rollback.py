"""`invoke rollback`: redeploy a recorded release exactly (templates, parameters, image digests), then smoke-test it.

Never a rebuild: the release's templates and literal parameters are deployed through change sets (stateful
replacements refused, as `deploy` does), and each image's tag is moved back to the release's digest, so the
task definition that names the tag runs exactly what passed. Data is never rolled back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dsplatform.errors import DsPlatformError
from dsplatform.releases import Release, add_event, image_manifest, list_releases, record_release, release_bucket
from dsplatform.workflows.confirm import ask

DATA_NOTE = ("data is never rolled back: buckets, tables and model artifacts stay as they are; only stacks and "
             "image tags return to the release")


class RollbackRefused(DsPlatformError):
    """The chosen release cannot be restored (unknown, none passed smoke, or an image it needs is gone)."""

    exit_code = 2


class RollbackAborted(DsPlatformError):
    """The user declined the confirmation."""

    exit_code = 4

    def __init__(self, env: str) -> None:
        super().__init__(f"rollback of {env} not confirmed; nothing deployed (use --yes in CI)")


@dataclass
class RollbackResult:
    """What a rollback did."""

    env: str
    to: str
    release_id: str = ""
    smoke_passed: list[str] = field(default_factory=list)
    smoke_failed: list[str] = field(default_factory=list)
    retagged: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the restored release passed its smoke scenarios."""
        return not self.smoke_failed


def choose(releases: list[Release], to: str | None, env: str) -> Release:
    """The release to return to: ``to`` by id (or unique prefix), else the newest older one that passed smoke."""
    if not releases:
        raise RollbackRefused(f"{env} has no recorded release; deploy it first (`invoke deploy --env {env}`)")
    if to:
        matches = [r for r in releases if r.id == to or r.id.startswith(to)]
        if len(matches) != 1:
            known = ", ".join(r.id for r in releases[:5])
            raise RollbackRefused(f"--to {to!r} matches {len(matches)} releases of {env}; use one id of: {known}")
        return matches[0]
    current = releases[0]
    for release in releases[1:]:
        if release.passed_smoke and _content(release) != _content(current):
            return release
    raise RollbackRefused(f"no earlier release of {env} passed its smoke scenarios; name one with --to "
                          f"(`invoke releases --env {env}`)")


def _content(release: Release) -> tuple[object, ...]:
    return (tuple(s.template_sha256 for s in release.stacks), tuple(i.digest for i in release.images))


def check_images(ecr: Any, release: Release) -> None:
    """Refuse up front when an image the release runs no longer exists (one line naming it)."""
    for image in release.images:
        if image_manifest(ecr, image.repository, image.digest) is None:
            raise RollbackRefused(f"release {release.id} runs {image.repository}@{image.digest[:19]}..., which no "
                                  f"longer exists in ECR; choose another release with --to")


def rollback(env: str, to: str | None = None, yes: bool = False, config_path: str | None = None,
             target: str | None = None, confirm: Callable[[str], bool] | None = None,
             clients: Any = None) -> RollbackResult:
    """Redeploy the chosen release from its record, smoke-test it, and record the rollback as a new release."""
    import time

    from dsplatform.deployer import ClientFactory, DeployOptions, deploy
    from dsplatform.synth import build_plan
    from dsplatform.workflows.scenarios import run_scenarios

    base = build_plan(env, config_path, target)
    clients = clients or ClientFactory(base.target)
    clients.verify_account()
    bucket = release_bucket(base, clients)
    chosen = choose(list_releases(clients.client("s3"), bucket), to, env)
    ecr = clients.client("ecr")
    check_images(ecr, chosen)
    question = (f"Roll {env} (account {base.target.account_id}) back to release {chosen.id} of {chosen.created_at} "
                f"(commit {chosen.commit[:12]}, {chosen.status})? {DATA_NOTE}.")
    if (base.target.protected and not yes) and not (confirm or ask)(question):
        raise RollbackAborted(env)
    result = RollbackResult(env=env, to=chosen.id)
    began = time.monotonic()
    for image in chosen.images:
        manifest = image_manifest(ecr, image.repository, image.digest)
        # ImageAlreadyExists: the tag already names this digest.
        with contextlib.suppress(ecr.exceptions.ImageAlreadyExistsException):
            ecr.put_image(repositoryName=image.repository, imageManifest=manifest, imageDigest=image.digest,
                          imageTag=image.tag)
        result.retagged.append(f"{image.repository}:{image.tag} -> {image.digest}")
    result.seconds["images"] = time.monotonic() - began
    plan = chosen.plan(base)
    began = time.monotonic()
    deploy(plan, clients, DeployOptions()).raise_for_failure()
    result.seconds["deploy"] = time.monotonic() - began
    release = record_release(plan, clients, "rolled-back", detail=f"to {chosen.id}", bucket=bucket)
    result.release_id = release.id
    began = time.monotonic()
    smoke = run_scenarios(plan, config_path, plan.project_root / "build" / "reports" / f"rollback-{env}", reuse=True,
                          keep=True, markers="smoke", stream=False)
    result.seconds["smoke"] = time.monotonic() - began
    result.smoke_passed, result.smoke_failed = smoke.passed, smoke.failed or ([] if smoke.ok else ["(no scenario)"])
    add_event(clients, bucket, release, "smoke-passed" if smoke.ok else "smoke-failed",
              f"{len(smoke.passed)} passed, {len(smoke.failed)} failed")
    return result
