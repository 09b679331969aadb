"""Local image "build + push": record a container folder's source digest in ECR, so runs name an image digest."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsplatform.errors import DsPlatformError
from dsplatform.hashing import files_sha256, folder_sha256, source_files
from dsplatform.stackspec import Plan

MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
SOURCE_DIGEST_ANNOTATION = "org.dsplatform.source-digest"


class ImageSourceError(DsPlatformError):
    """The folder to "build" is not an image source (missing, or without a Dockerfile)."""

    exit_code = 2


def _check_source(source_dir: Path) -> Path:
    source_dir = Path(source_dir)
    if not (source_dir / "Dockerfile").is_file():
        raise ImageSourceError(
            f"image source {str(source_dir)!r} has no Dockerfile; point at a containers/<name>/ folder"
        )
    return source_dir


def source_digest(source_dir: Path) -> str:
    """`sha256:<hex>` over the folder's sorted relative paths and bytes (caches, venvs, build output ignored)."""
    return f"sha256:{folder_sha256(_check_source(source_dir))}"


def image_manifest(source_dir: Path) -> str:
    """A small OCI manifest whose config/layer digest and annotation are the folder's source digest."""
    source_dir = _check_source(source_dir)
    files = source_files(source_dir)  # walked once for both the digest and the size
    digest = f"sha256:{files_sha256(source_dir, files)}"
    size = sum(p.stat().st_size for p in files)
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2, "digest": digest},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": size, "digest": digest}],
        "annotations": {SOURCE_DIGEST_ANNOTATION: digest},
    }
    return json.dumps(manifest, sort_keys=True, separators=(",", ":"))


def manifest_digest(manifest: str) -> str:
    """How a registry names a manifest: its SHA-256."""
    return f"sha256:{hashlib.sha256(manifest.encode()).hexdigest()}"


def image_digest(source_dir: Path) -> str:
    """The digest a push of the folder yields (its manifest's SHA-256), known before pushing."""
    return manifest_digest(image_manifest(source_dir))


def snapshot_dir(digest: str) -> Path:
    """Where the source of the local image ``digest`` is kept: LocalStack's local ECS runs a tag's digest from here."""
    from dsplatform.localstack.settings import cache_dir

    return cache_dir() / "images" / "snapshots" / digest.split(":")[-1]


def snapshot(source_dir: Path, digest: str) -> Path:
    """Copy the image's source once, under its digest, so the image stays what it was when the folder changes.

    A real registry keeps an image's layers by digest; without Docker the folder is the image, so a pushed
    digest gets a frozen copy (what a rollback to that digest runs). Written to a staging folder and renamed.
    """
    target = snapshot_dir(digest)
    if (target / "Dockerfile").is_file():
        return target
    staging = target.with_name(f"{target.name}.staging-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    for path in source_files(source_dir):
        dest = staging / path.relative_to(source_dir)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
    try:
        staging.rename(target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)  # another push made the same copy first
    return target


def push_local_image(ecr_client: Any, repository: str, tag: str, source_dir: Path) -> str:
    """PutImage a manifest recording the folder's source digest under ``tag``; return ECR's ``imageDigest``.

    The digest passed is the manifest's SHA-256, which is how a registry names a manifest, so the
    same source pushed twice yields the same image digest.
    """
    manifest = image_manifest(Path(source_dir))  # walks and hashes every file: once per push
    digest = manifest_digest(manifest)
    snapshot(Path(source_dir), digest)
    try:
        response = ecr_client.put_image(
            repositoryName=repository,
            imageTag=tag,
            imageManifest=manifest,
            imageManifestMediaType=MANIFEST_MEDIA_TYPE,
            imageDigest=digest,
        )
    except ecr_client.exceptions.ImageAlreadyExistsException:
        # Same manifest already under this tag: that's the image, not an error.
        images = ecr_client.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
        return str(images["imageDetails"][0]["imageDigest"])
    return str(response["image"]["imageId"]["imageDigest"])


@dataclass(frozen=True)
class PushedImage:
    """An image pushed for a job: repository, tag, ECR digest and the local source digest."""

    job: str
    repository: str
    tag: str
    digest: str
    source_digest: str


def push_images(plan: Plan, clients: Any, *, only_existing: bool = False,
                skip: frozenset[str] = frozenset()) -> dict[str, PushedImage]:
    """"Build" and push every job image of the plan to its deployed repository; job -> what was pushed.

    Repository names and tags come from the plan (the naming module and config), sources from the project
    root, so a consumer's jobs are pushed exactly like the stock one. ``only_existing`` leaves out images whose
    repository does not exist yet (a component that creates its own repository and runs its image gets its
    image after its stack is deployed); ``skip`` names jobs already pushed.
    """
    ecr = clients.client("ecr")
    pushed = {}
    for image in plan.images:
        if image.job in skip:
            continue
        if only_existing and not _repository_exists(ecr, image.repository):
            continue
        digest = push_local_image(ecr, image.repository, image.tag, image.source)
        pushed[image.job] = PushedImage(job=image.job, repository=image.repository, tag=image.tag, digest=digest,
                                        source_digest=source_digest(image.source))
    return pushed


def _repository_exists(ecr: Any, repository: str) -> bool:
    try:
        ecr.describe_repositories(repositoryNames=[repository])
    except ecr.exceptions.RepositoryNotFoundException:
        return False
    return True


VERSION_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def check_version(version: str) -> str:
    """``version`` if it can be a version tag (not ``latest``); UsageError naming --version otherwise."""
    from dsplatform.display import shown
    from dsplatform.errors import UsageError

    if not VERSION_TAG_RE.fullmatch(version) or version == "latest":
        raise UsageError(f"--version {shown(version)} is not a version tag; use letters, digits, _ . - (up to 128), "
                         f"e.g. v1.2.3, and not 'latest'")
    return version


def tag_images(plan: Plan, clients: Any, version: str) -> list[str]:
    """Add tag ``version`` to the image each job's tag names now; refuse to move a version that names another digest."""
    from dsplatform.errors import UsageError

    check_version(version)
    ecr = clients.client("ecr")
    lines = []
    for image in plan.images:
        found = ecr.batch_get_image(repositoryName=image.repository, imageIds=[{"imageTag": image.tag}])["images"]
        if not found:
            raise UsageError(f"image {image.repository}:{image.tag} does not exist; push it first (`invoke e2e` or "
                             f"`invoke deploy` then the image push)")
        digest = found[0]["imageId"]["imageDigest"]
        existing = ecr.batch_get_image(repositoryName=image.repository, imageIds=[{"imageTag": version}])["images"]
        if existing and existing[0]["imageId"]["imageDigest"] != digest:
            raise UsageError(f"--version {version}: {image.repository}:{version} already names "
                             f"{existing[0]['imageId']['imageDigest'][:19]}...; version tags are never moved, pick "
                             f"a new version")
        if not existing:
            ecr.put_image(repositoryName=image.repository, imageManifest=found[0]["imageManifest"],
                          imageDigest=digest, imageTag=version)
        lines.append(f"{image.repository}:{version} -> {digest}")
    return lines
