"""Checksummed artifacts in S3: the SHA-256 travels as object metadata ``sha256`` and is verified on download."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ds_preprocessing.errors import JobError

SHA256_METADATA_KEY = "sha256"
_NOT_FOUND = {"NoSuchKey", "404", "NotFound", "NoSuchBucket"}


def sha256_hex(data: bytes) -> str:
    """Return the SHA-256 of ``data`` as lowercase hex."""
    return hashlib.sha256(data).hexdigest()


def upload_artifact(
    s3_client: Any, bucket: str, key: str, data: bytes, metadata: dict[str, str] | None = None
) -> str:
    """Upload ``data`` with its SHA-256 in metadata ``sha256`` and return that checksum."""
    digest = sha256_hex(data)
    s3_client.put_object(Bucket=bucket, Key=key, Body=data, Metadata={**(metadata or {}), SHA256_METADATA_KEY: digest})
    return digest


@dataclass(frozen=True)
class VerifiedObject:
    """An artifact whose content matched its recorded checksum."""

    bucket: str
    key: str
    data: bytes
    sha256: str
    metadata: dict[str, str]
    etag: str
    version_id: str | None


def download_verified(
    s3_client: Any, bucket: str, key: str, what: str, error: type[JobError], hint: str
) -> VerifiedObject:
    """Download an artifact and refuse it (raise ``error``) if it is missing, unsigned or altered.

    ``what`` names the artifact in messages ("model", "script"); ``hint`` says how to (re)upload it.
    """
    where = f"s3://{bucket}/{key}"
    try:
        response = s3_client.get_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _NOT_FOUND:
            raise error(f"{what} {where} does not exist ({code}); {hint}") from exc
        raise error(f"{what} {where} cannot be read: {code or exc}; check the task role's s3:GetObject") from exc
    data = response["Body"].read()
    metadata = {k.lower(): v for k, v in response.get("Metadata", {}).items()}
    expected = metadata.get(SHA256_METADATA_KEY, "").strip().lower()
    if not expected:
        raise error(f"{what} {where} has no '{SHA256_METADATA_KEY}' metadata, so it cannot be trusted; {hint}")
    actual = sha256_hex(data)
    if actual != expected:
        raise error(
            f"{what} {where} failed its checksum (metadata sha256 {expected[:16]}..., content sha256 "
            f"{actual[:16]}...); refusing to use it; {hint}"
        )
    return VerifiedObject(
        bucket=bucket, key=key, data=data, sha256=actual, metadata=metadata,
        etag=str(response.get("ETag", "")).strip('"'), version_id=response.get("VersionId"),
    )
