"""The input CSV schema and a plain-Python row validator (an independent check for tests and the e2e harness).

The job validates whole chunks with vectorised code in ``validate.py``; this module states the rules once,
row by row, with nothing but the standard library, so the two can be checked against each other.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One input column: its name, logical type, whether it may be empty, and what it means."""

    name: str
    type: str  # one of: integer, date, decimal, count, category, text
    required: bool
    description: str


COLUMNS: tuple[Column, ...] = (
    Column("id", "integer", True, "record id, a positive integer of at most 18 digits"),
    Column("event_date", "date", True, "ISO date YYYY-MM-DD"),
    Column("amount", "decimal", False, "monetary amount; empty means unknown (imputed by the model)"),
    Column("quantity", "count", False, "non-negative integer count; empty means unknown (imputed)"),
    Column("category", "category", True, "product category; values unseen in training are allowed"),
    Column("region", "category", False, "sales region; empty or unseen values are allowed"),
    Column("description", "text", False, "free UTF-8 text, may contain quoted commas and quotes"),
)
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
REQUIRED_COLUMNS: tuple[str, ...] = COLUMN_NAMES  # every column must be in the header, even if its values may be empty
NUMERIC_FEATURES: tuple[str, ...] = ("amount", "quantity")
CATEGORICAL_FEATURES: tuple[str, ...] = ("category", "region")

# Strict number grammars: Python's float() also accepts "1_000", " 12 ", "nan" and "inf", which are dirty data.
INTEGER_RE = re.compile(r"[0-9]{1,18}")
DECIMAL_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
COUNT_RE = re.compile(r"[0-9]{1,9}")
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

# Reason codes written to rejected.csv and counted in the manifest.
MISSING_ID = "missing_id"
BAD_ID = "bad_id"
MISSING_EVENT_DATE = "missing_event_date"
BAD_EVENT_DATE = "bad_event_date"
BAD_AMOUNT = "bad_amount"
BAD_QUANTITY = "bad_quantity"
MISSING_CATEGORY = "missing_category"
MALFORMED_ROW = "malformed_row"
OVERSIZED_ROW = "oversized_row"
REASONS: tuple[str, ...] = (
    MISSING_ID, BAD_ID, MISSING_EVENT_DATE, BAD_EVENT_DATE, BAD_AMOUNT, BAD_QUANTITY, MISSING_CATEGORY, MALFORMED_ROW,
    OVERSIZED_ROW,
)


def missing_columns(header: list[str]) -> list[str]:
    """Return the required columns absent from a CSV header, in schema order."""
    present = set(header)
    return [name for name in REQUIRED_COLUMNS if name not in present]


def validate_row(row: Mapping[str, str]) -> list[str]:
    """Return the reason codes why one row (column name -> raw string) is rejected; empty means valid."""
    reasons: list[str] = []
    raw_id = row.get("id", "")
    if raw_id == "":
        reasons.append(MISSING_ID)
    elif not INTEGER_RE.fullmatch(raw_id) or int(raw_id) == 0:
        reasons.append(BAD_ID)
    raw_date = row.get("event_date", "")
    if raw_date == "":
        reasons.append(MISSING_EVENT_DATE)
    elif not _is_date(raw_date):
        reasons.append(BAD_EVENT_DATE)
    raw_amount = row.get("amount", "")
    if raw_amount != "" and not (DECIMAL_RE.fullmatch(raw_amount) and math.isfinite(float(raw_amount))):
        reasons.append(BAD_AMOUNT)
    raw_quantity = row.get("quantity", "")
    if raw_quantity != "" and not COUNT_RE.fullmatch(raw_quantity):
        reasons.append(BAD_QUANTITY)
    if row.get("category", "") == "":
        reasons.append(MISSING_CATEGORY)
    return reasons


def _is_date(value: str) -> bool:
    if not DATE_RE.fullmatch(value):
        return False
    try:
        _dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True
