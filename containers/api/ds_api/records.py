"""JSON records -> the job's raw rows, validated by the job's own rules; errors name field, value and rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from ds_preprocessing import schema, validate

# Which field each of the job's reason codes is about.
REASON_FIELDS = {
    schema.MISSING_ID: "id",
    schema.BAD_ID: "id",
    schema.MISSING_EVENT_DATE: "event_date",
    schema.BAD_EVENT_DATE: "event_date",
    schema.BAD_AMOUNT: "amount",
    schema.BAD_QUANTITY: "quantity",
    schema.MISSING_CATEGORY: "category",
}
UNKNOWN_FIELD = "unknown_field"
BAD_TYPE = "bad_type"
NOT_AN_OBJECT = "not_an_object"
_DESCRIPTIONS = {c.name: c.description for c in schema.COLUMNS}


@dataclass(frozen=True)
class Problem:
    """Why one record is rejected: its index, the field, the value given and the rule it breaks."""

    record: int
    field: str
    value: Any
    rule: str
    message: str

    def to_json(self) -> dict[str, Any]:
        """The 422 detail entry."""
        return {
            "record": self.record,
            "field": self.field,
            "value": self.value,
            "rule": self.rule,
            "message": self.message,
        }


def _raw(value: Any) -> str | None:
    """The CSV text the job would have read for a JSON value (None when the type has no CSV form)."""
    if value is None:
        return ""
    if isinstance(value, bool):  # JSON true/false is not a number, whatever Python thinks
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return value
    return None


def to_rows(records: list[Any]) -> tuple[list[dict[str, str]], list[Problem]]:
    """Raw string rows for the schema's columns, and the problems that stop a record before the job's rules."""
    rows: list[dict[str, str]] = []
    problems: list[Problem] = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            problems.append(
                Problem(index, "", record, NOT_AN_OBJECT, "each record is a JSON object of the input columns")
            )
            rows.append(dict.fromkeys(schema.COLUMN_NAMES, ""))
            continue
        for name in sorted(set(record) - set(schema.COLUMN_NAMES)):
            problems.append(
                Problem(
                    index,
                    name,
                    record[name],
                    UNKNOWN_FIELD,
                    f"not an input column; the columns are {', '.join(schema.COLUMN_NAMES)}",
                )
            )
        row: dict[str, str] = {}
        for name in schema.COLUMN_NAMES:
            raw = _raw(record.get(name))
            if raw is None:
                problems.append(
                    Problem(
                        index,
                        name,
                        record.get(name),
                        BAD_TYPE,
                        f"{_DESCRIPTIONS[name]}; give a string, a number or null",
                    )
                )
                raw = ""
            row[name] = raw
        rows.append(row)
    return rows, problems


def check(records: list[Any]) -> tuple[pa.Table, list[Problem]]:
    """Validate records with the job's vectorised rules: (typed valid rows, problems); all valid or problems."""
    rows, problems = to_rows(records)
    table = pa.table({name: pa.array([r[name] for r in rows], pa.string()) for name in schema.COLUMN_NAMES})
    result = validate.split(table)
    if result.rejected.num_rows:
        # The job's split keeps no row index; the row-by-row statement of the same rules says which record.
        for index, row in enumerate(rows):
            for reason in schema.validate_row(row):
                name = REASON_FIELDS.get(reason, "")
                value = records[index].get(name) if isinstance(records[index], dict) else None
                problems.append(Problem(index, name, value, reason, _DESCRIPTIONS.get(name, reason)))
    problems.sort(key=lambda p: (p.record, p.field, p.rule))
    return result.valid, problems
