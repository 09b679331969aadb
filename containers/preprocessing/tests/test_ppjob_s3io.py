"""S3 streaming: the multipart writer commits only on close; the ranged reader retries and stays pinned."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import zlib
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError, ResponseStreamingError
from ds_preprocessing.s3io import MultipartWriter, RangedReader, s3_client
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


def _reader(platform: Platform, data: bytes, **kwargs: Any) -> RangedReader:
    platform.s3.put_object(Bucket=OUTPUT_BUCKET, Key="in.bin", Body=data)
    etag = platform.s3.head_object(Bucket=OUTPUT_BUCKET, Key="in.bin")["ETag"]
    return RangedReader(platform.s3, OUTPUT_BUCKET, "in.bin", len(data), {"IfMatch": etag}, **kwargs)


def test_ranged_reader_returns_the_whole_object_in_pieces(platform: Platform) -> None:
    data = os.urandom(100_000)
    reader = _reader(platform, data, range_size=7_000)
    pieces = list(iter(lambda: reader.read(3_000), b""))
    assert b"".join(pieces) == data
    assert max(len(p) for p in pieces) <= 3_000
    assert _reader(platform, b"").read(10) == b""


def test_ranged_reader_retries_a_reset_connection(platform: Platform) -> None:
    data = os.urandom(50_000)
    reader = _reader(platform, data, range_size=20_000)
    real_get = platform.s3.get_object
    failures = {"left": 1}

    def flaky_get(**kwargs: Any) -> Any:
        if failures["left"] and kwargs["Range"].startswith("bytes=20000-"):
            failures["left"] -= 1
            raise ResponseStreamingError(error="Connection reset by peer")
        return real_get(**kwargs)

    reader.s3 = type("FlakyS3", (), {"get_object": staticmethod(flaky_get)})()
    assert reader.read() == data and failures["left"] == 0


def test_ranged_reader_refuses_an_object_replaced_mid_read(platform: Platform) -> None:
    reader = _reader(platform, os.urandom(30_000), range_size=10_000)
    reader.read(10_000)
    platform.s3.put_object(Bucket=OUTPUT_BUCKET, Key="in.bin", Body=os.urandom(30_000))
    with pytest.raises(ClientError, match=r"PreconditionFailed|412"):
        reader.read(10_000)


def test_a_part_failing_in_the_background_fails_the_writer_and_leaves_nothing(platform: Platform) -> None:
    original = platform.s3.upload_part
    calls = {"n": 0}

    def flaky(**kwargs: Any) -> Any:
        calls["n"] += 1
        if kwargs["PartNumber"] == 2:
            raise ClientError({"Error": {"Code": "InternalError", "Message": "boom"}}, "UploadPart")
        return original(**kwargs)

    platform.s3.upload_part = flaky  # type: ignore[method-assign]
    writer = MultipartWriter(platform.s3, OUTPUT_BUCKET, "flaky.bin", "application/octet-stream", part_size=5 * MIB)
    with pytest.raises(ClientError, match="boom"):
        for _ in range(6):  # parts go out in the background; the failure surfaces on a later write or close
            writer.write(os.urandom(5 * MIB))
        writer.close()
    writer.abort()
    assert "flaky.bin" not in platform.list_keys()
    assert platform.s3.list_multipart_uploads(Bucket=OUTPUT_BUCKET).get("Uploads", []) == []


def _signing_headers(client: Any) -> dict[str, str]:
    """The checksum and payload-signing headers botocore sends with one UploadPart (answered here, not sent)."""
    seen: dict[str, str] = {}

    def capture(request: Any, **_: Any) -> AWSResponse:
        seen.update({k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()})
        return AWSResponse(request.url, 200, {"ETag": '"e"'}, None)

    client.meta.events.register("before-send.s3.UploadPart", capture)
    with contextlib.suppress(Exception):  # the stand-in answer has no body to parse; the headers are what counts
        client.upload_part(Bucket="b", Key="k", UploadId="u", PartNumber=1, Body=b"x" * 100)
    return {k: v for k, v in seen.items() if k in ("x-amz-content-sha256", "x-amz-checksum-crc32", "x-amz-trailer")}


@pytest.mark.parametrize(("endpoint", "unsigned_body"), [
    ("http://127.0.0.1:4566", True), ("http://localhost:4566", True), ("http://[::1]:4566", True),
    ("http://10.0.0.5:4566", False), ("http://localstack:4566", False), ("https://127.0.0.1:4566", False),
])
def test_s3_client_skips_the_body_hash_only_on_loopback(monkeypatch: pytest.MonkeyPatch, endpoint: str,
                                                                   unsigned_body: bool) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "a")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "b")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    headers = _signing_headers(s3_client())
    if endpoint.startswith("https"):  # over TLS, as botocore does by default: unsigned body, CRC32 in a trailer
        assert headers == {"x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                           "x-amz-trailer": "x-amz-checksum-crc32"}
        return
    # Over plain HTTP the CRC32 of the body is always sent (a signed header, checked by S3).
    assert headers["x-amz-checksum-crc32"] == base64.b64encode(zlib.crc32(b"x" * 100).to_bytes(4, "big")).decode()
    expected = "UNSIGNED-PAYLOAD" if unsigned_body else hashlib.sha256(b"x" * 100).hexdigest()
    assert headers["x-amz-content-sha256"] == expected


def test_s3_client_on_aws_keeps_botocore_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "a")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "b")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = s3_client()
    assert client.meta.endpoint_url.startswith("https://")
    assert client.meta.config.s3 is None or "payload_signing_enabled" not in client.meta.config.s3
