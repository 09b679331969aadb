"""Shard planning: cut a run's input into byte ranges that start and end on record boundaries.

The rule: a shard owns the records that start in its range, and every range starts where a record starts. The
planner reads each object once from its header to its end with the same record cutter the job's reader uses
(``records.iter_blocks``: RFC 4180 quotes, CRLF, a newline inside quotes is not a record end), so a cut is
always a record end the single-task run would also see; no record is split, duplicated or lost, and parsing a
range from its start gives exactly the records a single pass gives there. The header is read once, here, and
handed to every shard of its object. Quote state cannot be known from an arbitrary offset (a quoted value may
hold any number of newlines), which is why the planner scans instead of guessing from a window.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from ds_preprocessing import header
from ds_preprocessing.errors import ConfigurationError, InputError

if TYPE_CHECKING:
    from ds_preprocessing import records

# A run splits into at most this many shards (Distributed Map runs up to 10,000 child executions at once).
MAX_SHARDS = 10_000


@dataclass(frozen=True)
class Shard:
    """One item of the Distributed Map: a byte range ``[start, end)`` of one object, and that object's header."""

    index: int
    bucket: str
    key: str
    start: int
    end: int
    columns: list[str]
    etag: str
    version_id: str | None
    size: int

    def to_item(self) -> dict[str, Any]:
        """The JSON item the state machine passes to the shard's task."""
        return asdict(self)

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Shard:
        """Read an item back; a malformed one is a configuration error naming the field."""
        try:
            shard = cls(index=int(item["index"]), bucket=str(item["bucket"]), key=str(item["key"]),
                        start=int(item["start"]), end=int(item["end"]), columns=[str(c) for c in item["columns"]],
                        etag=str(item["etag"]), version_id=item.get("version_id"), size=int(item["size"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigurationError(f"the plan holds an item that is not a shard ({type(exc).__name__}: {exc}); "
                                     "it is written by the plan step: start the state machine again") from exc
        if not 0 <= shard.start <= shard.end <= shard.size:
            raise ConfigurationError(f"shard {shard.index} range {shard.start}-{shard.end} is outside "
                                     f"0-{shard.size}; start the state machine again")
        return shard


class _Counting:
    """A byte stream that counts what was read from it and keeps its first bytes (to see a BOM)."""

    def __init__(self, source: Any) -> None:
        self.source, self.count, self.first = source, 0, b""

    def read(self, size: int = -1) -> bytes:
        data: bytes = self.source.read(size)
        if len(self.first) < len(codecs.BOM_UTF8):
            self.first += data[: len(codecs.BOM_UTF8) - len(self.first)]
        self.count += len(data)
        return data


def plan_ranges(source: Any, size: int, shard_size: int, where: str,
                max_record_bytes: int = header.MAX_RECORD_BYTES) -> tuple[list[str], list[tuple[int, int]]]:
    """Return the object's header columns and its record-aligned ``[start, end)`` ranges (at least one).

    ``source`` reads the object from byte 0; ``size`` is its length. Ranges cover every byte after the header
    line; each is at least ``shard_size`` bytes long except the last (a range only ends at a record end). Only
    what is needed to place the cuts is read: nothing past the header when the object is one shard, nothing
    past the last cut.
    """
    if shard_size < 1:
        raise ConfigurationError(f"shard size {shard_size} is invalid: use a positive number of bytes")
    counting = _Counting(source)
    peeked = header.peek(counting, where)
    bom = len(codecs.BOM_UTF8) if counting.first.startswith(codecs.BOM_UTF8) else 0
    newline = peeked.prefix.find(b"\n")
    if newline < 0:  # a header and no line break: nothing after it
        return peeked.header, [(size, size)]
    header_end = bom + newline + 1
    if size - header_end <= shard_size:  # one shard: no cut to find, so no need to read the rest
        return peeked.header, [(header_end, size)]
    body = peeked.prefix[newline + 1:]
    # A cut falls at the first block end past the shard size: blocks of an eighth of a shard keep shards within
    # about 1/8 of the size asked for (plus one record), and a small shard size still cuts a small input.
    block_size = max(1, min(header.DEFAULT_BLOCK_SIZE, shard_size // 8))
    # numpy (through the record cutter) only when there are cuts to find: the commit step reads plan items only.
    from ds_preprocessing import records

    ranges: list[tuple[int, int]] = []
    start = offset = header_end
    for block in records.iter_blocks(counting, body, block_size, max(max_record_bytes, block_size)):
        offset += consumed(block)
        if offset - start >= shard_size and offset < size:
            ranges.append((start, offset))
            start = offset
            if size - start <= shard_size:  # what is left is the last shard: the rest need not be read
                break
    else:
        if offset != size:  # the cutter hands back every byte it reads; anything else would lose rows
            raise InputError(f"input {where} changed while it was planned ({offset} of {size} bytes); "
                             "re-run the job")
    ranges.append((start, size))
    return peeked.header, ranges


def consumed(block: records.Block) -> int:
    """Input bytes a block stands for: its whole records, the records set aside before them, an unclosed tail."""
    extra = sum(o.size for o in block.oversized)
    if block.unterminated is not None:
        extra += block.unterminated.size
    return len(block.data) + extra


def number(items: Iterator[tuple[dict[str, Any], list[str], list[tuple[int, int]]]]) -> list[Shard]:
    """Number the ranges of every object (``(head, columns, ranges)``, in listing order) as shards 0..n-1."""
    shards: list[Shard] = []
    for head, columns, ranges in items:
        for start, end in ranges:
            shards.append(Shard(index=len(shards), bucket=head["bucket"], key=head["key"], start=start, end=end,
                                columns=columns, etag=head["etag"], version_id=head["version_id"],
                                size=head["size"]))
    if len(shards) > MAX_SHARDS:
        raise ConfigurationError(f"the input needs {len(shards)} shards, over {MAX_SHARDS}; raise "
                                 "settings.orchestration.shard_size_mb (or the execution's shard_size_bytes)")
    return shards
