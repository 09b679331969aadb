"""`invoke rollback`: redeploy a recorded release exactly (templates, parameters, image digests), then smoke-test it.

Never a rebuild: each image's tag is moved back to the release's digest; then, the native way where that is
faster and equivalent, the ECS services go back to their recorded task definitions, the Lambda aliases to their
recorded versions and the endpoints to their recorded configs (``dsplatform.native``: release 1 serves again);
then the release's templates and literal parameters are deployed through change sets (stateful replacements
refused, as `deploy` does), so CloudFormation and what runs agree again. Data is never rolled back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dsplatform.errors import DsPlatformError
from dsplatform.native import restore
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
    native: list[str] = field(default_factory=list)  # one line per service, alias or endpoint switched natively
    seconds: dict[str, float] = field(default_factory=dict)  # images, native, serving (until release serves), ...

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


def confirm_rollback(target: Any, chosen: Release, yes: bool, confirm: Callable[[str], bool]) -> None:
    """A protected environment (prod) rolls back only with ``yes`` or a confirmed question (which says that data
    is never rolled back); RollbackAborted otherwise. Unprotected ones never ask."""
    if not target.protected or yes:
        return
    question = (f"Roll {target.env} (account {target.account_id}) back to release {chosen.id} of "
                f"{chosen.created_at} (commit {chosen.commit[:12]}, {chosen.status})? {DATA_NOTE}.")
    if not confirm(question):
        raise RollbackAborted(target.env)


def rollback(env: str, to: str | None = None, yes: bool = False, config_path: str | None = None,
             target: str | None = None, confirm: Callable[[str], bool] | None = None,
             clients: Any = None, native: bool = True) -> RollbackResult:
    """Redeploy the chosen release from its record, smoke-test it, and record the rollback as a new release.

    ``native``: switch services, aliases and endpoints back by their own APIs before the change sets (False:
    the change sets alone, as a baseline).
    """
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
    confirm_rollback(base.target, chosen, yes, confirm or ask)
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
    if native and chosen.pins:
        began = time.monotonic()
        switches = restore(chosen.pins, clients, delay=0.2 if clients.is_localstack else 5.0)
        result.native = [s.describe() for s in switches]
        result.seconds["native"] = time.monotonic() - began
        # The release's code runs again (tags, services, aliases, endpoints); the change sets only reconcile.
        result.seconds["serving"] = result.seconds["images"] + result.seconds["native"]
    plan = chosen.plan(base)
    began = time.monotonic()
    deploy(plan, clients, DeployOptions()).raise_for_failure()
    result.seconds["deploy"] = time.monotonic() - began
    result.seconds.setdefault("serving", result.seconds["images"] + result.seconds["deploy"])
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
