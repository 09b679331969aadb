"""Code assets: deterministic zips named by content, the assets bucket, upload once, large templates by URL."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from dsplatform.deployer import assets
from dsplatform.deployer.errors import TemplateTooLargeError
from dsplatform.stackspec import CodeAsset, Plan, StackSpec, Target

ACCOUNT, REGION = "123456789012", "us-east-1"
TARGET = Target(env="dev", account_id=ACCOUNT, region=REGION, kind="localstack")


def _source(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "handler.py").write_text("def handler(event, context):\n    return 1\n")
    (root / "requirements.txt").write_text("# none\n")
    (root / "pkg" / "__pycache__").mkdir()
    (root / "pkg" / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"junk")
    return root


def test_same_source_gives_the_same_bytes_whatever_times_modes_and_order(tmp_path: Path) -> None:
    first = assets.zip_folder(_source(tmp_path / "a"))
    other = _source(tmp_path / "b")
    os.utime(other / "pkg" / "handler.py", (1_000_000_000, 1_000_000_000))
    (other / "requirements.txt").chmod(0o600)
    assert assets.zip_folder(other) == first
    names = zipfile.ZipFile(io.BytesIO(first)).namelist()
    assert names == ["pkg/__init__.py", "pkg/handler.py", "requirements.txt"]  # sorted, no caches


def test_zip_entries_have_fixed_timestamps_and_permissions(tmp_path: Path) -> None:
    archive = zipfile.ZipFile(io.BytesIO(assets.zip_folder(_source(tmp_path / "a"))))
    for info in archive.infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.external_attr >> 16 == 0o100644


def test_a_content_change_changes_the_name_and_an_unchanged_folder_is_not_rebuilt(tmp_path: Path) -> None:
    source, cache = _source(tmp_path / "src"), tmp_path / "cache"
    first = assets.build("ingest", source, cache)
    again = assets.build("ingest", source, cache)
    assert first.rebuilt and not again.rebuilt
    assert again.sha256 == first.sha256 and again.key == f"assets/{first.sha256}.zip"
    (source / "pkg" / "handler.py").write_text("def handler(event, context):\n    return 2\n")
    changed = assets.build("ingest", source, cache)
    assert changed.rebuilt and changed.sha256 != first.sha256
    data = changed.path.read_bytes()
    assert changed.sha256 == hashlib.sha256(data).hexdigest()
    assert changed.code_sha256 == base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_a_missing_source_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(assets.DeployerError, match="does not exist"):
        assets.build("ingest", tmp_path / "nope", tmp_path / "cache")


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("s3", region_name=REGION)


def _bucket(s3: Any) -> str:
    """The assets bucket, without its TLS-only policy: moto evaluates it and sees its own calls as plain HTTP."""
    name = assets.ensure_bucket(s3, ACCOUNT, REGION)
    s3.delete_bucket_policy(Bucket=name)
    return name


def test_assets_bucket_is_encrypted_private_versioned_with_lifecycle_and_tls_only(s3: Any) -> None:
    name = assets.ensure_bucket(s3, ACCOUNT, REGION)
    assert name == f"dsplatform-assets-{ACCOUNT}-{REGION}"
    assert assets.ensure_bucket(s3, ACCOUNT, REGION) == name  # idempotent
    rule = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert all(s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"].values())
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"][0]
    assert lifecycle["NoncurrentVersionExpiration"]["NoncurrentDays"] == assets.NONCURRENT_DAYS
    statement = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])["Statement"][0]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_publish_uploads_once(s3: Any, tmp_path: Path) -> None:
    bucket = _bucket(s3)
    built = assets.build("ingest", _source(tmp_path / "src"), tmp_path / "cache")
    assert assets.publish(s3, bucket, built) is True
    assert assets.publish(s3, bucket, built) is False
    versions = s3.list_object_versions(Bucket=bucket, Prefix=built.key).get("Versions", [])
    assert len(versions) == 1
    assert s3.get_object(Bucket=bucket, Key=built.key)["Body"].read() == built.path.read_bytes()


def _plan(source: Path, template: dict[str, Any] | None = None) -> Plan:
    asset = CodeAsset("ingest", source, "CodeBucket", "CodeKey", "CodeSha256")
    spec = StackSpec(
        name="ds-dev-ingest",
        component="ingest",
        template=template or {"Resources": {}},
        assets=(asset,),
        parameters={"Other": "x"},
    )
    return Plan(TARGET, (spec,))


def test_with_assets_fills_the_parameters_and_uploads_only_when_asked(s3: Any, tmp_path: Path) -> None:
    source, cache = _source(tmp_path / "src"), tmp_path / "cache"
    planned, built = assets.with_assets(_plan(source), None, upload=False, cache=cache)  # no client needed
    params = planned.stacks[0].parameters
    assert params == {
        "Other": "x",
        "CodeBucket": f"dsplatform-assets-{ACCOUNT}-{REGION}",
        "CodeKey": built[0].key,
        "CodeSha256": built[0].code_sha256,
    }
    assert s3.list_buckets()["Buckets"] == []
    _bucket(s3)
    assets.with_assets(_plan(source), s3, upload=True, cache=cache)
    assert s3.head_object(Bucket=params["CodeBucket"], Key=params["CodeKey"])["ContentLength"] == built[0].size


def test_large_templates_go_by_url_and_small_ones_inline(s3: Any) -> None:
    bucket = _bucket(s3)
    store = assets.TemplateStore(s3, bucket, REGION, "http://127.0.0.1:4650")
    small = StackSpec(name="s", component="s", template={"Resources": {}})
    big = StackSpec(name="b", component="b", template={"Resources": {}, "Metadata": {"pad": "x" * 60_000}})
    assert set(assets.template_argument(small, store)) == {"TemplateBody"}
    url = assets.template_argument(big, store)["TemplateURL"]
    assert url.startswith(f"http://127.0.0.1:4650/{bucket}/templates/") and url.endswith(".json")
    key = url.split(f"/{bucket}/", 1)[1]
    assert json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()) == big.template
    assert assets.TemplateStore(s3, bucket, REGION).url_for("{}").startswith(f"https://{bucket}.s3.{REGION}.")
    with pytest.raises(TemplateTooLargeError):
        assets.template_argument(big, None)
