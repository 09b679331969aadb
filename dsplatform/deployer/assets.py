"""Code assets, as CDK does: a function's folder zipped deterministically, named by content, uploaded once.

The zip is the same bytes for the same source (sorted entries, fixed timestamps and permissions, one
compression level), so its SHA-256 names it: ``assets/<sha256>.zip`` in the assets bucket the deployer owns in
each account and region. A template takes an asset through parameters (bucket, key, and Lambda's base64
``CodeSha256``, which publishes a new version exactly when the code changes); the deployer fills them. An
unchanged folder is not zipped again (a cache keyed by the folder's digest) and not uploaded again (the key
exists). The same bucket holds templates over CloudFormation's inline limit, deployed by TemplateURL.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import os
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from dsplatform.deployer.errors import DeployerError
from dsplatform.deployer.params import TEMPLATE_BODY_LIMIT, template_body, template_json
from dsplatform.hashing import files_sha256, source_files
from dsplatform.stackspec import CodeAsset, Plan, StackSpec

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold
FILE_MODE = 0o100644  # regular file, rw-r--r--: the same on every machine and checkout
COMPRESS_LEVEL = 6
NONCURRENT_DAYS = 30  # replaced template/asset versions are kept this long


@dataclass(frozen=True)
class BuiltAsset:
    """A zipped asset: where the zip is, its content hash, the S3 key it is published under."""

    name: str
    path: Path
    sha256: str  # hex, names the object
    code_sha256: str  # base64 of the same digest: Lambda's CodeSha256
    size: int
    rebuilt: bool  # False when the zip came from the cache

    @property
    def key(self) -> str:
        """The object key in the assets bucket."""
        return f"assets/{self.sha256}.zip"


def zip_folder(source: Path) -> bytes:
    """The folder's source files (``hashing.source_files``) as a deterministic zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in source_files(source):
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=ZIP_EPOCH)
            info.external_attr = FILE_MODE << 16
            info.create_system = 3  # unix, whatever the building machine
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=COMPRESS_LEVEL)
    return buffer.getvalue()


def cache_dir() -> Path:
    """Where built zips are kept: $DSPLATFORM_CACHE_DIR/assets or ~/.cache/dsplatform/assets."""
    configured = os.environ.get("DSPLATFORM_CACHE_DIR")
    return (Path(configured).expanduser() if configured else Path.home() / ".cache" / "dsplatform") / "assets"


def build(name: str, source: Path, cache: Path | None = None) -> BuiltAsset:
    """The asset's zip: reused from the cache when the folder's digest is unchanged, else built and cached."""
    if not source.is_dir():
        raise DeployerError(f"asset {name}: source folder {source} does not exist; create it or fix the component")
    cache = cache or cache_dir()
    files = source_files(source)
    digest = files_sha256(source, files)
    zip_path, sha_path = cache / f"{digest}.zip", cache / f"{digest}.sha256"
    if zip_path.is_file() and sha_path.is_file():
        sha = sha_path.read_text().strip()
        return BuiltAsset(name, zip_path, sha, _b64(sha), zip_path.stat().st_size, rebuilt=False)
    data = zip_folder(source)
    sha = hashlib.sha256(data).hexdigest()
    cache.mkdir(parents=True, exist_ok=True)
    tmp = zip_path.with_suffix(f".tmp-{os.getpid()}-{threading.get_ident()}")
    tmp.write_bytes(data)
    tmp.replace(zip_path)  # atomic: a concurrent build never sees half a zip
    sha_path.write_text(sha)
    return BuiltAsset(name, zip_path, sha, _b64(sha), len(data), rebuilt=True)


def _b64(sha_hex: str) -> str:
    return base64.b64encode(bytes.fromhex(sha_hex)).decode()


def bucket_name(account_id: str, region: str) -> str:
    """The deployer's assets bucket of one account and region."""
    return f"dsplatform-assets-{account_id}-{region}"


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def ensure_bucket(s3: Any, account_id: str, region: str, name: str | None = None) -> str:
    """Create the assets bucket if it is missing (encrypted, private, versioned, lifecycle, TLS only); its name.

    ``name`` is the project's (``Target.assets_bucket``, the one `invoke bootstrap` creates on AWS); without it,
    the account-wide default.
    """
    name = name or bucket_name(account_id, region)
    try:
        s3.head_bucket(Bucket=name, ExpectedBucketOwner=account_id)
        return name
    except ClientError as err:
        if _code(err) in ("403", "AccessDenied"):
            raise DeployerError(
                f"assets bucket {name} exists but belongs to another account (or denies this one); "
                f"delete it there or deploy with that account's credentials"
            ) from err
        if _code(err) not in ("404", "NoSuchBucket", "NotFound"):
            raise
    kwargs: dict[str, Any] = {"Bucket": name, "ObjectOwnership": "BucketOwnerEnforced"}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**kwargs)
    except ClientError as err:
        if _code(err) != "BucketAlreadyOwnedByYou":  # a concurrent deploy made it: configure it anyway
            raise
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": lifecycle_rules()})
    s3.put_bucket_policy(Bucket=name, Policy=tls_only_policy(name))
    return name


def lifecycle_rules() -> list[dict[str, Any]]:
    """Replaced versions expire; unfinished uploads are aborted. Current assets stay: old stacks may name them."""
    return [
        {
            "ID": "expire-noncurrent",
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "NoncurrentVersionExpiration": {"NoncurrentDays": NONCURRENT_DAYS},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        }
    ]


def tls_only_policy(name: str) -> str:
    """A bucket policy denying every request that does not use TLS."""
    import json

    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        },
        sort_keys=True,
    )


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return True
    except ClientError as err:
        if _code(err) in ("404", "NoSuchKey", "NotFound"):
            return False
        raise


def publish(s3: Any, bucket: str, asset: BuiltAsset) -> bool:
    """Upload the zip unless its key is already there; True when it was uploaded."""
    if _exists(s3, bucket, asset.key):
        return False
    s3.put_object(
        Bucket=bucket,
        Key=asset.key,
        Body=asset.path.read_bytes(),
        ServerSideEncryption="AES256",
        ChecksumSHA256=asset.code_sha256,
    )
    return True


def asset_parameters(asset: CodeAsset, built: BuiltAsset, bucket: str) -> dict[str, str]:
    """The template parameter values that point a stack at this asset."""
    return {asset.bucket_parameter: bucket, asset.key_parameter: built.key, asset.sha256_parameter: built.code_sha256}


def with_assets(plan: Plan, s3: Any | None, upload: bool, cache: Path | None = None) -> tuple[Plan, list[BuiltAsset]]:
    """The plan with every stack's asset parameters filled (zips built or reused; uploaded when ``upload``).

    Without assets in the plan nothing is contacted. ``s3`` may be None when ``upload`` is False.
    """
    if not any(spec.assets for spec in plan.stacks):
        return plan, []
    bucket = plan.target.assets_bucket or bucket_name(plan.target.account_id, plan.target.region)
    if upload:
        bucket = ensure_bucket(s3, plan.target.account_id, plan.target.region, plan.target.assets_bucket or None)
    built_all: list[BuiltAsset] = []
    stacks: list[StackSpec] = []
    for spec in plan.stacks:
        values: dict[str, str] = {}
        for asset in spec.assets:
            built = build(asset.name, asset.source, cache)
            if upload:
                publish(s3, bucket, built)
            values.update(asset_parameters(asset, built, bucket))
            built_all.append(built)
        stacks.append(dataclasses.replace(spec, parameters={**spec.parameters, **values}) if values else spec)
    return dataclasses.replace(plan, stacks=tuple(stacks)), built_all


@dataclass(frozen=True)
class TemplateStore:
    """Uploads templates over the inline limit to the assets bucket and answers the TemplateURL to use."""

    s3: Any
    bucket: str
    region: str
    endpoint_url: str | None = None  # LocalStack's gateway (path-style URLs); None on AWS

    def url_for(self, body: str) -> str:
        """Upload ``body`` once under its SHA-256 and return its URL."""
        data = body.encode()
        key = f"templates/{hashlib.sha256(data).hexdigest()}.json"
        if not _exists(self.s3, self.bucket, key):
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, ServerSideEncryption="AES256")
        if self.endpoint_url:
            return f"{self.endpoint_url.rstrip('/')}/{self.bucket}/{key}"
        return f"https://{self.bucket}.s3.{self.region}.amazonaws.com/{key}"


def too_large(spec: StackSpec) -> bool:
    """True when the stack's template is over CloudFormation's inline TemplateBody limit."""
    return len(template_json(spec).encode()) > TEMPLATE_BODY_LIMIT


def template_argument(spec: StackSpec, store: TemplateStore | None) -> dict[str, str]:
    """``TemplateBody`` for a template within the inline limit, else ``TemplateURL`` of its uploaded copy."""
    if store is None or not too_large(spec):
        return {"TemplateBody": template_body(spec)}  # raises TemplateTooLargeError without a store
    return {"TemplateURL": store.url_for(template_json(spec))}
