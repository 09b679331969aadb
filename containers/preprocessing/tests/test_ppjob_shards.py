"""Shard planning: ranges start on record boundaries (quoted newlines, CRLF, BOM), and the shards of a run
together give exactly the single-task run's rows, rejects and counts."""

from __future__ import annotations

import io
import itertools
import json
import random
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ds_preprocessing import reader, sample, sharded, shards
from ds_preprocessing.errors import ConfigurationError
from ppjob_support import OUTPUT_BUCKET, Platform, assert_nothing_committed

HEADER = b"id,event_date,amount,quantity,category,region,description"


def _rows(data: bytes) -> list[dict[str, Any]]:
    """Every record the job's reader sees in ``data`` (rows and malformed text), in order."""
    out: list[dict[str, Any]] = []
    for chunk in reader.iter_chunks(io.BytesIO(data), "test", block_size=64):
        out += chunk.batch.to_pylist()
        out += [{"malformed": m} for m in chunk.malformed + chunk.oversized]
    return out


def _shard_rows(data: bytes, columns: list[str], start: int, end: int) -> list[dict[str, Any]]:
    """The records a shard reads: its byte range with the header the plan gave it."""
    peeked = reader.Peeked(source=io.BytesIO(data[start:end]), header=columns, prefix=b"\n")
    out: list[dict[str, Any]] = []
    for chunk in reader.iter_chunks(peeked, "test", block_size=64):
        out += chunk.batch.to_pylist()
        out += [{"malformed": m} for m in chunk.malformed + chunk.oversized]
    return out


def _plan(data: bytes, size: int) -> tuple[list[str], list[tuple[int, int]]]:
    return shards.plan_ranges(io.BytesIO(data), len(data), size, "test")


def _assert_shards_equal_whole(data: bytes, size: int) -> list[tuple[int, int]]:
    columns, ranges = _plan(data, size)
    assert ranges[-1][1] == len(data) and all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
    together = [row for start, end in ranges for row in _shard_rows(data, columns, start, end)]
    assert together == _rows(data)
    return ranges


def _line(n: int, description: str) -> bytes:
    return f"{n},2026-01-0{n % 9 + 1},1.50,2,home,west,{description}".encode()


def test_a_quoted_value_with_newlines_across_the_cut_stays_in_one_shard() -> None:
    quoted = '"line one\nline two, still ""one"" value\nline three"'
    data = HEADER + b"\n" + b"\n".join(_line(i, quoted if i == 2 else "plain") for i in range(1, 6)) + b"\n"
    cut_inside = data.index(b"line two") - len(HEADER) - 1  # a naive cut at this size lands inside the quotes
    ranges = _assert_shards_equal_whole(data, cut_inside)
    assert len(ranges) >= 2
    starts = {start for start, _ in ranges}
    assert not any(data.index(b'"line one') < s < data.index(b'three"') for s in starts)
    assert any(row.get("description", "").startswith("line one\n") for row in _rows(data))


def test_crlf_records_and_a_bom_split_without_loss() -> None:
    data = b"\xef\xbb\xbf" + HEADER + b"\r\n" + b"\r\n".join(
        _line(i, '"a\r\nb"' if i % 3 == 0 else "x") for i in range(1, 30)) + b"\r\n"
    columns, ranges = _plan(data, 40)
    assert columns[0] == "id" and ranges[0][0] == 3 + len(HEADER) + 2
    assert len(ranges) > 5
    _assert_shards_equal_whole(data, 40)


def test_every_shard_is_at_least_the_shard_size_except_the_last() -> None:
    data = HEADER + b"\n" + b"\n".join(_line(i, "desc") for i in range(200)) + b"\n"
    ranges = _assert_shards_equal_whole(data, 500)
    assert all(end - start >= 500 for start, end in ranges[:-1])
    assert len(ranges) == pytest.approx((len(data) - len(HEADER) - 1) / 500, abs=2)


@pytest.mark.parametrize("tail", [b"", b"7,2026-01-01,1,1,home,west,no newline at the end",
                                  b'8,2026-01-01,1,1,home,west,"quote never closed\nand more\n'])
def test_the_last_record_belongs_to_the_last_shard(tail: bytes) -> None:
    data = HEADER + b"\n" + b"\n".join(_line(i, "desc") for i in range(20)) + b"\n" + tail
    _assert_shards_equal_whole(data, 100)


def test_the_plan_reads_no_further_than_it_needs() -> None:
    data = HEADER + b"\n" + b"\n".join(_line(i, "desc") for i in range(20_000)) + b"\n"
    whole = io.BytesIO(data)
    assert shards.plan_ranges(whole, len(data), len(data), "test")[1] == [(len(HEADER) + 1, len(data))]
    assert whole.tell() < 100_000 < len(data)  # one shard: the header's first read only
    halves = io.BytesIO(data)
    assert len(shards.plan_ranges(halves, len(data), len(data) // 3, "test")[1]) == 3
    assert halves.tell() < len(data) * 0.75  # nothing past the last cut
    _assert_shards_equal_whole(data, len(data) // 3)


def test_a_header_only_input_is_one_empty_shard() -> None:
    assert _plan(HEADER, 10) == (HEADER.decode().split(","), [(len(HEADER), len(HEADER))])
    assert _plan(HEADER + b"\n", 10)[1] == [(len(HEADER) + 1, len(HEADER) + 1)]


@pytest.mark.parametrize("seed", range(12))
def test_property_shards_together_read_exactly_what_one_pass_reads(seed: int) -> None:
    rng = random.Random(seed)
    pieces = ["plain", '"a, b"', '"x\ny"', '"he said ""hi"""', '"\r\n"', "", 'odd"quote', '"unbalanced" tail']
    lines = [_line(i, rng.choice(pieces)) for i in range(rng.randint(1, 60))]
    if rng.random() < 0.3:
        lines.append(b"9,2026-01-01,1,1,home,west,too,many")
    newline = rng.choice([b"\n", b"\r\n"])
    data = HEADER + newline + newline.join(lines) + (newline if rng.random() < 0.8 else b"")
    _assert_shards_equal_whole(data, rng.randint(1, 400))


def test_a_bad_shard_size_or_item_is_refused_with_the_field_named() -> None:
    with pytest.raises(ConfigurationError, match="DS_SHARD_SIZE_BYTES '0k' is invalid"):
        sharded.shard_size({"DS_SHARD_SIZE_BYTES": "0k"})
    with pytest.raises(ConfigurationError, match="shard 0 range 5-2"):
        shards.Shard.from_item({"index": 0, "bucket": "b", "key": "k", "start": 5, "end": 2, "columns": [],
                                "etag": "e", "size": 9})
    with pytest.raises(ConfigurationError, match="DS_MODE 'plan' is invalid"):
        sharded.resolve_mode({"DS_MODE": "plan"})


# --- the sharded flow against moto: plan -> shards -> commit, compared with the single-task run ---


def _sharded_run(run_job: Any, platform: Platform, run_id: str, size: int, skip: frozenset[int] = frozenset(),
                 input_key: str = "") -> list[dict[str, Any]]:
    assert run_job(run_id, input_key=input_key, extra={"DS_MODE": "auto",
                                                       "DS_SHARD_SIZE_BYTES": str(size)}).code == 0
    items: list[dict[str, Any]] = json.loads(platform.get(sharded.plan_key(run_id)))
    for item in items:
        if item["index"] not in skip:
            assert run_job(run_id, extra={"DS_MODE": "shard", "DS_SHARD_INDEX": str(item["index"])}).code == 0
    assert run_job(run_id, extra={"DS_MODE": "commit"}).code == 0
    return items


def _concat(platform: Platform, keys: list[str]) -> pa.Table:
    return pa.concat_tables([pq.read_table(io.BytesIO(platform.get(k))) for k in keys])


def _csv_body(data: bytes) -> bytes:
    return data.split(b"\n", 1)[1]


def _multiline_input(newline: bytes) -> bytes:
    """Sample rows with, every 37 rows, a record whose quoted description spans lines, all with ``newline``."""
    lines = sample.generate_csv(400, seed=11, dirty_fraction=0.3).split(b"\n")
    for at in range(len(lines) - 1, 1, -37):
        lines.insert(at, b'77%d,2026-01-05,1.50,2,home,west,"multi\nline, ""quoted""\nend"' % at)
    return newline.join(lines)


@pytest.mark.parametrize(("newline", "parts"), [(b"\n", 5), (b"\r\n", 2), (b"\n", 13)])
def test_sharded_outputs_equal_the_single_run_output(platform: Platform, run_job: Any, newline: bytes,
                                                     parts: int) -> None:
    data = _multiline_input(newline)
    platform.put_input(data)
    assert run_job("whole").code == 0
    items = _sharded_run(run_job, platform, "split", size=len(data) // parts)
    assert len(items) >= parts - 1
    assert any(row.get("description", "").startswith("multi\nline") for row in _rows(data))
    whole, split = platform.manifest("whole"), platform.manifest("split")
    assert split["status"] == "succeeded" and split["shards"] == {"count": len(items), "succeeded": len(items),
                                                                   "failed": []}
    for name in ("rows_read", "rows_written", "rows_rejected", "rows_valid", "reject_reasons", "output_schema"):
        assert split[name] == whole[name], name
    outputs = split["outputs"]
    assert _concat(platform, outputs["parquet"]).equals(pq.read_table(io.BytesIO(platform.get(
        whole["outputs"]["parquet"]))))
    assert b"".join(_csv_body(platform.get(k)) for k in outputs["csv"]) == _csv_body(platform.get(
        whole["outputs"]["csv"]))
    # Within a chunk the reader puts malformed records after the rows that failed validation, so reject order
    # follows chunking even in one task; the set of rejected records is what must not change.
    assert sorted(b"".join(_csv_body(platform.get(k)) for k in outputs["rejected"]).splitlines()) == sorted(
        _csv_body(platform.get(whole["outputs"]["rejected"])).splitlines())


def test_a_missing_shard_makes_a_partial_manifest_and_a_rerun_replaces_it(platform: Platform, run_job: Any) -> None:
    data = sample.generate_csv(200, seed=3, dirty_fraction=0.1)
    platform.put_input(data)
    items = _sharded_run(run_job, platform, "r", size=len(data) // 4, skip=frozenset({1}))
    partial = platform.manifest("r")
    assert partial["status"] == "partial" and partial["shards"]["failed"] == [1]
    assert len(partial["outputs"]["parquet"]) == len(items) - 1
    # Re-run the same id with a bigger shard size: every earlier part goes, the new run is complete.
    rerun = _sharded_run(run_job, platform, "r", size=len(data) // 2)
    manifest = platform.manifest("r")
    assert manifest["status"] == "succeeded" and manifest["rows_read"] == 200
    keys = [k for k in platform.list_keys(OUTPUT_BUCKET) if k.startswith("processed/r/part-")]
    assert len(keys) == 2 * len(rerun) < 2 * len(items)


def test_a_small_input_runs_whole_in_the_first_task(platform: Platform, run_job: Any) -> None:
    assert run_job("small", extra={"DS_MODE": "auto", "DS_SHARD_SIZE_BYTES": str(10 << 20)}).code == 0
    assert json.loads(platform.get(sharded.plan_key("small"))) == []
    assert platform.manifest("small")["outputs"]["parquet"] == "processed/small/data.parquet"
    before = platform.get("processed/small/_manifest.json")
    assert run_job("small", extra={"DS_MODE": "commit"}).code == 0  # a stray commit leaves the run as it is
    assert platform.get("processed/small/_manifest.json") == before


def test_a_prefix_of_monthly_files_is_one_shard_per_file_and_one_manifest(platform: Platform, run_job: Any) -> None:
    for n in range(3):
        platform.put_input(sample.generate_csv(50, seed=n), key=f"raw/2026-11/part{n}.csv")
    items = _sharded_run(run_job, platform, "month", size=10 << 20, input_key="raw/2026-11/")
    assert [i["key"] for i in items] == [f"raw/2026-11/part{n}.csv" for n in range(3)]
    manifest = platform.manifest("month")
    assert manifest["rows_read"] == 150 and len(manifest["input"]["objects"]) == 3


def test_a_failed_whole_run_in_auto_mode_leaves_nothing(platform: Platform, run_job: Any) -> None:
    platform.put_input(sample.generate_csv(50, seed=1) + b"9,2026-01-01,1,1,home,west,caf\xe9\n")
    assert run_job("broken", extra={"DS_MODE": "auto", "DS_SHARD_SIZE_BYTES": str(10 << 20)}).code == 3
    assert_nothing_committed(platform, "broken")


def test_a_shard_index_outside_the_plan_is_refused_with_the_field_named(platform: Platform, run_job: Any) -> None:
    data = sample.generate_csv(100, seed=2)
    platform.put_input(data)
    assert run_job("idx", extra={"DS_MODE": "auto", "DS_SHARD_SIZE_BYTES": str(len(data) // 2)}).code == 0
    for index, reason in (("x", "DS_SHARD_INDEX 'x' is invalid"), ("7", "DS_SHARD_INDEX 7 is not in the plan")):
        result = run_job("idx", extra={"DS_MODE": "shard", "DS_SHARD_INDEX": index})
        assert result.code == 2 and reason in result.last["message"], result.last
    assert run_job("nope", extra={"DS_MODE": "shard", "DS_SHARD_INDEX": "0"}).code == 2  # no plan at all
    assert [k for k in platform.list_keys(OUTPUT_BUCKET) if "/part-" in k] == []


def test_commit_without_a_plan_fails_and_writes_nothing(platform: Platform, run_job: Any) -> None:
    result = run_job("none", extra={"DS_MODE": "commit"})
    assert result.code == 2 and "has no plan" in result.last["message"]
    assert [k for k in platform.list_keys(OUTPUT_BUCKET) if k.startswith("processed/none/")] == []
