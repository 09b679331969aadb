"""Local image "build + push": deterministic source digests and ECR image digests."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from dsplatform.images import ImageSourceError, push_local_image, source_digest
from tests.localstack.support import ACCOUNT, unique


def _make_source(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "Dockerfile").write_text('FROM python:3.11-slim\nWORKDIR /app\nENTRYPOINT ["python", "-m", "pkg"]\n')
    (root / "requirements.txt").write_text("")
    (root / "pkg" / "__main__.py").write_text("print('hi')\n")
    return root


def test_source_digest_is_deterministic_and_ignores_caches(tmp_path: Path) -> None:
    source = _make_source(tmp_path / "a")
    first = source_digest(source)
    (source / "pkg" / "__pycache__").mkdir()
    (source / "pkg" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\x00")
    (source / ".venv" / "bin").mkdir(parents=True)
    (source / ".venv" / "bin" / "python").write_text("")
    assert source_digest(source) == first
    copy = shutil.copytree(source, tmp_path / "b", ignore=shutil.ignore_patterns("__pycache__", ".venv"))
    assert source_digest(copy) == first
    assert first.startswith("sha256:") and len(first) == 71


def test_source_digest_changes_with_content_and_names(tmp_path: Path) -> None:
    source = _make_source(tmp_path / "a")
    before = source_digest(source)
    (source / "pkg" / "__main__.py").write_text("print('changed')\n")
    changed = source_digest(source)
    (source / "pkg" / "__main__.py").rename(source / "pkg" / "main.py")
    renamed = source_digest(source)
    assert len({before, changed, renamed}) == 3


def test_a_symlinked_package_is_part_of_the_image_and_of_its_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the api image links the job's package in: its files change the digest and are in the frozen copy."""
    from dsplatform.images import snapshot

    monkeypatch.setenv("DSPLATFORM_CACHE_DIR", str(tmp_path / "cache"))
    shared = tmp_path / "shared" / "lib"
    shared.mkdir(parents=True)
    (shared / "core.py").write_text("X = 1\n")
    source = _make_source(tmp_path / "a")
    (source / "lib").symlink_to(shared, target_is_directory=True)
    (source / "loop").symlink_to(source, target_is_directory=True)  # a link back in is not walked twice
    before = source_digest(source)
    (shared / "core.py").write_text("X = 2\n")
    after = source_digest(source)
    assert before != after
    frozen = snapshot(source, after)
    assert (frozen / "lib" / "core.py").read_text() == "X = 2\n" and not (frozen / "lib").is_symlink()


def test_a_folder_without_dockerfile_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImageSourceError, match="no Dockerfile"):
        source_digest(tmp_path)


@pytest.mark.localstack
def test_push_records_the_source_and_returns_ecr_digest(localstack: Any, tmp_path: Path) -> None:
    ecr = localstack.client("ecr", ACCOUNT)
    repository = unique("lsimages")
    ecr.create_repository(repositoryName=repository)
    try:
        source = _make_source(tmp_path / "src")
        digest = push_local_image(ecr, repository, "v1", source)
        again = push_local_image(ecr, repository, "v1", source)
        images = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": "v1"}])["imageDetails"]
        assert digest == again == images[0]["imageDigest"]
        manifest = ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageTag": "v1"}])["images"][0]
        assert source_digest(source) in manifest["imageManifest"]
        (source / "pkg" / "__main__.py").write_text("print('v2')\n")
        assert push_local_image(ecr, repository, "v2", source) != digest
    finally:
        ecr.delete_repository(repositoryName=repository, force=True)
