"""Push a plan's job images under the commit's tag (and the configured tag), and record them by digest."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from dsplatform.config.models import IMAGE_TAG_RE
from dsplatform.errors import UsageError
from dsplatform.images import PushedImage, push_images
from dsplatform.stackspec import Plan


def registry_stacks(plan: Plan) -> list[str]:
    """The plan's stacks that hold ECR repositories (images are pushed once these exist)."""
    return [spec.name for spec in plan.stacks
            if any(r.get("Type") == "AWS::ECR::Repository" for r in spec.template.get("Resources", {}).values())]


def ensure_repositories(plan: Plan, clients: Any) -> list[str]:
    """Deploy the stacks holding the repositories (and their dependencies) so a first delivery can push."""
    from dsplatform.deployer import deploy

    names = registry_stacks(plan)
    if names:
        deploy(plan.select(names), clients).raise_for_failure()
    return names


def push_tagged(plan: Plan, clients: Any, tag: str | None) -> dict[str, PushedImage]:
    """Push every job image under ``tag`` (e.g. the commit) and under the tag the templates deploy.

    The task definitions name the configured tag; the commit tag makes each push traceable, and both name
    the same digest, which is what the record keeps.
    """
    if tag is not None and not IMAGE_TAG_RE.fullmatch(tag):
        raise UsageError(f"--tag {tag!r} is not an image tag; use letters, digits, _ . - (up to 128), e.g. the "
                         f"commit SHA")
    pushed = push_images(plan, clients)
    if tag:
        retagged = dataclasses.replace(plan, images=tuple(dataclasses.replace(i, tag=tag) for i in plan.images))
        extra = push_images(retagged, clients)
        for job, image in extra.items():
            if image.digest != pushed[job].digest:  # the same source pushed twice is the same manifest
                raise UsageError(f"image {job}: tag {tag} got {image.digest}, not {pushed[job].digest}; the source "
                                 f"changed during the push, run it again")
        pushed = extra
    return pushed


def record(pushed: dict[str, PushedImage], path: Path, env: str) -> Path:
    """Write ``{env, images: {job: {repository, tag, digest, source_digest}}}`` as JSON (the evidence)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"env": env, "images": {job: dataclasses.asdict(image) for job, image in sorted(pushed.items())}}
    path.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
