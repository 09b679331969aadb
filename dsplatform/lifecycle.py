"""Deploy-then-teardown in one place: a context manager used by e2e, the harness fixtures and promotion.

``with deployment(plan, clients) as dep:`` deploys the plan (unless ``reuse``), with ``provide`` (test
deploys) providing what its stacks require (``StackSpec.requires``, e.g. a trained model) once the stacks it
lives in exist, reads its typed outputs, pushes the jobs' images, records the deploy as a release
(``dsplatform.releases``), and on exit tears down what it created (unless ``keep``), like Terratest's
``defer destroy``. A failed teardown fails the run with its reason; it is never reported as done.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from dsplatform.deployer import Deployed, DeployOptions, deploy, destroy, read_deployed
from dsplatform.deployer.images import image_stacks_first
from dsplatform.deployer.inventory import deployed_stacks
from dsplatform.deployer.requirements import RequirementMissingError, missing_requirements
from dsplatform.errors import DsPlatformError
from dsplatform.images import PushedImage, push_images
from dsplatform.releases import Release, record_release
from dsplatform.stackspec import Plan

# Stacks in these states can be used as they are; anything else is mid-operation or failed.
USABLE = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE"})


class NotDeployedError(DsPlatformError):
    """Reusing an environment whose stacks are absent or not in a usable state."""

    exit_code = 2

    def __init__(self, env: str, missing: list[str]) -> None:
        self.env, self.missing = env, missing
        super().__init__(f"environment {env!r} is not deployed (missing or unusable: {', '.join(missing)}); "
                         f"run `invoke deploy --env {env}` or do not reuse it")


class TeardownFailed(DsPlatformError):
    """Tearing down what a run deployed failed: the environment is left partly deployed."""

    exit_code = 1

    def __init__(self, env: str, failures: list[str]) -> None:
        self.env, self.failures = env, failures
        super().__init__(f"teardown of {env!r} failed: {'; '.join(failures)}; inspect with `invoke outputs --env "
                         f"{env}` and re-run `invoke destroy --env {env}`")


@dataclass
class Deployment:
    """What ``deployment`` made: the plan, its clients, the stacks it created, typed outputs, pushed images."""

    plan: Plan
    clients: Any
    created: frozenset[str]
    deployed: Deployed
    images: dict[str, PushedImage] = field(default_factory=dict)
    torn_down: bool = False
    release: Release | None = None  # the release this deploy recorded (not when reusing)
    release_bucket: str = ""


def caller_of(clients: Any) -> str:
    """Who deploys: the STS caller ARN (an empty string when it cannot be asked)."""
    try:
        return str(clients.client("sts").get_caller_identity()["Arn"])
    except Exception:  # a record without a caller is better than a failed deploy
        return ""


def usable_stacks(plan: Plan, clients: Any) -> set[str]:
    """Names of the plan's stacks that exist in a settled, usable state."""
    found = deployed_stacks(clients.client("cloudformation"), [s.name for s in plan.stacks])
    return {name for name, description in found.items() if description.get("StackStatus") in USABLE}


@contextmanager
def deployment(plan: Plan, clients: Any, *, reuse: bool = False, keep: bool = False, images: bool = True,
               options: DeployOptions | None = None, provide: bool = False) -> Iterator[Deployment]:
    """Deploy (or reuse) the plan, push its images, yield it; tear down on exit what was created here.

    ``provide`` runs the providers of missing requirements (test deploys: e2e, the harness); without it a
    missing one fails the deploy with its fix (promotion never seeds a sample model into a real environment).
    """
    created: frozenset[str] = frozenset()
    pushed: dict[str, PushedImage] = {}
    if reuse:
        missing = sorted({s.name for s in plan.stacks} - usable_stacks(plan, clients))
        if missing:
            raise NotDeployedError(plan.target.env, missing)
    else:
        before = usable_stacks(plan, clients)
        try:
            first = image_stacks_first(plan) if images else None
            if first is not None:
                # Registry before the push, the push before the stacks that run the image: they pin its digest.
                deploy(first, clients, options or DeployOptions()).raise_for_failure()
                pushed = push_images(plan, clients, only_existing=True)
            if provide:
                provide_requirements(plan, clients, options)
            deploy(plan, clients, options or DeployOptions()).raise_for_failure()
        except BaseException as err:
            # Whatever came up before the failure is ours to remove, as after a run.
            _cleanup_after(err, plan, clients, frozenset({s.name for s in plan.stacks} - before), keep)
            raise
        created = frozenset({s.name for s in plan.stacks} - before)
    dep = Deployment(plan=plan, clients=clients, created=created, deployed=read_deployed(plan, clients))
    try:
        if images:
            dep.images = {**pushed, **push_images(plan, clients, skip=frozenset(pushed))}
        if not reuse and "storage" in dep.deployed:
            dep.release_bucket = dep.deployed["storage"].artifact_bucket_name
            dep.release = record_release(plan, clients, "deployed", images=dep.images if images else None,
                                         who=caller_of(clients), bucket=dep.release_bucket)
        yield dep
    except BaseException as err:
        dep.torn_down = _cleanup_after(err, plan, clients, created, keep)
        raise
    if created and not keep:
        dep.torn_down = _teardown(plan, clients, created)


def provider(path: str) -> Callable[[Plan, Any], None]:
    """The ``module:function`` a Requirement names as its provider."""
    module, _, name = path.partition(":")
    found: Callable[[Plan, Any], None] = getattr(importlib.import_module(module), name)
    return found


def provide_requirements(plan: Plan, clients: Any, options: DeployOptions | None = None) -> None:
    """Provide what stacks about to be created require: deploy the stacks before them, then run the providers.

    Nothing happens when every requirement is met. A requirement without a provider raises
    RequirementMissingError (the deploy would refuse it anyway).
    """
    if not any(spec.requires for spec in plan.stacks):
        return
    current = deployed_stacks(clients.client("cloudformation"), [s.name for s in plan.stacks])
    missing = missing_requirements(plan, clients, current)
    if not missing:
        return
    for stack, requirement in missing:
        if not requirement.provide:
            raise RequirementMissingError(stack, requirement)
    first = plan.before({stack for stack, _ in missing})
    if first is not None:  # where the requirement lives (its bucket, its parameters) comes first
        deploy(first, clients, options or DeployOptions()).raise_for_failure()
    for path in dict.fromkeys(requirement.provide for _, requirement in missing):
        provider(path)(plan, clients)


def _cleanup_after(err: BaseException, plan: Plan, clients: Any, created: frozenset[str], keep: bool) -> bool:
    """Tear down after a failure; a teardown failure is added to the original error, which stays the one raised."""
    if not created or keep:
        return False
    try:
        return _teardown(plan, clients, created)
    except TeardownFailed as failed:
        err.add_note(str(failed))
        return False


def _teardown(plan: Plan, clients: Any, created: frozenset[str]) -> bool:
    """Destroy the environment when this run created all of it; never a protected one. TeardownFailed on failure."""
    if plan.target.protected or created != {spec.name for spec in plan.stacks}:
        # Some stacks pre-existed (someone's environment): removing only ours could strand theirs.
        return False
    try:
        outcome = destroy(plan, clients, purge_data=False)
    except DsPlatformError as err:
        raise TeardownFailed(plan.target.env, [str(err)]) from err
    if not outcome.ok:
        raise TeardownFailed(plan.target.env, [f"{r.name} {r.outcome.value}: {r.reason}" for r in outcome.failures])
    return True
