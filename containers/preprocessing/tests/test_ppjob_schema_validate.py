"""The vectorised chunk validator agrees with the plain-Python row validator, value by value."""

from __future__ import annotations

import csv
import datetime as _dt
import io

import pandas as pd
import pytest
from ds_preprocessing import sample, schema, validate

GOOD = {"id": "12", "event_date": "2026-03-31", "amount": "10.50", "quantity": "3",
        "category": "home", "region": "north", "description": "ok"}

EDGE_VALUES = {
    "id": ["", "1", "007", "0", "00", "A17", "1.5", "-3", " 4", "123456789012345678", "1234567890123456789"],
    "event_date": [
        "", "2026-02-28", "2026-02-29", "2024-02-29", "2026-13-01", "2026-1-5", "15/03/2026", "2026-03-01T00",
    ],
    "amount": [
        "", "1", "-2.5", "+3.", ".5", "1e3", "1E-2", "1e999", "inf", "nan", "1,234.50", "12.3.4", "1_000", " 1", "€12",
    ],
    "quantity": ["", "0", "20", "-3", "2.5", "+1", "many", "1234567890"],
    "category": ["", "home", "bücher"],
}


def _edge_rows() -> list[dict[str, str]]:
    rows = []
    for column, values in EDGE_VALUES.items():
        for value in values:
            rows.append({**GOOD, column: value})
    return rows


def test_validate_row_accepts_a_clean_row() -> None:
    assert schema.validate_row(GOOD) == []


@pytest.mark.parametrize(("column", "value", "reason"), [
    ("id", "", schema.MISSING_ID), ("id", "0", schema.BAD_ID), ("event_date", "2026-02-30", schema.BAD_EVENT_DATE),
    ("event_date", "", schema.MISSING_EVENT_DATE), ("amount", "1_000", schema.BAD_AMOUNT),
    ("amount", "inf", schema.BAD_AMOUNT), ("quantity", "-3", schema.BAD_QUANTITY),
    ("category", "", schema.MISSING_CATEGORY),
])
def test_validate_row_names_the_reason(column: str, value: str, reason: str) -> None:
    assert schema.validate_row({**GOOD, column: value}) == [reason]


def test_vectorised_split_matches_row_validator_on_edge_values() -> None:
    rows = _edge_rows()
    frame = pd.DataFrame(rows, dtype="str")
    parts = validate.split(frame)
    expected_rejected = [(r["id"], ";".join(schema.validate_row(r))) for r in rows if schema.validate_row(r)]
    rejected = parts.rejected.to_pylist()
    assert [(r["id"], r[validate.REASON_COLUMN]) for r in rejected] == expected_rejected
    assert parts.valid.num_rows + len(rejected) == len(rows)


def test_vectorised_split_matches_row_validator_on_dirty_sample() -> None:
    text = sample.generate_csv(3000, seed=11, dirty_fraction=0.5).decode()
    parsed = list(csv.reader(io.StringIO(text)))
    header, body = parsed[0], [r for r in parsed[1:] if len(r) == len(schema.COLUMN_NAMES)]
    rows = [dict(zip(header, r, strict=True)) for r in body]
    parts = validate.split(pd.DataFrame(rows, dtype="str"))
    expected = [r for r in rows if not schema.validate_row(r)]
    assert parts.valid.column("id").to_pylist() == [int(r["id"]) for r in expected]
    assert parts.valid.column("event_date").to_pylist() == [_dt.date.fromisoformat(r["event_date"]) for r in expected]
    assert parts.rejected.num_rows == len(rows) - len(expected)


def test_typed_valid_rows_carry_missing_optional_values_as_nan() -> None:
    frame = pd.DataFrame([{**GOOD, "amount": "", "quantity": "", "region": ""}], dtype="str")
    parts = validate.split(frame)
    assert parts.rejected.num_rows == 0
    row = parts.valid.to_pylist()[0]
    assert row["amount"] is None and row["quantity"] is None and row["region"] is None
    assert row["id"] == 12 and row["event_date"] == _dt.date(2026, 3, 31)


def test_missing_columns_reports_absent_names_in_schema_order() -> None:
    assert schema.missing_columns(["id", "amount", "extra"]) == [
        "event_date", "quantity", "category", "region", "description"]
