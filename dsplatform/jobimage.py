"""Push the job's image to the deployed repository under the tag its deployed task definition names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsplatform.errors import DsPlatformError


class JobImageError(DsPlatformError):
    """The deployed task definition does not name an image this repo can build."""

    exit_code = 2


@dataclass(frozen=True)
class PushedImage:
    """The image that was pushed: repository, tag, ECR digest and the local source digest."""

    repository: str
    tag: str
    digest: str
    source_digest: str


def image_reference(ecs_client: Any, task_definition_arn: str, container: str) -> tuple[str, str]:
    """(repository name, tag) of ``container``'s image in the deployed task definition."""
    definition = ecs_client.describe_task_definition(taskDefinition=task_definition_arn)["taskDefinition"]
    for entry in definition.get("containerDefinitions", []):
        if entry.get("name") == container:
            image = str(entry["image"])
            path, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "latest")
            return path.rsplit("/", 1)[-1], tag or "latest"
    raise JobImageError(
        f"task definition {task_definition_arn} has no container {container!r}; redeploy with `invoke deploy`"
    )


def push_job_image(clients: Any, task_definition_arn: str, container: str, repo_root: Path) -> PushedImage:
    """Build+push ``containers/<name>/`` for the task definition's image (repository ``ds-<name>``)."""
    from dsplatform.images import push_local_image, source_digest

    repository, tag = image_reference(clients.client("ecs"), task_definition_arn, container)
    if not repository.startswith("ds-"):
        raise JobImageError(f"image repository {repository!r} does not follow ds-<name>; cannot map it to containers/")
    source = repo_root / "containers" / repository.removeprefix("ds-")
    if not (source / "Dockerfile").is_file():
        raise JobImageError(f"no {source}/Dockerfile for image repository {repository!r}; add containers/<name>/")
    digest = push_local_image(clients.client("ecr"), repository, tag, source)
    return PushedImage(repository=repository, tag=tag, digest=digest, source_digest=source_digest(source))
