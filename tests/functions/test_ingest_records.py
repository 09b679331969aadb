"""The one-pass record counter: RFC 4180 records (quoted line breaks count once), any size, bounded memory."""

from __future__ import annotations

import csv
import io
import tracemalloc

import pytest
from ds_ingest.records import UnreadableFile, scan

HEADER = "id,event_date,amount,quantity,category,region,description"


def _independent_count(text: str) -> int:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return sum(1 for row in rows[1:] if row)


@pytest.mark.parametrize(
    "text",
    [
        f"{HEADER}\n1,2026-01-01,1.5,1,toys,west,ok\n2,2026-01-02,,,books,,\n",
        f"{HEADER}\r\n1,2026-01-01,1.5,1,toys,west,ok\r\n2,2026-01-02,,,books,,x\r\n",  # CRLF
        f'{HEADER}\n1,2026-01-01,1,1,toys,west,"line one\nline two, with comma"\n2,2026-01-02,1,1,a,b,"x ""q"" y"\n',
        f'{HEADER}\n1,2026-01-01,1,1,toys,west,"a\r\n\r\nb"\n',  # CRLF and a blank line inside quotes
        f"{HEADER}\n1,2026-01-01,1,1,toys,west,no trailing newline",
        f"{HEADER}\n\n1,2026-01-01,1,1,toys,west,x\n\n\n",  # blank lines are not records
        f"{HEADER}\n",
    ],
)
def test_counts_match_an_independent_csv_parse(text: str) -> None:
    result = scan(io.BytesIO(text.encode()))
    assert result.columns == HEADER.split(",")
    assert result.records == _independent_count(text)


def test_quoted_line_breaks_count_as_one_record() -> None:
    text = f'{HEADER}\n1,2026-01-01,1,1,toys,west,"a\nb\nc"\n'
    assert scan(io.BytesIO(text.encode())).records == 1


def test_utf8_bom_is_not_part_of_the_first_column() -> None:
    assert scan(io.BytesIO(("\ufeff" + HEADER + "\n").encode())).columns[0] == "id"


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"", "empty file"), (b"id,name\n1,\xff\xfe\n", "not UTF-8")],
)
def test_unreadable_files_say_why(data: bytes, reason: str) -> None:
    with pytest.raises(UnreadableFile, match=reason):
        scan(io.BytesIO(data))


class _Generated(io.RawIOBase):
    """A CSV of ``rows`` records produced on the fly (never held in memory), each with a quoted line break."""

    def __init__(self, rows: int) -> None:
        self._rows, self._next, self._pending = rows, 0, (HEADER + "\n").encode()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while (size < 0 or len(self._pending) < max(size, 1)) and self._next < self._rows:
            batch = min(1000, self._rows - self._next)
            self._pending += b"".join(
                f'{i},2026-01-01,{i}.5,{i % 9},toys,west,"first line\nsecond ""line"""\n'.encode()
                for i in range(self._next, self._next + batch)
            )
            self._next += batch
        size = len(self._pending) if size < 0 else size
        chunk, self._pending = self._pending[:size], self._pending[size:]
        return chunk


def test_a_large_file_is_counted_in_bounded_memory() -> None:
    rows = 400_000  # about 25 MB of CSV
    tracemalloc.start()
    try:
        result = scan(_Generated(rows))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.records == rows
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB: the file was not streamed"
