"""Hard inputs end to end: quoted newlines, oversized rows, duplicate columns and spreadsheet formulas."""

from __future__ import annotations

import csv
import io
import random
from typing import Any

import pyarrow.parquet as pq
import pytest
from ds_preprocessing import schema
from ppjob_support import Platform, assert_nothing_committed

HEADER = ",".join(schema.COLUMN_NAMES)


def _records(data: bytes) -> list[list[str]]:
    """Every record after the header, parsed by the stdlib (RFC 4180 quoting, newlines inside quotes)."""
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))[1:]


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def _multiline_input(rows: int, seed: int) -> bytes:
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(schema.COLUMN_NAMES)
    for index in range(1, rows + 1):
        text = rng.choice(
            ["plain", "two\nlines", "crlf\r\ninside", 'a "quote"\nand, comma', "\n", "x" * rng.randint(0, 300)])
        writer.writerow([index, "2026-03-01", "1.5", "2", "home", "north", text])
    return out.getvalue().encode()


@pytest.mark.parametrize("block_size", [1 << 10, 4 << 10, 64 << 10])
def test_quoted_newlines_are_kept_whole_at_any_block_size(platform: Platform, run_job: Any, block_size: int) -> None:
    data = _multiline_input(1500, seed=block_size)
    platform.put_input(data)
    assert run_job("multi", block_size=block_size).code == 0
    records = _records(data)
    manifest = platform.manifest("multi")
    assert manifest["rows_read"] == len(records) == 1500
    assert manifest["rows_rejected"] == 0
    table = pq.read_table(io.BytesIO(platform.get("processed/multi/data.parquet"))).to_pylist()
    assert [r["description"] for r in table] == [r[6] for r in records]
    as_csv = _csv_rows(platform.get("processed/multi/data.csv"))
    assert [r["description"] for r in as_csv] == [r[6] for r in records]


def test_a_record_with_a_quoted_newline_and_a_bad_value_is_rejected_whole(platform: Platform, run_job: Any) -> None:
    data = f'{HEADER}\n1,2026-02-30,1,1,home,north,"first\nsecond"\n2,2026-03-01,1,1,home,north,ok\n'.encode()
    platform.put_input(data)
    assert run_job("rej").code == 0
    manifest = platform.manifest("rej")
    assert (manifest["rows_read"], manifest["rows_written"], manifest["rows_rejected"]) == (2, 1, 1)
    rejected = _csv_rows(platform.get("rejected/rej/rejected.csv"))
    assert [(r["id"], r["reason"], r["description"]) for r in rejected] == [("1", "bad_event_date", "first\nsecond")]


def test_a_row_over_the_record_limit_is_rejected_and_the_rest_go_on(platform: Platform, run_job: Any) -> None:
    big = "y" * ((2 << 20) + 100)
    data = (f"{HEADER}\n1,2026-03-01,1,1,home,north,ok\n2,2026-03-01,1,1,home,north,{big}\n"
            f'3,2026-03-01,1,1,home,north,"after\nthe big one"\n').encode()
    platform.put_input(data)
    assert run_job("big").code == 0
    manifest = platform.manifest("big")
    assert (manifest["rows_read"], manifest["rows_written"], manifest["rows_rejected"]) == (3, 2, 1)
    assert manifest["reject_reasons"][schema.OVERSIZED_ROW] == 1
    rejected = _csv_rows(platform.get("rejected/big/rejected.csv"))
    assert len(rejected) == 1 and rejected[0]["reason"] == schema.OVERSIZED_ROW
    # Bounded: the stored text is a prefix of the row, never the whole 2 MiB.
    assert rejected[0]["raw_line"].startswith("2,2026-03-01,") and len(rejected[0]["raw_line"]) <= 2048
    ids = [r["id"] for r in pq.read_table(io.BytesIO(platform.get("processed/big/data.parquet"))).to_pylist()]
    assert ids == [1, 3]


def test_an_unterminated_quote_ends_as_one_rejected_record(platform: Platform, run_job: Any) -> None:
    data = f'{HEADER}\n1,2026-03-01,1,1,home,north,ok\n2,2026-03-01,1,1,home,north,"never closed\n3,x\n'.encode()
    platform.put_input(data)
    assert run_job("open").code == 0
    manifest = platform.manifest("open")
    assert (manifest["rows_read"], manifest["rows_written"], manifest["rows_rejected"]) == (2, 1, 1)
    assert manifest["reject_reasons"][schema.MALFORMED_ROW] == 1


@pytest.mark.parametrize("header", [
    "id,event_date,amount,quantity,category,region,description,id",
    "id,event_date,amount,quantity,category,region,description,extra,extra",
])
def test_duplicate_header_column_exits_3_and_commits_nothing(platform: Platform, run_job: Any, header: str) -> None:
    platform.put_input(f"{header}\n1,2026-03-01,1,1,home,north,ok,9,9\n".encode())
    result = run_job("dup")
    assert result.code == 3 and result.last["exit_code"] == 3
    duplicate = header.split(",")[-1]
    assert f"duplicate column {duplicate!r}" in result.last["message"]
    assert_nothing_committed(platform, "dup")


FORMULAS = ["=HYPERLINK(\"http://x\")", "+1+cmd", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "-", "=1"]


def test_formula_cells_are_neutralised_in_csv_outputs_only(platform: Platform, run_job: Any) -> None:
    lines = [HEADER]
    for index, text in enumerate(FORMULAS, start=1):
        quoted = '"' + text.replace('"', '""') + '"'
        lines.append(f"{index},2026-03-01,-2.5,1,{quoted},{quoted},{quoted}")
    # Rejected rows: a bad date, so the negative amount and formulas are written to rejected.csv as text.
    lines.append('90,2026-02-30,-7.25,1,"=cmd|x",north,"+danger"')
    lines.append('=91,2026-03-01,1,1,home,north,ok')
    platform.put_input(("\n".join(lines) + "\n").encode())
    assert run_job("formula").code == 0
    parquet = pq.read_table(io.BytesIO(platform.get("processed/formula/data.parquet"))).to_pylist()
    assert [r["description"] for r in parquet] == FORMULAS  # Parquet keeps the value as is
    assert [r["amount"] for r in parquet] == [-2.5] * len(FORMULAS)
    as_csv = _csv_rows(platform.get("processed/formula/data.csv"))
    for row, text in zip(as_csv, FORMULAS, strict=True):
        for column in ("category", "region", "description"):
            assert row[column] == "'" + text
        assert row["amount"] == "-2.5"  # a number is not a formula
    rejected = {r["id"]: r for r in _csv_rows(platform.get("rejected/formula/rejected.csv"))}
    assert rejected["90"]["amount"] == "-7.25" and rejected["90"]["category"] == "'=cmd|x"
    assert rejected["90"]["description"] == "'+danger"
    assert rejected["'=91"]["reason"] == schema.BAD_ID
