"""The fast paths agree with their references: the model's transform with scikit-learn, the CSV rule with Python."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from ds_preprocessing import csvsafe, fastmodel, model, process, reader, sample, validate
from ppjob_support import Platform
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

EDGE = pd.DataFrame({
    "id": ["1", "2", "3", "4", "5", "6", "7"],
    "event_date": ["2026-01-01"] * 7,
    "amount": ["", "0", "-1e300", "1e-300", "12.5", "", "3"],
    "quantity": ["", "0", "999999999", "3", "", "1", "2"],
    "category": ["home", "garden", "bücher", "missing", " home", "toys", "東京"],
    "region": ["", "north", "missing", "zz", "", "west", "é"],
    "description": ["x"] * 7,
})


def _valid(frame: pd.DataFrame) -> pa.Table:
    parts = validate.split(frame)
    assert parts.rejected.num_rows == 0
    return parts.valid


def _trained_with_missing_regions() -> Pipeline:
    rows = validate.split(pd.DataFrame([
        {**EDGE.iloc[0].to_dict(), "id": str(i), "amount": str(i % 7), "quantity": str(i % 3),
         "category": ["home", "toys"][i % 2], "region": ["", "north", "missing"][i % 3]}
        for i in range(1, 60)
    ])).valid
    return model.train(rows)


@pytest.mark.parametrize("make", [lambda: model.train_on_sample(rows=500, seed=1), _trained_with_missing_regions])
def test_fast_transform_equals_scikit_learn_exactly(make: object) -> None:
    pipeline = make()
    fast = fastmodel.compile_pipeline(pipeline)
    assert fast is not None
    valid = _valid(EDGE)
    ours = np.column_stack([column.to_numpy() for column in fast.columns(valid)])
    theirs = model.transform_matrix(pipeline, valid)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype == np.float64
    assert np.array_equal(ours, theirs)  # bit for bit: the same operations in the same order


def test_fast_transform_equals_scikit_learn_on_a_dirty_sample() -> None:
    pipeline = model.train_on_sample(rows=300, seed=2)
    fast = fastmodel.compile_pipeline(pipeline)
    assert fast is not None
    data = sample.generate_csv(3000, seed=4, dirty_fraction=0.5)
    for chunk in reader.iter_chunks(io.BytesIO(data), "t", block_size=16 << 10):
        valid = validate.split(chunk.batch).valid
        ours = np.column_stack([column.to_numpy() for column in fast.columns(valid)])
        assert np.array_equal(ours, model.transform_matrix(pipeline, valid))


def test_other_pipeline_shapes_fall_back_to_scikit_learn() -> None:
    pipeline = model.build_pipeline()
    pipeline.named_steps["features"].transformers[1][1].steps[1] = ("onehot", OneHotEncoder(
        drop="first", handle_unknown="ignore", sparse_output=False))
    pipeline.fit(model._model_input(_valid(EDGE.assign(amount=["1", "2", "3", "", "5", "6", "7"]))))
    assert fastmodel.compile_pipeline(pipeline) is None
    assert fastmodel.compile_pipeline(Pipeline([*model.train_on_sample(200).steps, ("again", "passthrough")])) is None
    valid = _valid(EDGE)
    table = process.to_output(valid, pipeline)
    features = np.column_stack([table.column(i).to_numpy() for i in range(len(validate.VALID_SCHEMA),
                                                                           table.num_columns)])
    assert np.array_equal(features, model.transform_matrix(pipeline, valid))


VALUES = ["=1+1", "+1", "+1+1", "-2.5", "-", "-x", "@a", "\tx", "\rx", "x=1", "", "1e5", "-1e5", "+.5", "-.",
          " =1", "'=1", "\uff1d1", None]


def test_vectorised_formula_rule_equals_the_python_rule() -> None:
    got = csvsafe.neutralise_array(pa.array(VALUES, pa.string())).to_pylist()
    assert got == [None if v is None else csvsafe.neutralise_value(v) for v in VALUES]
    assert got[:6] == ["'=1+1", "+1", "'+1+1", "-2.5", "'-", "'-x"]


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
def test_first_byte_precheck_finds_every_formula_one_cell_at_a_time(kind: pa.DataType) -> None:
    """Each VALUES cell alone, inside clean cells, sliced and chunked: the precheck never misses a trigger."""
    clean = ["plain", None, "", "x=1"]
    for value in VALUES:
        whole = pa.array(["=skipped", *clean, value, *clean, "+skipped"], kind)
        sliced = whole.slice(1, len(whole) - 2)  # an offset into the buffers, as after a filter or a take
        chunked = pa.chunked_array([pa.array(clean, kind), sliced, pa.array([], kind)])
        for values in (sliced, chunked):
            expected = value is not None and value.startswith(csvsafe.TRIGGERS)
            assert csvsafe.may_have_formulas(values) is expected, (value, values)
            got = csvsafe.neutralise_array(values).to_pylist()
            assert got == [None if v is None else csvsafe.neutralise_value(v) for v in values.to_pylist()]
    unchanged = pa.array(clean * 3, kind)
    assert csvsafe.neutralise_array(unchanged) is unchanged  # no formula: the same object, nothing copied


def test_csv_integer_columns_write_the_same_text_as_floats() -> None:
    pipeline = model.train_on_sample(rows=300, seed=3)
    table = process.to_output(_valid(EDGE), pipeline)
    names = process.csv_integer_columns(pipeline)
    assert names and all(n.startswith(("category_", "region_")) for n in names)
    import pyarrow.csv as pacsv

    as_floats, as_ints = io.BytesIO(), io.BytesIO()
    pacsv.write_csv(table, as_floats)
    pacsv.write_csv(table.cast(pa.schema([pa.field(f.name, pa.int8()) if f.name in names else f
                                          for f in table.schema])), as_ints)
    assert as_ints.getvalue() == as_floats.getvalue()


def test_parquet_id_column_is_written_without_a_dictionary(platform: Platform, run_job: Any) -> None:
    """``id`` is unique, so a dictionary page is wasted work; every other column keeps dictionary encoding."""
    import pyarrow.parquet as pq

    platform.put_input(sample.generate_csv(500, seed=4))
    assert run_job("dict").code == 0
    data = platform.get("processed/dict/data.parquet")
    metadata = pq.read_metadata(io.BytesIO(data))
    chunks = {metadata.schema.column(i).name: metadata.row_group(0).column(i) for i in range(metadata.num_columns)}
    assert not any("DICTIONARY" in e for e in chunks["id"].encodings)
    assert chunks["category"].has_dictionary_page and chunks["amount_scaled"].has_dictionary_page
    assert pq.read_table(io.BytesIO(data)).column("id").to_pylist()[:3] == [1, 2, 3]


def test_parquet_row_groups_gather_several_chunks_in_order(platform: Platform, run_job: Any,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks are gathered into row groups of at least PARQUET_ROW_GROUP_ROWS rows (the last may be smaller)."""
    import pyarrow.parquet as pq

    monkeypatch.setattr(process, "PARQUET_ROW_GROUP_ROWS", 1000)
    platform.put_input(sample.generate_csv(5000, seed=5, dirty_fraction=0.0))
    result = run_job("groups", block_size=16 << 10)
    assert result.code == 0
    chunks = platform.manifest("groups")["chunks"]
    data = platform.get("processed/groups/data.parquet")
    metadata = pq.read_metadata(io.BytesIO(data))
    sizes = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
    assert sum(sizes) == 5000 and 1 < len(sizes) < chunks
    assert all(size >= 1000 for size in sizes[:-1])
    assert pq.read_table(io.BytesIO(data)).column("id").to_pylist() == list(range(1, 5001))


def test_csv_bytes_are_pyarrows_default_rendering_of_the_parquet_rows(platform: Platform, run_job: Any) -> None:
    """data.csv is byte for byte pyarrow's default CSV of data.parquet's rows with formulas neutralised: the
    writer's batch size, csvtext's memos and one-hot patterns and row groups are speed choices that must not
    show in the bytes."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    edges = (b'7,2026-01-02,1,1,"=x",,"a ""q"" b"\n'
             b'8,2026-01-03,-0,,"home","a ""q"", b","two\nlines, ""quoted""\r\nthree"\n'
             b'9,2026-01-03,0,0,"toys",,""\n10,2026-01-04,-2.5e-3,7,"\xe6\x9d\xb1","-1",\n')
    platform.put_input(sample.generate_csv(3000, seed=6, dirty_fraction=0.2) + edges)
    assert run_job("bytes", block_size=16 << 10).code == 0
    table = pq.read_table(io.BytesIO(platform.get("processed/bytes/data.parquet")))
    expected = io.BytesIO()
    pacsv.write_csv(csvsafe.neutralise_table(table), expected)
    assert platform.get("processed/bytes/data.csv") == expected.getvalue()
    assert b'"two\nlines, ""quoted""\r\nthree"' in expected.getvalue() and b"\n8,2026-01-03,-0,," in expected.getvalue()
    rejected = platform.get("rejected/bytes/rejected.csv")
    assert rejected.startswith(b'"id","event_date","amount"') and rejected.count(b"\n") > 100
