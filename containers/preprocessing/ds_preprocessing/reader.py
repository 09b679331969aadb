"""Streaming CSV reader: raw string chunks of the schema's columns, plus the records that could not be rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from ds_preprocessing import records, schema
from ds_preprocessing.errors import InputError

# The header's reader lives apart so the plan step can check a header without pandas or pyarrow; these names
# stay importable from here for the stream's callers.
from ds_preprocessing.header import DEFAULT_BLOCK_SIZE as DEFAULT_BLOCK_SIZE
from ds_preprocessing.header import MAX_RECORD_BYTES as MAX_RECORD_BYTES
from ds_preprocessing.header import Peeked as Peeked
from ds_preprocessing.header import peek as peek
from ds_preprocessing.header import read_header as read_header


@dataclass
class Chunk:
    """One piece of input: rows as strings (schema columns only) and raw lines rejected as malformed."""

    batch: pa.RecordBatch
    malformed: list[str] = field(default_factory=list)
    oversized: list[str] = field(default_factory=list)

    @property
    def records(self) -> int:
        """Records this chunk covers: parsed rows, malformed ones and those set aside for their size."""
        return self.batch.num_rows + len(self.malformed) + len(self.oversized)

    @property
    def frame(self) -> pd.DataFrame:
        """The rows as a pandas DataFrame of strings."""
        return self.batch.to_pandas()


_EMPTY = pa.RecordBatch.from_pylist([], schema=pa.schema([(n, pa.string()) for n in schema.COLUMN_NAMES]))


def iter_chunks(
    source: Peeked | BinaryIO | Any, where: str, block_size: int = DEFAULT_BLOCK_SIZE,
    max_record_bytes: int = MAX_RECORD_BYTES,
) -> Iterator[Chunk]:
    """Yield chunks of ``source`` (a bytes stream or a ``peek`` result); raise InputError naming ``where``.

    Blocks are cut at record ends (quotes respected) by ``records.iter_blocks``, so pyarrow parses each one
    whole: a newline inside a quoted value stays in its value, and every record is counted once.
    """
    peeked = source if isinstance(source, Peeked) else peek(source, where)
    body = peeked.prefix.split(b"\n", 1)[1] if b"\n" in peeked.prefix else b""
    read_options = pacsv.ReadOptions(column_names=peeked.header, use_threads=False, block_size=1 << 30)
    convert_options = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in schema.COLUMN_NAMES},
        include_columns=list(schema.COLUMN_NAMES),
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    for block in records.iter_blocks(peeked.source, body, block_size, max(max_record_bytes, block_size)):
        malformed: list[str] = []

        def on_invalid(row: Any, malformed: list[str] = malformed) -> str:
            # Rows with the wrong number of fields are kept as text and rejected, not allowed to stop the run.
            malformed.append(str(row.text))
            return "skip"

        if block.data.strip():
            try:
                table = pacsv.read_csv(
                    pa.py_buffer(block.data), read_options=read_options, convert_options=convert_options,
                    parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
                )
            except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
                raise InputError(f"input {where} could not be parsed: {_one_line(exc)}") from exc
            batch = table.combine_chunks().to_batches()[0] if table.num_rows else _EMPTY
        else:
            batch = _EMPTY
        if block.unterminated is not None:  # its quote never closed: one malformed record, not the rest of the file
            malformed.append(_oversized_text(block.unterminated))
        oversized = [_oversized_text(o) for o in block.oversized]
        yield Chunk(batch=batch.select(list(schema.COLUMN_NAMES)), malformed=malformed, oversized=oversized)


def _oversized_text(record: records.Oversized) -> str:
    """The record's text if it was kept whole, else its head (a cut character dropped) and its size."""
    head = record.head.decode("utf-8", errors="replace")
    if len(record.head) >= record.size:
        return head
    return f"{head.rstrip(chr(0xFFFD))}... [{record.size} bytes, truncated]"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]
