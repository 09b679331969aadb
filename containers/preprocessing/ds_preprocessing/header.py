"""The input's header line: read it, check it, and keep every byte read (no pandas/pyarrow: the plan step uses it)."""

from __future__ import annotations

import codecs
import csv
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ds_preprocessing import schema
from ds_preprocessing.errors import InputError

# Bytes of CSV per chunk: bounds the working set (~30 MiB of RSS per MiB of block); 2 MiB was as fast as 16 here.
DEFAULT_BLOCK_SIZE = 2 << 20
# A record longer than this is rejected (its first KiB kept) rather than buffered: memory stays bounded.
MAX_RECORD_BYTES = 2 << 20
_HEADER_READ = 64 << 10
_HEADER_LIMIT = 1 << 20


def read_header(source: Any, where: str) -> tuple[list[str], bytes]:
    """Read up to the end of the header line; return its column names and every byte read so far (BOM removed)."""
    data = b""
    while b"\n" not in data:
        piece = source.read(_HEADER_READ)
        if not piece:
            break
        data += piece
        if len(data) > _HEADER_LIMIT:
            raise InputError(f"input {where} has no line break in its first {_HEADER_LIMIT} bytes; is it a CSV?")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    if not data.strip():
        raise InputError(f"input {where} is empty; expected a header {','.join(schema.COLUMN_NAMES)} and rows")
    try:
        line = data.split(b"\n", 1)[0].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"input {where} header is not UTF-8: {exc.reason} at byte {exc.start}") from exc
    header = next(csv.reader([line.rstrip("\r")]))
    return header, data


@dataclass
class Peeked:
    """An input stream whose header was read and checked; ``prefix`` holds every byte consumed so far."""

    source: Any
    header: list[str]
    prefix: bytes


def peek(source: Any, where: str) -> Peeked:
    """Read and check the header, so a bad input is refused before anything else happens to the run."""
    header, prefix = read_header(source, where)
    duplicates = sorted(name for name, seen in Counter(header).items() if seen > 1)
    if duplicates:
        raise InputError(
            f"input {where} has duplicate column {duplicates[0]!r} in its header (header: {','.join(header)[:200]}); "
            "each column name must appear once"
        )
    missing = schema.missing_columns(header)
    if missing:
        raise InputError(
            f"input {where} lacks required column(s) {', '.join(missing)} (header: {','.join(header)[:200]}); "
            f"the header must contain {','.join(schema.COLUMN_NAMES)}"
        )
    return Peeked(source=source, header=header, prefix=prefix)
