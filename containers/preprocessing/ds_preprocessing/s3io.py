"""Streaming S3 I/O: a multipart-upload writer and a ranged-GET reader, so neither output nor input sits in memory."""

from __future__ import annotations

import contextlib
import io
import ipaddress
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError
from urllib3.exceptions import ProtocolError

from ds_preprocessing.stages import name_os_thread

# S3 parts must be >= 5 MiB except the last. Each part is one request, and a request costs the job and the
# server a fixed amount of CPU on top of its bytes: 8 MiB parts rather than 5 MiB cost less CPU on both sides
# (measured against LocalStack, docs/job.md), for about 3 parts x 3 MiB more memory per object in flight;
# 10,000 parts of 8 MiB allow outputs up to ~80 GB (a ~35 GB input: the CSV output is about 2.2x the input).
DEFAULT_PART_SIZE = 8 << 20
# Parts uploading at once per object: the caller encodes the next part while S3 takes the previous ones.
DEFAULT_PARTS_IN_FLIGHT = 2


def s3_client() -> Any:
    """``boto3.client("s3")``, except that on a loopback endpoint over plain HTTP the body is not hashed for SigV4.

    Over HTTPS (AWS) botocore sends every part unsigned with a CRC32 checksum (a trailer) that S3 verifies, with
    or without this setting. Over plain HTTP it also hashes each body with SHA-256 to sign it, which cost the
    job about 1.2 CPU s per GB of input (2.3 GB of outputs) against LocalStack. On a loopback address
    (LocalStack on this host: no network to tamper with the bytes) the body is sent unsigned as it is over HTTPS,
    its CRC32 still computed, signed (as a header) and checked by S3; any other endpoint keeps botocore's
    defaults.
    """
    client = boto3.client("s3")
    if _is_loopback(client.meta.endpoint_url):
        return boto3.client("s3", config=Config(s3={"payload_signing_enabled": False}))
    return client


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class MultipartWriter(io.RawIOBase):
    """Write-only file whose bytes go to ``s3://bucket/key`` in parts; the object appears only on ``close()``.

    If the writer is discarded through ``abort()`` (or leaves a ``with`` block by an exception) the upload is
    aborted and no object, partial or complete, is left behind.
    """

    def __init__(
        self, s3_client: Any, bucket: str, key: str, content_type: str, part_size: int = DEFAULT_PART_SIZE,
        parts_in_flight: int = DEFAULT_PARTS_IN_FLIGHT,
    ) -> None:
        super().__init__()
        self.s3, self.bucket, self.key, self.part_size = s3_client, bucket, key, part_size
        self.content_type = content_type
        self._buffer = bytearray()
        self._parts: list[dict[str, Any]] = []
        self._pending: list[Future[dict[str, Any]]] = []
        self._in_flight = max(1, parts_in_flight)
        self._pool: ThreadPoolExecutor | None = None
        self._position = 0
        self._upload_id: str | None = None
        self._finished = False

    def writable(self) -> bool:
        """Always True: this is a write-only file."""
        return True

    def write(self, data: Any) -> int:  # type: ignore[override]
        """Buffer ``data`` and upload whole parts as they fill."""
        view = memoryview(data).cast("B")
        self._buffer += view
        self._position += len(view)
        while len(self._buffer) >= self.part_size:
            with memoryview(self._buffer) as whole:
                part = bytes(whole[: self.part_size])  # one copy; slicing the bytearray would make two
            del self._buffer[: self.part_size]
            self._upload_part(part)
        return len(view)

    def tell(self) -> int:
        """Bytes written so far (pyarrow asks for the position while writing Parquet)."""
        return self._position

    def flush(self) -> None:
        """Nothing to do: parts are uploaded when full, the rest on close."""

    def close(self) -> None:
        """Upload the last part and complete the upload (a single PUT if the object is small)."""
        if self.closed:
            return
        try:
            if not self._finished:
                self._complete()
        finally:
            super().close()

    def abort(self) -> None:
        """Abandon the upload; S3 discards every part uploaded so far."""
        self._drain(raise_errors=False)  # a part still uploading would otherwise outlive the abort
        if self._upload_id is not None and not self._finished:
            self.s3.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self._upload_id)
        self._finished = True
        self._buffer = bytearray()
        super().close()

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        if exc_type is not None:
            self.abort()
        else:
            self.close()

    def __del__(self) -> None:
        # IOBase.__del__ would close(), i.e. *complete* an upload abandoned mid-way; an abandoned one must vanish.
        if not self._finished:
            # At interpreter shutdown or with the network gone this can fail; lifecycle rules reap stray uploads.
            with contextlib.suppress(Exception):
                self.abort()

    def _upload_part(self, data: bytes) -> None:
        if self._upload_id is None:
            created = self.s3.create_multipart_upload(Bucket=self.bucket, Key=self.key, ContentType=self.content_type)
            self._upload_id = created["UploadId"]
            self._pool = ThreadPoolExecutor(max_workers=self._in_flight, thread_name_prefix="ds-upload",
                                            initializer=name_os_thread)
        assert self._pool is not None
        while len(self._pending) >= self._in_flight:  # bounded: at most this many parts held in memory
            self._parts.append(self._pending.pop(0).result())
        number = len(self._parts) + len(self._pending) + 1
        self._pending.append(self._pool.submit(self._send_part, number, data))

    def _send_part(self, number: int, data: bytes) -> dict[str, Any]:
        response = self.s3.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self._upload_id, PartNumber=number, Body=data
        )
        return {"PartNumber": number, "ETag": response["ETag"]}

    def _drain(self, raise_errors: bool = True) -> None:
        """Wait for every part under way; with ``raise_errors`` the first failure is raised."""
        pending, self._pending = self._pending, []
        for future in pending:
            try:
                self._parts.append(future.result())
            except Exception:
                if raise_errors:
                    self._drain(raise_errors=False)
                    raise
        if self._pool is not None and not raise_errors:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _complete(self) -> None:
        self._finished = True
        if self._upload_id is None:
            # Never reached one part: a plain PUT is cheaper and S3 rejects a multipart upload with no parts.
            body = bytes(self._buffer)
            self.s3.put_object(Bucket=self.bucket, Key=self.key, Body=body, ContentType=self.content_type)
            return
        try:
            if self._buffer:
                self._upload_part(bytes(self._buffer))
            self._drain()
            self._pool_shutdown()
            self.s3.complete_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=self._upload_id, MultipartUpload={"Parts": self._parts}
            )
        except Exception:
            self._drain(raise_errors=False)
            self.s3.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self._upload_id)
            raise
        finally:
            self._buffer = bytearray()

    def _pool_shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


# Errors of a single ranged GET that are worth repeating: connection resets and truncated bodies.
_TRANSIENT = (BotoCoreError, ProtocolError, ConnectionError)
# One GET per range: 8 MiB halves the requests of 4 MiB (less CPU per GB on both sides) for 8 MiB more memory.
DEFAULT_RANGE_SIZE = 8 << 20


class RangedReader(io.RawIOBase):
    """Read-only file over an S3 object fetched in successive ranged GETs, each pinned to one version/ETag.

    One GET held open for the whole input breaks on long runs (a slow consumer's connection gets reset, as
    seen with a 1 GB input); short ranges read fully keep each request brief and retryable, and bound memory
    to one range.
    """

    def __init__(
        self, s3_client: Any, bucket: str, key: str, size: int, pin: dict[str, str],
        range_size: int | None = None, attempts: int = 3, start: int = 0,
    ) -> None:
        super().__init__()
        # ``size`` is where reading stops (exclusive), so ``start``..``size`` reads one shard's byte range.
        self.s3, self.bucket, self.key, self.size, self.pin = s3_client, bucket, key, size, pin
        self.range_size, self.attempts = range_size or DEFAULT_RANGE_SIZE, attempts
        self._position = start  # next byte to fetch from S3
        self._buffer = b""
        self._offset = 0  # next byte to hand out of _buffer

    def readable(self) -> bool:
        """Always True: this is a read-only file."""
        return True

    def read(self, size: int | None = -1) -> bytes:
        """Return up to ``size`` bytes (all remaining if negative); b"" at the end."""
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(self.range_size), b""))
        if self._offset >= len(self._buffer):
            if self._position >= self.size:
                return b""
            self._buffer, self._offset = self._fetch(), 0
        data = self._buffer[self._offset:self._offset + size]
        self._offset += len(data)
        return data

    def _fetch(self) -> bytes:
        end = min(self.size, self._position + self.range_size) - 1
        for attempt in range(1, self.attempts + 1):
            try:
                response = self.s3.get_object(
                    Bucket=self.bucket, Key=self.key, Range=f"bytes={self._position}-{end}", **self.pin
                )
                data: bytes = response["Body"].read()
            except _TRANSIENT:
                if attempt == self.attempts:
                    raise
                continue
            if len(data) != end - self._position + 1:
                if attempt == self.attempts:
                    raise OSError(f"s3://{self.bucket}/{self.key}: short read at byte {self._position}")
                continue
            self._position = end + 1
            return data
        raise AssertionError("unreachable")
