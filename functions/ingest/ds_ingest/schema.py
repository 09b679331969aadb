"""The preprocessing job's input columns, copied (the function must not import the job's package).

A drift test (tests/functions/test_ingest_schema_drift.py) compares this list with
containers/preprocessing/ds_preprocessing/schema.py, so a change there fails until it is made here too.
"""

from __future__ import annotations

COLUMN_NAMES: tuple[str, ...] = ("id", "event_date", "amount", "quantity", "category", "region", "description")
# As the job: every column must be in the header, even those whose values may be empty.
REQUIRED_COLUMNS: tuple[str, ...] = COLUMN_NAMES


def header_problem(header: list[str]) -> str | None:
    """Why this CSV header does not fit the job's input schema (as the job's own check says), or None."""
    present = set(header)
    missing = [name for name in REQUIRED_COLUMNS if name not in present]
    if not missing:
        return None
    return f"missing required column(s) {', '.join(missing)}; the header must contain {','.join(COLUMN_NAMES)}"
