"""The record chunker: blocks end only at record ends, so every block size parses to the same records."""

from __future__ import annotations

import csv
import io
import random
import tracemalloc

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from ds_preprocessing import reader, records, schema

HEADER = ",".join(schema.COLUMN_NAMES)
PIECES = ["plain", "", "a,b", 'say ""hi""', "line\nbreak", "crlf\r\nbreak", "\n\n", "tail\n", "ü東"]


def _random_csv(rng: random.Random, rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=rng.choice(["\n", "\r\n"]))
    writer.writerow(schema.COLUMN_NAMES)
    for index in range(rows):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 4))).replace('""', '"')
        writer.writerow([index, "2026-01-02", "1", "2", "home", "north", text])
    return out.getvalue().encode()


def _parsed(data: bytes, block_size: int, max_record_bytes: int = reader.MAX_RECORD_BYTES) -> list[list[str]]:
    rows: list[list[str]] = []
    for chunk in reader.iter_chunks(io.BytesIO(data), "t", block_size=block_size, max_record_bytes=max_record_bytes):
        rows += [[row[n] for n in schema.COLUMN_NAMES] for row in chunk.batch.to_pylist()]
        rows += [["malformed", m] for m in chunk.malformed] + [["oversized", o] for o in chunk.oversized]
    return rows


@pytest.mark.parametrize("seed", range(6))
def test_every_block_size_gives_the_records_the_stdlib_reads(seed: int) -> None:
    rng = random.Random(seed)
    data = _random_csv(rng, 400)
    expected = list(csv.reader(io.StringIO(data.decode(), newline="")))[1:]
    for block_size in (64, 333, 4096, 1 << 20):
        assert _parsed(data, block_size) == expected, block_size


def test_stray_quotes_follow_pyarrows_rules_at_any_block_size() -> None:
    # Not RFC 4180 (a quote inside an unquoted value, text after a closing quote): cut where pyarrow cuts.
    lines = [HEADER] + [f'{i},2026-01-02,1,2,home,north,{v}' for i, v in enumerate(
        ['ab"c', '"x"y', 'ok', '"multi\nline"', 'q"', '"a""b"', 'end"\n"'] * 30)]
    data = ("\n".join(lines) + "\n").encode()
    options = pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=lambda row: "skip")
    whole = pacsv.read_csv(io.BytesIO(data), parse_options=options, convert_options=pacsv.ConvertOptions(
        column_types={n: pa.string() for n in schema.COLUMN_NAMES}, strings_can_be_null=False))
    expected = [[r[n] for n in schema.COLUMN_NAMES] for r in whole.to_pylist()]
    for block_size in (50, 200, 1000, 1 << 16):
        got = [r for r in _parsed(data, block_size) if r[0] != "malformed"]
        assert got == expected, block_size


def test_records_over_the_limit_are_set_aside_bounded_wherever_they_fall() -> None:
    big = "z" * 10_000
    data = f'{HEADER}\n1,d,1,1,c,r,x\n2,d,1,1,c,r,"{big}\n{big}"\n3,d,1,1,c,r,{big}\n4,d,1,1,c,r,y\n'.encode()
    for block_size in (100, 1000, 4096):
        rows = _parsed(data, block_size, max_record_bytes=8192)
        assert [r[0] for r in rows] == ["1", "4", "oversized", "oversized"] or [r[0] for r in rows] == [
            "1", "oversized", "oversized", "4"], block_size
        oversized = [r[1] for r in rows if r[0] == "oversized"]
        assert oversized[0].startswith('2,d,1,1,c,r,"zzz') and oversized[1].startswith("3,d,1,1,c,r,zzz")
        assert all(len(text) < records.OVERSIZED_KEEP + 50 for text in oversized)
        assert f"[{len(big) * 2 + 16} bytes, truncated]" in oversized[0]


def test_an_unclosed_quote_at_the_end_is_one_malformed_record() -> None:
    data = f'{HEADER}\n1,d,1,1,c,r,x\n2,d,1,1,c,r,"open\n3,d,1,1,c,r,y\n'.encode()
    for block_size in (16, 4096):
        rows = _parsed(data, block_size)
        assert rows[0][0] == "1" and rows[1] == ["malformed", '2,d,1,1,c,r,"open\n3,d,1,1,c,r,y\n']
        assert len(rows) == 2


def test_memory_is_bounded_by_the_limit_not_the_record() -> None:
    class Source:
        """Yields a 64 MiB unterminated record lazily, in fresh pieces."""

        def __init__(self) -> None:
            self.left = 64 << 20

        def read(self, size: int) -> bytes:
            size = min(size, self.left)
            self.left -= size
            return b"q" * size

    tracemalloc.start()
    try:
        blocks = list(records.iter_blocks(Source(), b"1,d,", 1 << 16, 1 << 20))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20  # the limit (1 MiB) and a piece or two, never the 64 MiB record
    assert len(blocks) == 1 and blocks[0].oversized[0].size == (64 << 20) + 4
    assert len(blocks[0].oversized[0].head) == records.OVERSIZED_KEEP


def test_max_record_bytes_below_the_block_size_is_refused() -> None:
    with pytest.raises(ValueError, match="max_record_bytes"):
        list(records.iter_blocks(io.BytesIO(b""), b"", 1 << 20, 1 << 10))
