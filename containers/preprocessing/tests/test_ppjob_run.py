"""A full job run against moto: values, routing of dirty rows, manifest arithmetic, re-runs and crashes."""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections import Counter
from typing import Any

import pyarrow.parquet as pq
import pytest
from ds_preprocessing import sample, schema
from ppjob_support import INPUT_KEY, Platform, assert_nothing_committed


def _input_rows(data: bytes) -> tuple[list[dict[str, str]], list[list[str]]]:
    """Parse CSV bytes independently of the job: well-formed rows as dicts, and malformed rows."""
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    header = parsed[0]
    good = [dict(zip(header, r, strict=True)) for r in parsed[1:] if len(r) == len(header)]
    return good, [r for r in parsed[1:] if len(r) != len(header)]


def _training_stats() -> dict[str, tuple[float, float, float]]:
    """Median, mean and population std of each numeric column of the training sample, with the stdlib."""
    rows = list(csv.DictReader(io.StringIO(sample.generate_csv(2000, seed=0, dirty_fraction=0.0).decode())))
    stats = {}
    for column in schema.NUMERIC_FEATURES:
        values = [float(r[column]) for r in rows if r[column] != ""]
        stats[column] = (statistics.median(values), statistics.fmean(values), statistics.pstdev(values))
    return stats


def test_outputs_match_an_independent_computation(platform: Platform, run_job: Any) -> None:
    data = sample.generate_csv(600, seed=21, dirty_fraction=0.3)
    platform.put_input(data)
    assert run_job("values").code == 0
    table = pq.read_table(io.BytesIO(platform.get("processed/values/data.parquet"))).to_pylist()
    good, _ = _input_rows(data)
    expected = [r for r in good if not schema.validate_row(r)]
    assert [row["id"] for row in table] == [int(r["id"]) for r in expected]
    stats = _training_stats()
    for out, raw in zip(table, expected, strict=True):
        for column in schema.NUMERIC_FEATURES:
            median, mean, std = stats[column]
            value = float(raw[column]) if raw[column] != "" else median
            assert math.isclose(out[f"{column}_scaled"], (value - mean) / std, rel_tol=1e-9, abs_tol=1e-12)
        for category in sample.CATEGORIES:
            assert out[f"category_{category}"] == (1.0 if raw["category"] == category else 0.0)
        for region in sample.REGIONS:
            assert out[f"region_{region}"] == (1.0 if raw["region"] == region else 0.0)
        assert out["event_date"].isoformat() == raw["event_date"]
        assert out["description"] == raw["description"]
    # Unseen categories are in the output, encoded as all zeros, not rejected.
    unknown = [o for o in table if o["category"] in sample.UNKNOWN_CATEGORIES]
    assert unknown and all(sum(o[f"category_{c}"] for c in sample.CATEGORIES) == 0.0 for o in unknown)


def test_csv_output_equals_parquet_output(platform: Platform, run_job: Any) -> None:
    assert run_job("csv").code == 0
    parquet = pq.read_table(io.BytesIO(platform.get("processed/csv/data.parquet"))).to_pylist()
    rows = list(csv.DictReader(io.StringIO(platform.get("processed/csv/data.csv").decode("utf-8"))))
    assert len(rows) == len(parquet)
    for got, want in zip(rows, parquet, strict=True):
        assert int(got["id"]) == want["id"] and got["description"] == want["description"]
        assert math.isclose(float(got["amount_scaled"]), want["amount_scaled"], rel_tol=1e-12)


def test_dirty_rows_are_rejected_with_their_reasons(platform: Platform, run_job: Any) -> None:
    data = sample.generate_csv(800, seed=5, dirty_fraction=0.4)
    platform.put_input(data)
    assert run_job("dirty").code == 0
    rejected = list(csv.DictReader(io.StringIO(platform.get("rejected/dirty/rejected.csv").decode("utf-8"))))
    good, malformed = _input_rows(data)
    expected = [(r["id"], ";".join(schema.validate_row(r))) for r in good if schema.validate_row(r)]
    got = [(r["id"], r["reason"]) for r in rejected if r["reason"] != schema.MALFORMED_ROW]
    assert got == expected
    raw_lines = [r["raw_line"] for r in rejected if r["reason"] == schema.MALFORMED_ROW]
    assert raw_lines == [",".join(m) for m in malformed] and malformed
    manifest = platform.manifest("dirty")
    counts = Counter(code for _, reasons in expected for code in reasons.split(";"))
    counts[schema.MALFORMED_ROW] = len(malformed)
    assert {k: v for k, v in manifest["reject_reasons"].items() if v} == dict(counts)


def test_manifest_counts_add_up_and_describe_the_run(platform: Platform, run_job: Any) -> None:
    data = sample.generate_csv(5000, seed=9, dirty_fraction=0.2)
    platform.put_input(data)
    # A small block size forces many chunks, so the counting across chunks is exercised.
    assert run_job("counts", block_size=32 << 10).code == 0
    manifest = platform.manifest("counts")
    assert manifest["chunks"] > 5
    assert manifest["rows_read"] == len(list(csv.reader(io.StringIO(data.decode(), newline="")))) - 1
    assert manifest["rows_read"] == manifest["rows_written"] + manifest["rows_rejected"]
    parquet_rows = pq.read_metadata(io.BytesIO(platform.get("processed/counts/data.parquet"))).num_rows
    csv_rows = len(list(csv.DictReader(io.StringIO(platform.get("processed/counts/data.csv").decode("utf-8")))))
    rejected_rows = len(list(csv.DictReader(io.StringIO(platform.get("rejected/counts/rejected.csv").decode()))))
    assert parquet_rows == csv_rows == manifest["rows_written"]
    assert rejected_rows == manifest["rows_rejected"]
    head = platform.s3.head_object(Bucket="ds-input-dev-111111111111-us-east-1", Key=INPUT_KEY)
    assert manifest["input"]["etag"] == head["ETag"].strip('"') and manifest["input"]["size_bytes"] == len(data)
    assert manifest["model"]["version"] == "v1.0.0" and len(manifest["model"]["sha256"]) == 64
    assert [f["name"] for f in manifest["output_schema"]][:3] == ["id", "event_date", "amount"]
    assert {"config", "input", "model", "cleanup", "process", "total"} <= set(manifest["durations_s"])
    assert manifest["started_at"] <= manifest["finished_at"]


def test_rerun_replaces_outputs_and_is_idempotent(platform: Platform, run_job: Any) -> None:
    assert run_job("again").code == 0
    first = {k: platform.get(k) for k in ("processed/again/data.parquet", "processed/again/data.csv",
                                          "rejected/again/rejected.csv")}
    platform.s3.put_object(Bucket="ds-output-dev-111111111111-us-east-1", Key="processed/again/stale.txt", Body=b"x")
    assert run_job("again").code == 0
    assert {k: platform.get(k) for k in first} == first
    assert "processed/again/stale.txt" not in platform.list_keys()
    assert platform.manifest("again")["rows_read"] == 500


def test_input_key_override_from_the_execution(platform: Platform, run_job: Any) -> None:
    platform.put_input(sample.generate_csv(40, seed=2, dirty_fraction=0.0), key="raw/other.csv")
    result = run_job("override", input_key="raw/other.csv")
    assert result.code == 0
    manifest = platform.manifest("override")
    assert manifest["input"]["key"] == "raw/other.csv" and manifest["rows_read"] == 40


def test_crash_mid_run_leaves_no_manifest_and_no_partial_data(platform: Platform, run_job: Any,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_job("crash").code == 0
    from ds_preprocessing import process

    calls = {"n": 0}
    original = process.to_output

    def failing(valid: Any, pipeline: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise MemoryError("simulated crash")
        return original(valid, pipeline)

    monkeypatch.setattr(process, "to_output", failing)
    platform.put_input(sample.generate_csv(5000, seed=4))
    result = run_job("crash", block_size=32 << 10)
    assert result.code == 1 and "MemoryError" in result.last["message"]
    assert_nothing_committed(platform, "crash")


def test_log_lines_are_json_with_run_id_and_stage(run_job: Any) -> None:
    result = run_job("logs")
    assert result.code == 0
    assert all(e["run_id"] == "logs" and {"ts", "level", "stage", "message"} <= set(e) for e in result.events)
    assert result.last["message"] == "run committed" and result.last["rows_read"] == 500


def test_all_rows_rejected_still_commits_empty_outputs_with_the_model_schema(platform: Platform,
                                                                               run_job: Any) -> None:
    header = ",".join(schema.COLUMN_NAMES)
    platform.put_input(f"{header}\n,2026-01-01,1,1,home,north,x\n0,2026-01-01,1,1,home,north,y\n".encode())
    assert run_job("none").code == 0
    table = pq.read_table(io.BytesIO(platform.get("processed/none/data.parquet")))
    assert table.num_rows == 0 and table.column_names[:3] == ["id", "event_date", "amount"]
    assert "category_home" in table.column_names
    manifest = platform.manifest("none")
    assert (manifest["rows_read"], manifest["rows_written"], manifest["rows_rejected"]) == (2, 0, 2)
    as_csv = csv.reader(io.StringIO(platform.get("processed/none/data.csv").decode(), newline=""))
    assert [row[:3] for row in as_csv] == [["id", "event_date", "amount"]]  # the header and no record


def test_bom_reordered_and_extra_columns_are_accepted(platform: Platform, run_job: Any) -> None:
    data = (
        "\ufeffregion,extra,description,category,quantity,amount,event_date,id\n"
        'north,zzz,"a, ""b""",home,2,10.5,2026-05-06,42\n'
    ).encode("utf-8")
    platform.put_input(data)
    assert run_job("order").code == 0
    rows = pq.read_table(io.BytesIO(platform.get("processed/order/data.parquet"))).to_pylist()
    assert len(rows) == 1 and rows[0]["id"] == 42 and rows[0]["description"] == 'a, "b"'
    assert rows[0]["amount"] == 10.5 and rows[0]["quantity"] == 2 and "extra" not in rows[0]
