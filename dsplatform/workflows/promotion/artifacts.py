"""The model that passed e2e, pinned by its bytes: recorded with the e2e pass, verified when promoting.

The job's sidecar checksum is written by the same uploader as the model, so anyone who can write the artifact
bucket can replace both. The e2e record therefore carries the SHA-256 of the model object itself (and its
S3 version), computed by reading it back; ``invoke promote`` reads the object the promoted environment will
read and refuses when its bytes are not the ones that passed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

_CHUNK = 1 << 20


@dataclass(frozen=True)
class ArtifactEvidence:
    """One artifact as it passed: where it is, the SHA-256 of its bytes and the S3 version read."""

    name: str  # what the job calls it, e.g. model-key
    bucket: str
    key: str
    sha256: str
    version_id: str = ""


def object_sha256(s3: Any, bucket: str, key: str) -> tuple[str, str] | None:
    """(SHA-256 hex of the object's bytes, its version id), or None when there is no such object."""
    try:
        response = s3.get_object(Bucket=bucket, Key=key)
    except (s3.exceptions.NoSuchKey, s3.exceptions.NoSuchBucket):
        return None
    digest = hashlib.sha256()
    for chunk in response["Body"].iter_chunks(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest(), str(response.get("VersionId") or "")


def model_evidence(plan: Any, clients: Any) -> tuple[ArtifactEvidence, ...]:
    """The model the deployed job reads (its SSM ``artifact-bucket`` and ``model-key``), hashed from S3."""
    from dsplatform.jobdata import job_locations

    where = job_locations(plan, clients)
    bucket, key = where.settings.get("artifact-bucket"), where.settings.get("model-key")
    if not bucket or not key:
        return ()
    found = object_sha256(clients.client("s3"), bucket, key)
    if found is None:
        return ()
    return (ArtifactEvidence(name="model-key", bucket=bucket, key=key, sha256=found[0], version_id=found[1]),)


def artifact_problems(s3: Any, passed: tuple[ArtifactEvidence, ...]) -> list[str]:
    """What differs between the artifacts that passed and those in the buckets now (empty when all match)."""
    problems = []
    for item in passed:
        now = object_sha256(s3, item.bucket, item.key)
        where = f"s3://{item.bucket}/{item.key}"
        if now is None:
            problems.append(f"{item.name} {where} that passed e2e is gone")
        elif now[0] != item.sha256:
            problems.append(f"{item.name} {where} changed since e2e passed: sha256 {now[0][:12]}..., "
                            f"tested {item.sha256[:12]}...")
    return problems
