"""The multipart writer: parts upload as they fill, the object appears on close, abort leaves nothing."""

from __future__ import annotations

import hashlib
import os

from ds_preprocessing.s3io import MultipartWriter
from ppjob_support import OUTPUT_BUCKET, Platform

MIB = 1 << 20


def test_large_write_becomes_one_multipart_object(platform: Platform) -> None:
    data = os.urandom(11 * MIB + 123)
    writer = MultipartWriter(platform.s3, OUTPUT_BUCKET, "big.bin", "application/octet-stream", part_size=5 * MIB)
    for start in range(0, len(data), 700_000):
        writer.write(data[start:start + 700_000])
    assert "big.bin" not in platform.list_keys()  # nothing visible before close
    assert writer.tell() == len(data)
    writer.close()
    body = platform.get("big.bin")
    assert hashlib.sha256(body).digest() == hashlib.sha256(data).digest()
    assert platform.s3.head_object(Bucket=OUTPUT_BUCKET, Key="big.bin")["ETag"].strip('"').endswith("-3")


def test_small_write_is_a_single_put(platform: Platform) -> None:
    with MultipartWriter(platform.s3, OUTPUT_BUCKET, "small.txt", "text/plain") as writer:
        writer.write(b"hello")
    assert platform.get("small.txt") == b"hello"


def test_abort_leaves_no_object_and_no_pending_upload(platform: Platform) -> None:
    writer = MultipartWriter(platform.s3, OUTPUT_BUCKET, "gone.bin", "application/octet-stream", part_size=5 * MIB)
    writer.write(os.urandom(6 * MIB))
    writer.abort()
    assert "gone.bin" not in platform.list_keys()
    assert platform.s3.list_multipart_uploads(Bucket=OUTPUT_BUCKET).get("Uploads", []) == []


def test_exception_in_with_block_aborts(platform: Platform) -> None:
    try:
        with MultipartWriter(platform.s3, OUTPUT_BUCKET, "err.bin", "application/octet-stream") as writer:
            writer.write(b"partial")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert "err.bin" not in platform.list_keys()
