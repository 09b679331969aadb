"""csvtext renders exactly the bytes of pyarrow's CSV writer (default options), whatever the values."""

from __future__ import annotations

import io
import math
import random

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from ds_preprocessing import csvtext

ONE_HOT = ["category_a", "category_b", "region_x", "region_y"]


def _writer_bytes(table: pa.Table) -> bytes:
    out = io.BytesIO()
    pacsv.write_csv(table, out)
    return out.getvalue()


def _rendered(tables: list[pa.Table], binary: list[int] | None = None) -> bytes:
    renderer = csvtext.Renderer(binary or [])
    return csvtext.header(tables[0].schema) + b"".join(renderer.render(t).to_pybytes() for t in tables)


def _varied(rows: int, seed: int, distinct: int) -> pa.Table:
    """Every accepted type, nulls, quotes, newlines, unicode, signed zeros, NaN and infinities, ``distinct``
    different values per column (few: the memo path; many: cell by cell)."""
    rng = random.Random(seed)
    texts = ['plain', 'a,b', 'say "hi"', '"', '""', 'line\nbreak', 'crlf\r\nx', '東京 é', '', ' lead', "'=x"]
    floats = [0.0, -0.0, 1.0, -1.5, 1e300, -1e-300, 0.1, 2.5e-7, 123456789.125, math.inf, -math.inf, math.nan]

    def pick(pool: list[object], i: int) -> object:
        return pool[i % len(pool)] if i < len(pool) else pool[rng.randrange(len(pool))]

    def column(make: object) -> list[object]:
        values = [make(rng.randrange(distinct)) for _ in range(rows)]  # type: ignore[operator]
        return [None if rng.random() < 0.1 else v for v in values]

    return pa.table({
        "id": pa.array(column(lambda k: k * 7919 - 50), pa.int64()),
        "day": pa.array(column(lambda k: 10_000 + k), pa.date32()),
        "f64": pa.array(column(lambda k: pick(floats, k) if k < len(floats) else k / 7 - 3), pa.float64()),
        "f32": pa.array(column(lambda k: float(pick(floats, k))), pa.float32()),
        "i8": pa.array(column(lambda k: k % 100 - 50), pa.int8()),
        "u32": pa.array(column(lambda k: k * 3), pa.uint32()),
        "text": pa.array(column(lambda k: pick(texts, k) + ("" if k < len(texts) else str(k))), pa.string()),
        "large": pa.array(column(lambda k: pick(texts, k) + str(k)), pa.large_string()),
        'quoted "name"': pa.array(column(lambda k: f"v{k}"), pa.string()),
    })


@pytest.mark.parametrize("distinct", [3, 40, 100_000])
def test_rendered_bytes_equal_pyarrows_writer(distinct: int) -> None:
    tables = [_varied(rows, seed, distinct) for seed, rows in enumerate([1, 500, 2000, 37])]
    assert csvtext.supported(tables[0].schema)
    assert _rendered(tables) == _writer_bytes(pa.concat_tables(tables))


def test_chunked_columns_and_empty_tables_render_as_the_writer_does() -> None:
    table = _varied(300, 9, 20)
    chunked = pa.concat_tables([table.slice(0, 100), table.slice(100, 50), table.slice(150)])
    assert chunked.column(0).num_chunks == 3
    assert _rendered([chunked, table.slice(0, 0)]) == _writer_bytes(table)
    assert _rendered([table.slice(0, 0)]) == _writer_bytes(table.slice(0, 0))  # header only
    single = table.select(["text"])
    assert _rendered([single]) == _writer_bytes(single)


def _one_hot_table(rows: int, seed: int) -> pa.Table:
    rng = random.Random(seed)
    base = _varied(rows, seed, 30).select(["id", "f64", "text"])
    columns = {name: [float(rng.random() < 0.3) for _ in range(rows)] for name in ONE_HOT}
    return pa.table({**{n: base.column(n) for n in base.column_names},
                     **{n: pa.array(v, pa.float64()) for n, v in columns.items()}})


def test_one_hot_patterns_render_as_the_writer_does() -> None:
    tables = [_one_hot_table(rows, seed) for seed, rows in enumerate([700, 1, 64])]
    binary = [3, 4, 5, 6]
    assert _rendered(tables, binary) == _writer_bytes(pa.concat_tables(tables))


@pytest.mark.parametrize("odd", [2.0, -0.0, math.nan, 0.5, None])
def test_one_hot_columns_holding_another_value_fall_back_to_cells(odd: float | None) -> None:
    table = _one_hot_table(50, 3)
    values = table.column("region_x").to_pylist()
    values[17] = odd
    table = table.set_column(5, "region_x", pa.array(values, pa.float64()))
    assert _rendered([table], [3, 4, 5, 6]) == _writer_bytes(table)


def test_one_hot_columns_not_at_the_end_fall_back_to_cells() -> None:
    table = _one_hot_table(50, 4)
    moved = table.select(["id", *ONE_HOT, "f64", "text"])
    assert _rendered([moved], [1, 2, 3, 4]) == _writer_bytes(moved)


def test_types_the_writer_renders_differently_are_not_supported() -> None:
    assert not csvtext.supported(pa.schema([pa.field("t", pa.timestamp("s"))]))
    assert not csvtext.supported(pa.schema([pa.field("b", pa.bool_())]))
    assert csvtext.supported(pa.schema([pa.field("d", pa.date32()), pa.field("s", pa.large_string())]))


def test_more_binary_columns_than_one_pattern_holds_render_cell_by_cell() -> None:
    rng = random.Random(5)
    count = csvtext.MAX_PATTERN_COLUMNS + 3
    table = pa.table({f"b{i}": pa.array([float(rng.random() < 0.5) for _ in range(40)]) for i in range(count)})
    assert _rendered([table], list(range(count))) == _writer_bytes(table)
