"""Releases: every deploy of an environment recorded in its own account, so a later rollback can redeploy it exactly.

A release holds what was deployed (each stack's template, literal parameters, dependencies, tags), the images
by digest, the deployed outputs (Lambda versions, model versions ... whatever the components emit), what runs by
each service's own id (task definition ARNs, Lambda alias versions, endpoint configs: ``dsplatform.native``), the
commit, who and when, and the outcomes that followed (deployed, smoke-passed, smoke-failed, promoted, rolled-back). It
is JSON in the environment's artifact bucket under ``_dsplatform/releases/``, beside the promotion records.
Each image a release refers to is also tagged ``rel-<id>`` in its repository, so the repository's lifecycle
never expires it (``blueprints.registry.lifecycle_policy``).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dsplatform.deployer.assets import with_assets
from dsplatform.deployer.outputs import read_deployed, read_outputs
from dsplatform.errors import DsPlatformError
from dsplatform.hashing import sha256_json
from dsplatform.native import Pin, capture
from dsplatform.stackspec import Plan, StackSpec

PREFIX = "_dsplatform/releases/"
RELEASE_TAG_PREFIX = "rel-"  # images tagged so never expire (registry lifecycle rule 1)
SMOKE_PASSED = ("smoke-passed", "promoted")


@dataclass(frozen=True)
class StackRelease:
    """One stack as deployed: enough to render it again without the code that made it."""

    name: str
    component: str
    template: dict[str, Any]
    parameters: dict[str, str] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    termination_protection: bool = False

    @property
    def template_sha256(self) -> str:
        """SHA-256 of the canonical template."""
        return sha256_json(self.template)


@dataclass(frozen=True)
class ImageRelease:
    """One job image as deployed: repository, the tag the task definition names, and the digest behind it."""

    job: str
    repository: str
    tag: str
    digest: str


@dataclass(frozen=True)
class Event:
    """Something that happened to a release: its outcome, when, and a detail line."""

    outcome: str
    at: str
    detail: str = ""


@dataclass
class Release:
    """A recorded deploy of one environment."""

    id: str
    env: str
    account_id: str
    project: str
    created_at: str
    who: str
    commit: str
    stacks: tuple[StackRelease, ...]
    images: tuple[ImageRelease, ...] = ()
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    # What ran, by each service's own id: task definition ARNs, Lambda alias versions, endpoint configs.
    pins: tuple[Pin, ...] = ()

    @property
    def status(self) -> str:
        """The latest outcome."""
        return self.events[-1].outcome if self.events else "recorded"

    @property
    def passed_smoke(self) -> bool:
        """True when its smoke scenarios passed (or it was promoted, which runs them)."""
        return any(e.outcome in SMOKE_PASSED for e in self.events)

    def to_json(self) -> str:
        """Indented JSON."""
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Release:
        """Rebuild a stored release."""
        return cls(
            id=data["id"], env=data["env"], account_id=data["account_id"], project=data["project"],
            created_at=data["created_at"], who=data["who"], commit=data["commit"],
            stacks=tuple(StackRelease(**{**s, "depends_on": tuple(s.get("depends_on", ()))}) for s in data["stacks"]),
            images=tuple(ImageRelease(**i) for i in data.get("images", ())),
            outputs={k: dict(v) for k, v in data.get("outputs", {}).items()},
            events=[Event(**e) for e in data.get("events", ())],
            pins=tuple(Pin(**p) for p in data.get("pins", ())),  # absent in releases recorded before pins
        )

    def plan(self, base: Plan) -> Plan:
        """The release as a Plan for ``base``'s target (and its project root, images and scenarios)."""
        stacks = tuple(StackSpec(name=s.name, component=s.component, template=s.template, depends_on=s.depends_on,
                                 parameters=dict(s.parameters), tags=dict(s.tags),
                                 termination_protection=s.termination_protection) for s in self.stacks)
        recorded = {s.component for s in self.stacks}
        return Plan(target=base.target, stacks=stacks, images=tuple(i for i in base.images if i.component in recorded),
                    scenarios=tuple(s for s in base.scenarios if s[0] in recorded), project_root=base.project_root,
                    all_stacks=base.all_stacks)


class ReleaseError(DsPlatformError):
    """Releases cannot be read or written (no storage component, unknown id)."""

    exit_code = 2


def now() -> str:
    """UTC time in ISO 8601 seconds."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def commit_of(root: Path) -> str:
    """The git commit of the project root (``+dirty`` with uncommitted changes), or ``unknown`` outside git."""
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}+dirty" if dirty else head


def release_bucket(plan: Plan, clients: Any) -> str:
    """The environment's artifact bucket, read from the deployed storage stack."""
    deployed = read_deployed(plan, clients)
    if "storage" not in deployed:
        raise ReleaseError(f"{plan.target.env} has no deployed storage stack, which keeps its releases; deploy it "
                           f"(`invoke deploy --env {plan.target.env}`)")
    return str(deployed["storage"].artifact_bucket_name)


def record_release(plan: Plan, clients: Any, outcome: str, *, images: dict[str, Any] | None = None,
                   who: str = "", detail: str = "", bucket: str | None = None) -> Release:
    """Record what ``plan`` deployed as a new release with its first event; tag its images ``rel-<id>``."""
    outputs = read_outputs(plan, clients)
    found = _image_digests(plan, clients) if images is None else {
        job: (p.repository, p.tag, p.digest) for job, p in images.items()}
    # Function code is pinned as what the deployer passed: its zip's bucket, key and SHA-256 (content-named and
    # deterministic, so computing them again without an upload gives the deployed values).
    filled, _ = with_assets(plan, None, upload=False)
    stacks = tuple(StackRelease(name=s.name, component=s.component, template=s.template, parameters=dict(s.parameters),
                                depends_on=s.depends_on, tags=dict(s.tags),
                                termination_protection=s.termination_protection) for s in filled.stacks)
    created = now()
    release = Release(
        id="", env=plan.target.env, account_id=plan.target.account_id, project=plan.target.project,
        created_at=created, who=who, commit=commit_of(plan.project_root), stacks=stacks,
        images=tuple(ImageRelease(job, *found[job]) for job in sorted(found)), outputs=outputs,
        events=[Event(outcome, created, detail)], pins=capture(plan, clients))
    # Microseconds in the id: releases sort by it, and two can be recorded within one second (a deploy and
    # its immediate rollback).
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    release.id = f"{stamp}-{sha256_json(json.loads(release.to_json()))[:8]}"
    put_release(clients.client("s3"), bucket or release_bucket(plan, clients), release)
    _tag_images(clients.client("ecr"), release)
    return release


def add_event(clients: Any, bucket: str, release: Release, outcome: str, detail: str = "") -> Release:
    """Append an outcome to a stored release and store it again."""
    release.events.append(Event(outcome, now(), detail))
    put_release(clients.client("s3"), bucket, release)
    return release


def put_release(s3: Any, bucket: str, release: Release) -> str:
    """Store a release; return its key."""
    key = f"{PREFIX}{release.id}.json"
    s3.put_object(Bucket=bucket, Key=key, Body=release.to_json().encode(), ContentType="application/json")
    return key


def list_releases(s3: Any, bucket: str) -> list[Release]:
    """Every release of the bucket's environment, newest first."""
    keys = [obj["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=PREFIX)
            for obj in page.get("Contents", []) if obj["Key"].endswith(".json")]
    return [Release.from_dict(json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
            for key in sorted(keys, reverse=True)]


def _image_digests(plan: Plan, clients: Any) -> dict[str, tuple[str, str, str]]:
    """job -> (repository, tag, digest) of each plan image as its repository has it now (absent ones skipped)."""
    ecr = clients.client("ecr")
    found = {}
    for image in plan.images:
        try:
            details = ecr.describe_images(repositoryName=image.repository, imageIds=[{"imageTag": image.tag}])
        except (ecr.exceptions.ImageNotFoundException, ecr.exceptions.RepositoryNotFoundException):
            continue
        found[image.job] = (image.repository, image.tag, str(details["imageDetails"][0]["imageDigest"]))
    return found


def _tag_images(ecr: Any, release: Release) -> None:
    for image in release.images:
        manifest = image_manifest(ecr, image.repository, image.digest)
        if manifest is None:
            continue
        with contextlib.suppress(ecr.exceptions.ImageAlreadyExistsException):
            ecr.put_image(repositoryName=image.repository, imageManifest=manifest, imageDigest=image.digest,
                          imageTag=f"{RELEASE_TAG_PREFIX}{release.id}"[:128])


def image_manifest(ecr: Any, repository: str, digest: str) -> str | None:
    """The manifest of ``repository@digest``, or None when that image no longer exists."""
    try:
        images = ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageDigest": digest}])["images"]
    except ecr.exceptions.RepositoryNotFoundException:
        return None
    return str(images[0]["imageManifest"]) if images else None
