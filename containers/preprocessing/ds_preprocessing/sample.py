"""Realistic sample input: clean rows plus a controlled fraction of dirty ones (the kinds real exports have)."""

from __future__ import annotations

import csv
import datetime as _dt
import io
import random
from collections.abc import Iterator

from ds_preprocessing.schema import COLUMN_NAMES

CATEGORIES: tuple[str, ...] = ("electronics", "grocery", "clothing", "home", "toys", "sports")
REGIONS: tuple[str, ...] = ("north", "south", "east", "west")
UNKNOWN_CATEGORIES: tuple[str, ...] = ("garden", "automotive", "bücher")
_WORDS: tuple[str, ...] = (
    "order", "refund", "bulk", "gift", "promo", "Café crème", "naïve", "Zürich", "東京", "façade", "smörgåsbord",
)
# Dirty kinds and whether the job should accept the row (missing optional values and unseen categories are fine).
DIRTY_KINDS: tuple[str, ...] = (
    "missing_amount", "missing_quantity", "unknown_category", "missing_region",
    "bad_amount", "bad_quantity", "bad_event_date", "missing_id", "bad_id", "missing_category", "malformed_row",
)
_START = _dt.date(2026, 1, 1)


def generate_csv(rows: int, seed: int = 0, dirty_fraction: float = 0.05) -> bytes:
    """Return a UTF-8 CSV (header + ``rows`` data lines) whose dirty rows are about ``dirty_fraction`` of all."""
    return b"".join(generate_csv_chunks(rows, seed=seed, dirty_fraction=dirty_fraction))


def generate_csv_chunks(
    rows: int, seed: int = 0, dirty_fraction: float = 0.05, chunk_rows: int = 50_000
) -> Iterator[bytes]:
    """Yield the same CSV as ``generate_csv`` in pieces, so gigabyte inputs never sit in memory at once."""
    if rows < 0 or not 0.0 <= dirty_fraction <= 1.0:
        raise ValueError(f"rows must be >= 0 and dirty_fraction in [0, 1], got rows={rows}, {dirty_fraction=}")
    rng = random.Random(seed)
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow(COLUMN_NAMES)
    yield header.getvalue().encode("utf-8")
    for start in range(0, rows, chunk_rows):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        for index in range(start, min(rows, start + chunk_rows)):
            kind = rng.choice(DIRTY_KINDS) if rng.random() < dirty_fraction else ""
            if kind == "malformed_row":
                # A row with an extra field, as a stray unquoted comma produces.
                buffer.write(f"{index + 1},2026-03-01,10.00,1,home,north,broken,extra\n")
                continue
            writer.writerow(_row(rng, index + 1, kind))
        yield buffer.getvalue().encode("utf-8")


def _row(rng: random.Random, row_id: int, kind: str) -> list[str]:
    amount = f"{rng.lognormvariate(3.5, 0.8):.2f}"
    quantity = str(rng.randint(0, 20))
    category = rng.choice(CATEGORIES)
    region = rng.choice(REGIONS)
    event_date = (_START + _dt.timedelta(days=rng.randrange(365))).isoformat()
    description = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 4)))
    if rng.random() < 0.2:
        description = f'{description}, "quoted", and more'  # quoted commas and quotes must survive the CSV round trip
    values = {
        "id": str(row_id), "event_date": event_date, "amount": amount, "quantity": quantity,
        "category": category, "region": region, "description": description,
    }
    if kind == "missing_amount":
        values["amount"] = ""
    elif kind == "missing_quantity":
        values["quantity"] = ""
    elif kind == "unknown_category":
        values["category"] = rng.choice(UNKNOWN_CATEGORIES)
    elif kind == "missing_region":
        values["region"] = ""
    elif kind == "bad_amount":
        values["amount"] = rng.choice(("1,234.50", "12.3.4", "n/a", "inf", "€12"))
    elif kind == "bad_quantity":
        values["quantity"] = rng.choice(("-3", "2.5", "many"))
    elif kind == "bad_event_date":
        values["event_date"] = rng.choice(("2026-02-30", "15/03/2026", "2026-13-01", "yesterday"))
    elif kind == "missing_id":
        values["id"] = ""
    elif kind == "bad_id":
        values["id"] = rng.choice(("A17", "0", "1.5"))
    elif kind == "missing_category":
        values["category"] = ""
    return [values[name] for name in COLUMN_NAMES]
