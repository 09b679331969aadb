"""Optional script and package from the artifact bucket: checksum-verified, applied, failures exit 5."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from typing import Any

import pyarrow.parquet as pq
from ds_preprocessing import artifacts
from ppjob_support import ARTIFACT_BUCKET, Platform, assert_nothing_committed

SCRIPT = b'''
import numpy as np

def transform(frame):
    frame = frame.copy()
    frame["amount_x2"] = frame["amount"].fillna(0.0) * 2
    return frame
'''


def _wheel(name: str, module_source: str) -> bytes:
    """Build a minimal, valid pure-Python wheel in memory."""
    files = {
        f"{name}/__init__.py": module_source.encode(),
        f"{name}-1.0.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode(),
        f"{name}-1.0.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{name}-1.0.dist-info/RECORD,,")
    files[f"{name}-1.0.dist-info/RECORD"] = ("\n".join(record) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return buffer.getvalue()


def _failed(platform: Platform, result: Any, code: int, fragment: str) -> None:
    assert result.code == code and result.last["exit_code"] == code and fragment in result.last["message"]
    assert_nothing_committed(platform, result.run_id)


def test_script_transform_is_applied_after_the_model(platform: Platform, run_job: Any) -> None:
    digest = artifacts.upload_artifact(platform.s3, ARTIFACT_BUCKET, "scripts/custom.py", SCRIPT)
    platform.put_param("script-key", "scripts/custom.py")
    assert run_job("script", block_size=8 << 10).code == 0
    rows = pq.read_table(io.BytesIO(platform.get("processed/script/data.parquet"))).to_pylist()
    assert rows and all(r["amount_x2"] == (r["amount"] or 0.0) * 2 for r in rows)
    manifest = platform.manifest("script")
    assert manifest["extensions"]["script"] == {"key": "scripts/custom.py", "sha256": digest}
    assert "amount_x2" in [f["name"] for f in manifest["output_schema"]]


def test_placeholder_script_key_means_not_set(platform: Platform, run_job: Any) -> None:
    platform.put_param("script-key", "none")
    assert run_job("placeholder").code == 0
    assert platform.manifest("placeholder")["extensions"]["script"] is None


def test_tampered_script_exits_5(platform: Platform, run_job: Any) -> None:
    artifacts.upload_artifact(platform.s3, ARTIFACT_BUCKET, "scripts/custom.py", SCRIPT)
    meta = platform.s3.head_object(Bucket=ARTIFACT_BUCKET, Key="scripts/custom.py")["Metadata"]
    tampered = SCRIPT + b"\nimport os\n"
    platform.s3.put_object(Bucket=ARTIFACT_BUCKET, Key="scripts/custom.py", Body=tampered, Metadata=meta)
    platform.put_param("script-key", "scripts/custom.py")
    _failed(platform, run_job(), 5, "failed its checksum")


def test_script_with_syntax_error_exits_5(platform: Platform, run_job: Any) -> None:
    artifacts.upload_artifact(platform.s3, ARTIFACT_BUCKET, "scripts/bad.py", b"def transform(frame)\n  return frame\n")
    platform.put_param("script-key", "scripts/bad.py")
    _failed(platform, run_job(), 5, "failed to import: SyntaxError")


def test_script_without_transform_exits_5(platform: Platform, run_job: Any) -> None:
    artifacts.upload_artifact(platform.s3, ARTIFACT_BUCKET, "scripts/none.py", b"x = 1\n")
    platform.put_param("script-key", "scripts/none.py")
    _failed(platform, run_job(), 5, "defines no transform(frame)")


def test_script_raising_exits_5_and_commits_nothing(platform: Platform, run_job: Any) -> None:
    artifacts.upload_artifact(platform.s3, ARTIFACT_BUCKET, "scripts/raise.py",
                              b"def transform(frame):\n    raise ValueError('column missing')\n")
    platform.put_param("script-key", "scripts/raise.py")
    _failed(platform, run_job("raise"), 5, "transform() raised ValueError: column missing")


def test_script_returning_non_frame_exits_5(platform: Platform, run_job: Any) -> None:
    source = b"def transform(frame):\n    return []\n"
    artifacts.upload_artifact(platform.s3, ARTIFACT_BUCKET, "scripts/list.py", source)
    platform.put_param("script-key", "scripts/list.py")
    _failed(platform, run_job(), 5, "returned list")


def test_missing_script_exits_5(platform: Platform, run_job: Any) -> None:
    platform.put_param("script-key", "scripts/absent.py")
    _failed(platform, run_job(), 5, "does not exist")


def test_package_is_installed_before_the_script_imports_it(platform: Platform, run_job: Any) -> None:
    wheel = _wheel("ds_custom_pkg", "def factor():\n    return 3.0\n")
    artifacts.upload_artifact(platform.s3, ARTIFACT_BUCKET, "packages/ds_custom_pkg-1.0-py3-none-any.whl", wheel)
    script = (
        b"import ds_custom_pkg\n\ndef transform(frame):\n"
        b"    frame['amount_x3'] = frame['amount'] * ds_custom_pkg.factor()\n    return frame\n"
    )
    artifacts.upload_artifact(platform.s3, ARTIFACT_BUCKET, "scripts/uses_pkg.py", script)
    platform.put_param("package-key", "packages/ds_custom_pkg-1.0-py3-none-any.whl")
    platform.put_param("script-key", "scripts/uses_pkg.py")
    assert run_job("pkg").code == 0
    rows = pq.read_table(io.BytesIO(platform.get("processed/pkg/data.parquet"))).to_pylist()
    assert all(r["amount_x3"] == (r["amount"] * 3.0 if r["amount"] is not None else None) for r in rows)
    assert platform.manifest("pkg")["extensions"]["package"]["key"].endswith(".whl")


def test_package_that_pip_rejects_exits_5(platform: Platform, run_job: Any) -> None:
    artifacts.upload_artifact(platform.s3, ARTIFACT_BUCKET, "packages/broken-1.0-py3-none-any.whl", b"not a zip")
    platform.put_param("package-key", "packages/broken-1.0-py3-none-any.whl")
    _failed(platform, run_job(), 5, "failed to install")
