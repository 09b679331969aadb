"""Multipart uploads with the extension's assembly (s3_multipart): the same answers as before, and each part's
storage released as soon as it is in the object (the disk no longer holds a big upload twice)."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import uuid
import zlib
from pathlib import Path
from typing import Any

import boto3
import pytest

EXTENSION = Path(__file__).resolve().parents[2] / "localstack" / "extension"
pytestmark = pytest.mark.localstack

MIB = 1 << 20


def _s3(localstack: Any) -> Any:
    return boto3.client("s3", endpoint_url=localstack.endpoint_url, region_name="us-east-1",
                        aws_access_key_id="111111111111", aws_secret_access_key="test")


def test_a_completed_upload_reads_back_whole_with_aws_etag_checksum_and_parts(localstack: Any) -> None:
    s3 = _s3(localstack)
    bucket, key = f"mpu-{uuid.uuid4().hex[:12]}", "big/data.csv"
    s3.create_bucket(Bucket=bucket)
    parts = [bytes([65 + n]) * size for n, size in enumerate((5 * MIB, 5 * MIB, 1234))]
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm="CRC32")["UploadId"]
    done = []
    for number, body in enumerate(parts, start=1):
        answer = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=number, Body=body,
                                ChecksumAlgorithm="CRC32")
        done.append({"PartNumber": number, "ETag": answer["ETag"], "ChecksumCRC32": answer["ChecksumCRC32"]})
    completed = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload,
                                             MultipartUpload={"Parts": done})

    # AWS's multipart ETag: the MD5 of the parts' binary MD5s, dash, the part count.
    expected_etag = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + "-3"
    assert completed["ETag"].strip('"') == expected_etag
    got = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert got["Body"].read() == b"".join(parts)
    crcs = b"".join(zlib.crc32(p).to_bytes(4, "big") for p in parts)
    assert got["ChecksumCRC32"] == base64.b64encode(zlib.crc32(crcs).to_bytes(4, "big")).decode() + "-3"
    second = s3.get_object(Bucket=bucket, Key=key, PartNumber=2)
    assert second["Body"].read() == parts[1] and second["PartsCount"] == 3

    # The upload is gone once complete, as on AWS; its parts can no longer be listed.
    with pytest.raises(s3.exceptions.NoSuchUpload):
        s3.list_parts(Bucket=bucket, Key=key, UploadId=upload)
    s3.delete_object(Bucket=bucket, Key=key)
    s3.delete_bucket(Bucket=bucket)


_WHITE_BOX = """
import json, sys
sys.path.insert(0, sys.argv[1])
from localstack.services.s3.models import S3Multipart, S3Part
from localstack.services.s3.storage.ephemeral import EphemeralS3ObjectStore, EphemeralS3StoredObject
from dsplatform_localstack import s3_multipart
s3_multipart.install()

store = EphemeralS3ObjectStore()
store.create_bucket("b")
upload = S3Multipart(key="k")
stored = store.get_multipart("b", upload)
parts = []
for number, body in enumerate([b"a" * 700_000, b"b" * 700_000, b"c" * 10], start=1):
    part = S3Part(part_number=number)
    with stored.open(part, mode="w") as handle:
        handle.write(__import__("io").BytesIO(body))
    parts.append(part)
live = []
append = EphemeralS3StoredObject.append
def counting(self, part):
    live.append(len(stored.parts))
    return append(self, part)
EphemeralS3StoredObject.append = counting
stored.complete_multipart(parts)
with store.open("b", upload.object, mode="r") as whole:
    data = whole.read()
print(json.dumps({"live": live, "left": len(stored.parts), "size": len(data),
                  "ok": data == b"a" * 700_000 + b"b" * 700_000 + b"c" * 10}))
"""


def test_each_part_is_released_once_it_is_in_the_object(localstack: Any) -> None:
    from dsplatform.localstack import LocalStackSettings
    from dsplatform.localstack.venv import ensure_venv

    python = ensure_venv(LocalStackSettings()) / "bin" / "python"
    result = subprocess.run([str(python), "-c", _WHITE_BOX, str(EXTENSION)], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["ok"] and outcome["size"] == 1_400_010
    # Parts still stored when each one is appended: 3, then 2, then 1 (LocalStack's own assembly: 3, 3, 3).
    assert outcome["live"] == [3, 2, 1] and outcome["left"] == 0
