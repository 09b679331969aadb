"""Spreadsheet formula injection: text cells of CSV outputs that a spreadsheet would run get a leading quote.

OWASP's rule: a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return may be taken as a
formula by Excel, LibreOffice or Google Sheets. Such a text cell is written as ``'`` + the value, unless the
whole cell is a plain number (``-2.5``, ``+1e3``: the schema's decimal grammar), which a spreadsheet reads
as a number, not a formula. Typed numeric columns are never touched; Parquet keeps every value as it is.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ds_preprocessing import schema

TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
PREFIX = "'"
_TRIGGER_RE = "^[=+\\-@\\t\\r]"
_NUMBER_RE = f"^(?:{schema.DECIMAL_RE.pattern})$"


def neutralise_value(value: str) -> str:
    """The rule for one cell, in plain Python (the reference the vectorised version is tested against)."""
    if value.startswith(TRIGGERS) and not schema.DECIMAL_RE.fullmatch(value):
        return PREFIX + value
    return value


def neutralise_array(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Return ``values`` (strings) with formula-like cells prefixed; the same object if none is."""
    risky = pc.match_substring_regex(values, _TRIGGER_RE)
    if not pc.any(risky).as_py():
        return values
    risky = pc.and_(risky, pc.invert(pc.match_substring_regex(values, _NUMBER_RE)))
    return pc.if_else(risky, pc.binary_join_element_wise(PREFIX, values, ""), values)


def neutralise_table(table: pa.Table) -> pa.Table:
    """Return ``table`` with every string column neutralised (other types pass through)."""
    for index, field in enumerate(table.schema):
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            column = table.column(index)
            safe = neutralise_array(column)
            if safe is not column:
                table = table.set_column(index, field, safe)
    return table
