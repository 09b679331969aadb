"""Vectorised validation of a chunk of raw string rows: split into typed valid rows and rejected rows with reasons.

The rules are those of ``schema.validate_row``; tests check both agree row by row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ds_preprocessing import schema

REASON_COLUMN = "reason"
RAW_LINE_COLUMN = "raw_line"
REJECTED_COLUMNS: tuple[str, ...] = (*schema.COLUMN_NAMES, REASON_COLUMN, RAW_LINE_COLUMN)


def split(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(valid, rejected)``: valid rows typed for the model, rejected rows as strings plus a reason."""
    masks, typed = _check(frame)
    bad = np.zeros(len(frame), dtype=bool)
    for mask in masks.values():
        bad |= mask
    rejected = frame.loc[bad, list(schema.COLUMN_NAMES)].copy()
    reasons = np.full(int(bad.sum()), "", dtype=object)
    for code in schema.REASONS:
        if code in masks:
            hit = masks[code][bad]
            reasons = np.where(hit, np.where(reasons == "", code, reasons + ";" + code), reasons)
    rejected[REASON_COLUMN] = pd.Series(reasons, index=rejected.index, dtype="str")
    rejected[RAW_LINE_COLUMN] = ""
    valid = pd.DataFrame({name: column[~bad] for name, column in typed.items()})
    return valid.reset_index(drop=True), rejected.reset_index(drop=True)


def malformed_rows(lines: list[str]) -> pd.DataFrame:
    """Return rejected rows for raw CSV lines that did not have the header's number of fields."""
    rejected = pd.DataFrame({name: [""] * len(lines) for name in schema.COLUMN_NAMES}, dtype="str")
    rejected[REASON_COLUMN] = pd.Series([schema.MALFORMED_ROW] * len(lines), dtype="str")
    rejected[RAW_LINE_COLUMN] = pd.Series(lines, dtype="str")
    return rejected


def _check(frame: pd.DataFrame) -> tuple[dict[str, np.ndarray], dict[str, pd.Series]]:
    ids = frame["id"]
    missing_id = (ids == "").to_numpy(bool)
    id_ok = ids.str.fullmatch(schema.INTEGER_RE.pattern).to_numpy(bool) & ~ids.str.fullmatch("0+").to_numpy(bool)

    dates_raw = frame["event_date"]
    missing_date = (dates_raw == "").to_numpy(bool)
    date_shape = dates_raw.str.fullmatch(schema.DATE_RE.pattern).to_numpy(bool)
    dates = pd.to_datetime(dates_raw.where(date_shape), format="%Y-%m-%d", errors="coerce")
    date_ok = date_shape & dates.notna().to_numpy(bool)

    amount_raw = frame["amount"]
    amount_empty = (amount_raw == "").to_numpy(bool)
    amount_shape = amount_raw.str.fullmatch(schema.DECIMAL_RE.pattern).to_numpy(bool)
    amount = pd.to_numeric(amount_raw.where(amount_shape), errors="coerce").astype("float64")
    amount_ok = amount_shape & np.isfinite(amount.to_numpy())

    quantity_raw = frame["quantity"]
    quantity_empty = (quantity_raw == "").to_numpy(bool)
    quantity_ok = quantity_raw.str.fullmatch(schema.COUNT_RE.pattern).to_numpy(bool)
    quantity = pd.to_numeric(quantity_raw.where(quantity_ok), errors="coerce").astype("float64")

    masks = {
        schema.MISSING_ID: missing_id,
        schema.BAD_ID: ~missing_id & ~id_ok,
        schema.MISSING_EVENT_DATE: missing_date,
        schema.BAD_EVENT_DATE: ~missing_date & ~date_ok,
        schema.BAD_AMOUNT: ~amount_empty & ~amount_ok,
        schema.BAD_QUANTITY: ~quantity_empty & ~quantity_ok,
        schema.MISSING_CATEGORY: (frame["category"] == "").to_numpy(bool),
    }
    typed = {
        # Invalid ids become 0 here only to keep the dtype; those rows are dropped by the caller.
        "id": pd.to_numeric(ids.where(id_ok, "0"), errors="coerce").fillna(0).astype("int64"),
        "event_date": dates.astype("datetime64[s]"),
        "amount": amount,
        "quantity": quantity,
        "category": frame["category"],
        "region": frame["region"].where(frame["region"] != ""),
        "description": frame["description"],
    }
    return masks, typed
