"""CSV text of Arrow tables built with Arrow compute: byte for byte what pyarrow's CSV writer writes, cheaper.

pyarrow's writer (default options) casts every non-string column to text, quotes every string (doubling its
quotes), writes nulls as nothing and ends each row with ``\\n``; its cost is that cast and copy, cell by cell.
``data.csv`` repeats a lot: a chunk has a few dozen dates, a few hundred quantities, a handful of categories,
and its ten one-hot columns hold one of a few dozen 0/1 patterns. Here each column is rendered once per
distinct value when it has few (then taken back row by row), the one-hot columns once per distinct pattern as
one piece of text, and the pieces are joined row by row in one pass. Tests compare the bytes with pyarrow's
writer on varied tables (quotes, newlines, nulls, unicode, every column type this accepts).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Above this share of distinct values, rendering the distinct values and taking them back costs more than it saves.
DISTINCT_SHARE = 0.25
# The 0/1 pattern of a row's binary columns is packed into one int64: at most this many columns in one pattern.
MAX_PATTERN_COLUMNS = 62
_ONE = np.float64(1.0).view(np.uint64)
_QUOTE = ord('"')


def supported(schema: pa.Schema) -> bool:
    """True if every column has a type this module renders exactly as pyarrow's writer does."""
    return all(_kind(field.type) is not None for field in schema)


def header(schema: pa.Schema) -> bytes:
    """The header line pyarrow's writer writes: every name quoted, quotes doubled."""
    return (",".join('"' + name.replace('"', '""') + '"' for name in schema.names) + "\n").encode()


class Renderer:
    """Renders tables of one schema to CSV rows, remembering which columns have too many distinct values to memo."""

    def __init__(self, binary_columns: Sequence[int] = ()) -> None:
        """``binary_columns``: indexes of a run of adjacent float64 columns ending the table that should hold only
        0.0 and 1.0 (one-hot features); they are rendered per row pattern. If any holds another value, or they
        are not where expected, they are rendered cell by cell like the others (same bytes, slower)."""
        self.binary_columns = tuple(binary_columns)
        self._direct: set[int] = set()  # columns found mostly distinct: rendered cell by cell from then on

    def render(self, table: pa.Table) -> pa.Buffer:
        """The CSV rows of ``table`` (no header) as one buffer."""
        if table.num_rows == 0:
            return pa.py_buffer(b"")
        table = table.combine_chunks()
        width, binary = table.num_columns, self.binary_columns
        pattern = _pattern_block(table, binary)
        plain = range(width - len(binary)) if pattern is not None else range(width)
        pieces = [self._column_text(index, table.column(index).chunk(0)) for index in plain]
        if pattern is not None:
            pieces.append(pattern)  # already ends with the row's newline
        else:
            pieces[-1] = pc.binary_join_element_wise(pieces[-1], pa.array(["\n"] * table.num_rows), "")
        lines = pieces[0] if len(pieces) == 1 else pc.binary_join_element_wise(*pieces, ",")
        return _values_buffer(lines)

    def _column_text(self, index: int, values: pa.Array) -> pa.Array:
        """The CSV text of each cell (no nulls): what the writer puts between two commas."""
        if index not in self._direct:
            # Arrow's hashing keeps 0.0 and -0.0 apart (written "0" and "-0"), and every NaN is written "nan".
            encoded = pc.dictionary_encode(values)
            if len(encoded.dictionary) <= DISTINCT_SHARE * len(values):
                # A null value has a null index: it takes a null, which is written as nothing.
                return _no_nulls(pc.take(_cells(encoded.dictionary), encoded.indices))
            self._direct.add(index)
        return _no_nulls(_cells(values))


def _no_nulls(text: pa.Array) -> pa.Array:
    return pc.fill_null(text, "") if text.null_count else text


def _kind(type_: pa.DataType) -> str | None:
    if pa.types.is_string(type_) or pa.types.is_large_string(type_):
        return "string"
    if pa.types.is_integer(type_) or pa.types.is_date32(type_):
        return "cast"
    if pa.types.is_float32(type_) or pa.types.is_float64(type_):  # float16 is left to pyarrow's writer
        return "cast"
    return None


def _cells(values: pa.Array) -> pa.Array:
    """Text of each value (nulls stay null): strings quoted with doubled quotes, other types cast as the writer does."""
    if _kind(values.type) != "string":
        return pc.cast(values, pa.string())
    if pa.types.is_large_string(values.type):
        values = pc.cast(values, pa.string())
    if _has_quote(values):
        values = pc.replace_substring(values, '"', '""')
    quote = pa.scalar('"', pa.string())
    return pc.binary_join_element_wise(quote, values, quote, "")


def _has_quote(values: pa.Array) -> bool:
    """True if a value of ``values`` (string) may hold a quote: a scan of its data bytes, 40x cheaper than a kernel.

    A null slot's bytes are unspecified; if they hold a quote, the exact path (replacing) runs for nothing.
    """
    data = values.buffers()[2]
    if data is None or len(values) == 0:
        return False
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)
    start, end = int(offsets[values.offset]), int(offsets[values.offset + len(values)])
    return bool((np.frombuffer(data, dtype=np.uint8, count=end - start, offset=start) == _QUOTE).any())


def _pattern_block(table: pa.Table, columns: Sequence[int]) -> pa.Array | None:
    """Text of the binary columns of each row ("0,1,0,...\\n"), one rendering per distinct pattern; None if unusable."""
    count = len(columns)
    at_end = list(columns) == list(range(table.num_columns - count, table.num_columns))
    if not count or count > MAX_PATTERN_COLUMNS or not at_end:
        return None
    code = np.zeros(table.num_rows, dtype=np.int64)
    for bit, index in enumerate(columns):
        column = table.column(index).chunk(0)
        if not pa.types.is_float64(column.type) or column.null_count:
            return None
        bits = column.to_numpy(zero_copy_only=True).view(np.uint64)  # by bits: -0.0 would be written "-0"
        ones = bits == _ONE
        if not (ones | (bits == 0)).all():
            return None
        code |= ones.astype(np.int64) << bit
    encoded = pc.dictionary_encode(pa.array(code))  # hashing: a few dozen patterns, no sort of the rows
    texts = [",".join("1" if value >> bit & 1 else "0" for bit in range(count)) + "\n"
             for value in encoded.dictionary.to_pylist()]
    return pc.take(pa.array(texts, pa.string()), encoded.indices)


def _values_buffer(lines: Any) -> pa.Buffer:
    """The concatenated values of a string array, as one slice of its data buffer (no copy)."""
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset:lines.offset + len(lines) + 1]
    start, end = int(offsets[0]), int(offsets[-1])
    return lines.buffers()[2].slice(start, end - start)
