"""The vectorised chunk validator agrees with the plain-Python row validator, value by value."""

from __future__ import annotations

import csv
import datetime as _dt
import io
import random

import pandas as pd
import pytest
from ds_preprocessing import sample, schema, validate

GOOD = {"id": "12", "event_date": "2026-03-31", "amount": "10.50", "quantity": "3",
        "category": "home", "region": "north", "description": "ok"}

EDGE_VALUES = {
    "id": ["", "1", "007", "0", "00", "A17", "1.5", "-3", " 4", "4 ", "123456789012345678", "1234567890123456789",
           "9" * 18, "+1", "1e3", "١٢", "\uff11", "4\n", "\n4", "0x1F"],
    "event_date": [
        "", "2026-02-28", "2026-02-29", "2024-02-29", "2026-13-01", "2026-1-5", "15/03/2026", "2026-03-01T00",
        "0000-01-01", "0000-12-31", "0001-01-01", "9999-12-31", "1900-02-29", "2000-02-29", "2026-00-10",
        "2026-01-00", "2026-04-31", "2026-01-32", " 2026-01-01", "2026-01-01 ",
        "\uff12\uff10\uff12\uff16-01-01", "2026-01-01\n", "-001-01-01", "+2026-01-01",
    ],
    "amount": [
        "", "1", "-2.5", "+3.", ".5", "1e3", "1E-2", "1e999", "-1e999", "1e308", "1.8e308", "1e-999", "4.9e-324",
        "inf", "-inf", "Infinity", "nan", "NaN", "1,234.50", "12.3.4", "1_000", " 1", "1 ", "€12", "-", "+", ".",
        "e5", "1e", "1e+", "00000000000000000000001.5", "1" * 400, "0." + "0" * 400 + "1", "١٢", "1\n",
    ],
    "quantity": ["", "0", "20", "-3", "2.5", "+1", "many", "1234567890", "999999999", "007", " 1", "\u0661", "1e2"],
    "category": ["", "home", "bücher", " ", "\t", "東京", "=cmd", "x" * 5000],
    "region": ["", " ", "north", "é"],
    "description": ["", " ", "a\nb", '"', "\u0000"],
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
    expected_rejected = [(r["id"], r["event_date"], r["amount"], r["quantity"], ";".join(schema.validate_row(r)))
                         for r in rows if schema.validate_row(r)]
    rejected = parts.rejected.to_pylist()
    got = [(r["id"], r["event_date"], r["amount"], r["quantity"], r[validate.REASON_COLUMN]) for r in rejected]
    assert got == expected_rejected
    assert parts.valid.num_rows + len(rejected) == len(rows)


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_dates_checked_once_per_distinct_value_equal_the_row_by_row_check(share: float,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Share 0: every date is checked where it stands; share 1: each distinct date once, mapped back."""
    monkeypatch.setattr(validate, "DISTINCT_SHARE", share)
    rows = [{**GOOD, "id": str(i + 1), "event_date": date}
            for i, date in enumerate(EDGE_VALUES["event_date"] * 3 + ["2026-03-31"] * 20)]
    random.Random(2).shuffle(rows)
    parts = validate.split(pd.DataFrame(rows, dtype="str"))
    expected = [r for r in rows if not schema.validate_row(r)]
    assert parts.valid.column("id").to_pylist() == [int(r["id"]) for r in expected]
    assert parts.valid.column("event_date").to_pylist() == [_dt.date.fromisoformat(r["event_date"]) for r in expected]
    reasons = [";".join(schema.validate_row(r)) for r in rows if schema.validate_row(r)]
    assert parts.rejected.column(validate.REASON_COLUMN).to_pylist() == reasons


def test_valid_edge_rows_read_back_as_the_plain_python_values() -> None:
    # Stored values must be readable and equal to what Python makes of the text (a year 0 date32 was not).
    rows = [r for r in _edge_rows() if not schema.validate_row(r)]
    valid = validate.split(pd.DataFrame(rows, dtype="str")).valid.to_pylist()
    assert len(valid) == len(rows)
    for got, raw in zip(valid, rows, strict=True):
        assert got["id"] == int(raw["id"])
        assert got["event_date"] == _dt.date.fromisoformat(raw["event_date"])
        assert got["amount"] == (float(raw["amount"]) if raw["amount"] else None)
        assert got["quantity"] == (int(raw["quantity"]) if raw["quantity"] else None)
        assert got["category"] == raw["category"] and got["description"] == raw["description"]
        assert got["region"] == (raw["region"] or None)


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


def test_vectorised_split_matches_row_validator_on_random_near_miss_values() -> None:
    # Random strings over the characters the grammars care about find disagreements no list anticipates.
    rng = random.Random(3)
    alphabet = "0123456789-+.eE :T/\n"
    rows = []
    for _ in range(3000):
        row = dict(GOOD)
        column = rng.choice(["id", "event_date", "amount", "quantity"])
        if column == "event_date" and rng.random() < 0.7:
            year = rng.choice([0, 1, 1900, 2000, 2024, 9999])
            row[column] = f"{year:04d}-{rng.randint(0, 13):02d}-{rng.randint(0, 32):02d}"
        else:
            row[column] = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        rows.append(row)
    parts = validate.split(pd.DataFrame(rows, dtype="str"))
    expected = [";".join(schema.validate_row(r)) for r in rows if schema.validate_row(r)]
    assert parts.rejected.column(validate.REASON_COLUMN).to_pylist() == expected
    assert parts.valid.num_rows == len(rows) - len(expected)
    parts.valid.to_pylist()  # every stored value reads back


def test_rows_breaking_several_rules_carry_every_code_in_the_row_validators_order() -> None:
    broken = {"id": "x1", "event_date": "2026-02-30", "amount": "1,5", "quantity": "-3", "category": ""}
    rows = []
    for mask in range(1, 1 << len(broken)):  # every combination of broken columns
        row = {**GOOD, "id": str(mask)}
        row.update({column: value for bit, (column, value) in enumerate(broken.items()) if mask >> bit & 1})
        rows.append(row)
    rows.append({**GOOD, "id": "", "event_date": ""})
    random.Random(3).shuffle(rows)
    parts = validate.split(pd.DataFrame(rows, dtype="str"))
    expected = [";".join(schema.validate_row(r)) for r in rows if schema.validate_row(r)]
    assert len(expected) == len(rows) and max(reason.count(";") for reason in expected) == 4
    assert parts.rejected.column(validate.REASON_COLUMN).to_pylist() == expected
