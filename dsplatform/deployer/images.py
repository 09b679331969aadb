"""Pin a stack's job image by digest: the ``ImageDigest`` parameter gets the digest pushed under the job's tag.

Deploy order for a component that runs an image: its registry stack, then the push (which records the
digest in ECR under the tag), then the component's stack with that digest as a parameter. With nothing
pushed yet the parameter keeps its empty default and the task definition names the tag, so a plain
``invoke deploy`` of a fresh environment still works; the next deploy after a push pins the digest.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from botocore.exceptions import ClientError

from dsplatform.stackspec import JobImage, Plan, StackSpec

IMAGE_DIGEST_PARAMETER = "ImageDigest"
_ABSENT = ("RepositoryNotFoundException", "ImageNotFoundException")


def pushed_digest(ecr: Any, image: JobImage) -> str | None:
    """The digest ECR holds under the image's tag, or None when the repository or the image is not there."""
    try:
        found = ecr.describe_images(repositoryName=image.repository, imageIds=[{"imageTag": image.tag}])
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in _ABSENT:
            return None
        raise
    details = found.get("imageDetails") or []
    return str(details[0]["imageDigest"]) if details else None


def _wants_digest(spec: StackSpec) -> bool:
    declared = spec.template.get("Parameters") or {}
    return IMAGE_DIGEST_PARAMETER in declared and IMAGE_DIGEST_PARAMETER not in spec.parameters


def with_image_digests(plan: Plan, ecr: Any) -> Plan:
    """The plan with ``ImageDigest`` filled for every stack that declares it and whose job image is pushed."""
    stacks = []
    for spec in plan.stacks:
        images = [i for i in plan.images if i.component == spec.component]
        # One image per component can be pinned through the one parameter; several would need one each.
        if _wants_digest(spec) and len(images) == 1 and (digest := pushed_digest(ecr, images[0])):
            spec = dataclasses.replace(spec, parameters={**spec.parameters, IMAGE_DIGEST_PARAMETER: digest})
        stacks.append(spec)
    return dataclasses.replace(plan, stacks=tuple(stacks))


def image_stacks_first(plan: Plan) -> Plan | None:
    """The stacks to deploy before the images can be pushed: every stack that neither runs an image nor
    depends on one that does (the repositories are among them). None when the plan has no image."""
    consumers = {spec.name for spec in plan.stacks if any(i.component == spec.component for i in plan.images)}
    return plan.before(consumers) if consumers else None
