"""Free each part's storage as CompleteMultipartUpload copies it into the object, not after the last one.

LocalStack (host mode, ephemeral storage) keeps every part of an upload in a temporary file on this machine's
disk, assembles the object by copying them one after another into a new file, and deletes the parts only once
the object is whole: for a moment the disk holds every upload twice. A 10 GB ``data.csv`` (the job's CSV of a
5 GB input) then needs 20 GB at once, and ran the development machine's disk full. By the time the storage
assembles the object, the provider has validated the parts (numbers, order, ETags, sizes, checksums); what
follows can only fail on the disk itself. So each part is released as soon as it is in the object: the peak is
the object plus one part. The answers (ETag, checksums, parts of the object) are unchanged: they come from the
parts' metadata, which stays, not from the parts' files.
"""

from __future__ import annotations

from typing import Any


def install() -> None:
    """Replace the ephemeral store's multipart assembly with one that releases each part once it is copied."""
    from localstack.services.s3.storage.ephemeral import EphemeralS3StoredMultipart

    def complete_multipart(self: Any, parts: list[Any]) -> None:
        with self._s3_store.open(self.bucket, self.s3_multipart.object, mode="w") as stored_object:
            stored_object.seek(0)
            stored_object.truncate()  # overwrite an object of the same key, as the original does
            for part in parts:
                with self.open(part, mode="r") as stored_part:
                    stored_object.append(stored_part)
                self.remove_part(part)  # closing the part's temporary file deletes it

    complete_multipart.__doc__ = EphemeralS3StoredMultipart.complete_multipart.__doc__
    EphemeralS3StoredMultipart.complete_multipart = complete_multipart
