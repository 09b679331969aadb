"""Streaming writes to S3: a write-only file object backed by a multipart upload, so output never sits in memory."""

from __future__ import annotations

import contextlib
import io
from typing import Any

# S3 parts must be >= 5 MiB except the last; 8 MiB keeps memory small and part counts far below the 10,000 limit
# for any output under ~80 GB.
DEFAULT_PART_SIZE = 8 << 20


class MultipartWriter(io.RawIOBase):
    """Write-only file whose bytes go to ``s3://bucket/key`` in parts; the object appears only on ``close()``.

    If the writer is discarded through ``abort()`` (or leaves a ``with`` block by an exception) the upload is
    aborted and no object, partial or complete, is left behind.
    """

    def __init__(
        self, s3_client: Any, bucket: str, key: str, content_type: str, part_size: int = DEFAULT_PART_SIZE
    ) -> None:
        super().__init__()
        self.s3, self.bucket, self.key, self.part_size = s3_client, bucket, key, part_size
        self.content_type = content_type
        self._buffer = bytearray()
        self._parts: list[dict[str, Any]] = []
        self._position = 0
        self._upload_id: str | None = None
        self._finished = False

    def writable(self) -> bool:
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
        number = len(self._parts) + 1
        response = self.s3.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self._upload_id, PartNumber=number, Body=data
        )
        self._parts.append({"PartNumber": number, "ETag": response["ETag"]})

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
            self.s3.complete_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=self._upload_id, MultipartUpload={"Parts": self._parts}
            )
        except Exception:
            self.s3.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self._upload_id)
            raise
        finally:
            self._buffer = bytearray()
