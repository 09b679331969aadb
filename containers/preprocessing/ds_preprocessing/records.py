"""Cut a CSV byte stream into blocks of whole records (RFC 4180: a newline inside quotes is not a record end).

pyarrow parses each block on its own, so a block must never end inside a quoted value; a record too long to
buffer is set aside (its first bytes kept) instead of failing the run. Memory stays bounded by
``max_record_bytes + block_size`` whatever the input holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

QUOTE = ord('"')
# Bytes kept of a record set aside for its size: enough to find it in the input, small enough for any reader.
OVERSIZED_KEEP = 1024
_FIELD_SEPARATORS = np.frombuffer(b',\n\r', dtype=np.uint8)
_AFTER_CLOSING = np.frombuffer(b',\n\r"', dtype=np.uint8)
_UNQUOTED_END = re.compile(rb"[,\n]")


@dataclass(frozen=True)
class Oversized:
    """A record longer than the limit: its length and its first ``OVERSIZED_KEEP`` bytes."""

    head: bytes
    size: int


@dataclass(frozen=True)
class Block:
    """Whole records as bytes (maybe empty), records set aside for their size before them, and, at the very end,
    the head of a last record whose quote never closed (RFC 4180 would make it run to the end of the file)."""

    data: bytes
    oversized: tuple[Oversized, ...] = ()
    unterminated: Oversized | None = None


def iter_blocks(source: Any, prefix: bytes, block_size: int, max_record_bytes: int) -> Iterator[Block]:
    """Yield blocks of whole records read from ``prefix`` then ``source.read(block_size)`` until it is exhausted."""
    if max_record_bytes < block_size:
        raise ValueError(f"max_record_bytes ({max_record_bytes}) must be >= block_size ({block_size})")
    pieces = _pieces(source, prefix, block_size)
    # ``carry`` always starts a record and holds no record end, so in ``carry + piece`` only the first record can
    # be longer than one piece: that is the only one ``_cut`` has to measure.
    carry = b""
    for piece in pieces:
        data = carry + piece if carry else piece
        cut = last_record_end(data)
        if cut >= 0:
            yield _cut(data, cut + 1, max_record_bytes)
            carry = data[cut + 1:]
            continue
        # No record ends in ``data``: the record it starts goes on. Read on, searching only the new bytes.
        parts, size, quotes, head = [data], len(data), data.count(b'"'), data[:OVERSIZED_KEEP]
        carry = b""
        while True:
            if size > max_record_bytes:
                parts.clear()
                oversized, carry = _skip_record(pieces, head, size, quotes)
                yield Block(b"", (oversized,))
                break
            piece = next(pieces, b"")
            if not piece:
                carry = b"".join(parts)
                break
            parts.append(piece)
            size += len(piece)
            head += piece[:OVERSIZED_KEEP - len(head)]
            if _first_even_newline(piece, quotes) >= 0:
                data = b"".join(parts)
                cut = last_record_end(data)
                yield _cut(data, cut + 1, max_record_bytes)
                carry = data[cut + 1:]
                break
            quotes += piece.count(b'"')
    if carry:
        yield _last(carry, max_record_bytes)


def _pieces(source: Any, prefix: bytes, block_size: int) -> Iterator[bytes]:
    for start in range(0, len(prefix), block_size):
        yield prefix[start:start + block_size]
    while piece := source.read(block_size):
        yield piece


def _last(data: bytes, max_record_bytes: int) -> Block:
    """The bytes after the last record end: one record without its final newline, or one whose quote never closed."""
    if data.count(b'"') % 2 == 0 or not _quotes_are_rfc4180(data, len(data)):
        return _cut(data, len(data), max_record_bytes)
    return Block(b"", unterminated=Oversized(data[:OVERSIZED_KEEP], len(data)))


def _cut(data: bytes, end: int, max_record_bytes: int) -> Block:
    """Return ``data[:end]`` as a block, setting aside its first record if that one is over the limit."""
    if end <= max_record_bytes:
        return Block(data[:end])
    first = _first_even_newline(data, 0)
    size = first + 1 if 0 <= first < end else end
    if size <= max_record_bytes:
        return Block(data[:end])
    return Block(data[size:end], (Oversized(data[:OVERSIZED_KEEP], size),))


def _skip_record(pieces: Iterator[bytes], head: bytes, size: int, quotes: int) -> tuple[Oversized, bytes]:
    """Read past the end of an oversized record (``size`` bytes and ``quotes`` quotes read so far).

    Return the record and the bytes after it; nothing of it but ``head`` is kept, so memory stays bounded.
    """
    for piece in pieces:
        end = _first_even_newline(piece, quotes)
        if end >= 0:
            return Oversized(head, size + end + 1), piece[end + 1:]
        quotes += piece.count(b'"')
        size += len(piece)
    return Oversized(head, size), b""


def _first_even_newline(data: bytes, quotes_before: int) -> int:
    """Index of the first newline of ``data`` outside quotes, given the quote count before it; -1 if none."""
    start = 0
    while True:
        newline = data.find(b"\n", start)
        if newline < 0:
            return -1
        if (quotes_before + data.count(b'"', start, newline)) % 2 == 0:
            return newline
        quotes_before += data.count(b'"', start, newline)
        start = newline + 1


def last_record_end(data: bytes) -> int:
    """Index of the last newline of ``data`` that ends a record, or -1; ``data`` must start at a record.

    Fast path: a newline ends a record when an even number of quotes precede it (RFC 4180). That matches
    pyarrow's parser only if every quote opens a field, closes one or is doubled; if a quote stands anywhere
    else (``ab"c``, ``"a"b``), the record ends are found by following the parser's own rules instead.
    """
    newline = data.rfind(b"\n")
    if newline < 0:
        return -1
    total = data.count(b'"')
    if total == 0:
        return newline
    after = data.count(b'"', newline)
    while newline >= 0 and (total - after) % 2:
        previous = data.rfind(b"\n", 0, newline)
        after += data.count(b'"', previous + 1, newline) if previous >= 0 else total - after
        newline = previous
    if _quotes_are_rfc4180(data, newline + 1 if newline >= 0 else len(data)):
        return newline
    return _last_record_end_by_lexing(data)


def _quotes_are_rfc4180(data: bytes, end: int) -> bool:
    """True if every quote in ``data[:end]`` opens a field, closes one, or is half of a doubled quote."""
    raw = np.frombuffer(data, dtype=np.uint8, count=end)
    quotes = np.flatnonzero(raw == QUOTE)
    if quotes.size == 0:
        return True
    opening, closing = quotes[0::2], quotes[1::2]
    before = raw[np.maximum(opening - 1, 0)]
    # An opening quote starts the block, follows a separator, or directly follows the closing quote of a pair.
    after_closing = np.zeros(opening.size, dtype=bool)
    after_closing[1:] = closing[: opening.size - 1] == opening[1:] - 1
    open_ok = (opening == 0) | np.isin(before, _FIELD_SEPARATORS) | after_closing
    follow = raw[np.minimum(closing + 1, end - 1)]
    close_ok = (closing + 1 >= end) | np.isin(follow, _AFTER_CLOSING)
    return bool(open_ok.all() and close_ok.all())


def _last_record_end_by_lexing(data: bytes) -> int:
    """Walk ``data`` field by field with pyarrow's quoting rules; return the last record-ending newline or -1.

    pyarrow opens a quoted value only at a field's start; inside one, ``""`` is a quote and a lone quote
    closes it, after which the field goes on unquoted to the next comma or newline.
    """
    last, position, size = -1, 0, len(data)
    while position < size:
        if data[position] == QUOTE:  # a quoted field: find its closing quote
            position += 1
            while True:
                quote = data.find(b'"', position)
                if quote < 0:
                    return last  # the value runs past the data: the record is not complete
                if quote + 1 < size and data[quote + 1] == QUOTE:
                    position = quote + 2
                    continue
                position = quote + 1
                break
        match = _UNQUOTED_END.search(data, position)
        if match is None:
            return last
        position = match.end()
        if data[match.start()] == ord("\n"):
            last = match.start()
    return last
