"""One streaming pass over a CSV object: its header and the number of records, in bounded memory.

Python's csv reader (C code) follows RFC 4180: a quoted field may hold commas, quotes ("") and line breaks,
and such a record counts once. Memory is bounded by one record (the reader's field size limit) and the read
buffer, whatever the object's size. Blank lines are not records.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

READ_SIZE = 1024 * 1024  # bytes per read from the S3 stream


class UnreadableFile(Exception):
    """The object is not a readable UTF-8 CSV (the reason is the message); it is catalogued as rejected."""


@dataclass(frozen=True)
class Scan:
    """What one pass found: the header's columns and how many data records follow it."""

    columns: list[str]
    records: int


class _Raw(io.RawIOBase):
    """A raw binary stream over anything with read(n) (botocore's StreamingBody, a file)."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def scan(body: Any) -> Scan:
    """Read ``body`` once: header row, then count non-blank records; raise UnreadableFile if it is not CSV text."""
    text = io.TextIOWrapper(io.BufferedReader(_Raw(body), READ_SIZE), encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        header = next(reader, None)
        if header is None:
            raise UnreadableFile("empty file: no header row")
        records = sum(1 for row in reader if row)
    except UnicodeDecodeError as err:
        raise UnreadableFile(f"not UTF-8 text: {err.reason} at byte {err.start} of a read block") from err
    except csv.Error as err:
        raise UnreadableFile(f"malformed CSV at line {reader.line_num}: {err}") from err
    return Scan(columns=header, records=records)
