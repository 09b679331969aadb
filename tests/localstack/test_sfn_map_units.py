"""Pure parts of the extension's Distributed Map fixes: the threshold rule, result files, the paged listing.

The modules import LocalStack only inside functions, so they load in the project's venv too.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "localstack" / "extension"))

from dsplatform_localstack.sfn_map_parse import decimal_percentages
from dsplatform_localstack.sfn_map_reader import all_contents
from dsplatform_localstack.sfn_map_results import ItemResult, export, result_files
from dsplatform_localstack.sfn_map_run import exceeds

SM = "arn:aws:states:us-east-1:123456789012:stateMachine:pipe/Shards"
RUN = "arn:aws:states:us-east-1:123456789012:mapRun:pipe/Shards:abc-123"


@pytest.mark.parametrize(
    ("failed", "total", "count", "pct", "count_set", "pct_set", "expected"),
    [
        (0, 4, 0, 0.0, False, False, False),
        (1, 4, 0, 0.0, False, False, True),  # neither given: tolerate none
        (1, 4, 1, 0.0, True, False, False),
        (2, 4, 1, 0.0, True, False, True),
        (1, 4, 0, 25.0, False, True, False),  # only a percentage: the default count of 0 does not apply
        (2, 4, 0, 25.0, False, True, True),
        (1, 4, 0, 50.0, True, True, True),  # both: either one fails the run
        (4, 4, 0, 100.0, False, True, False),
        (0, 0, 0, 0.0, False, True, False),
    ],
)
def test_threshold_rule(
    failed: int, total: int, count: int, pct: float, count_set: bool, pct_set: bool, expected: bool
) -> None:
    assert exceeds(failed, total, count, pct, count_set=count_set, percentage_set=pct_set) is expected


def test_result_files_group_by_outcome_and_skip_empty_ones() -> None:
    at = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    results = [
        ItemResult(index=2, status="SUCCEEDED", input={"n": 2}, name="c", output={"ok": 2}, start=at, stop=at),
        ItemResult(index=0, status="SUCCEEDED", input={"n": 0}, name="a", output={"ok": 0}, start=at, stop=at),
        ItemResult(index=1, status="TIMED_OUT", input={"n": 1}, name="b", error="States.Timeout", start=at, stop=at),
    ]
    files = result_files(results, SM, "out/abc-123/")
    assert files["PENDING"] is None
    key, body = files["SUCCEEDED"]  # type: ignore[misc]
    assert key == "out/abc-123/SUCCEEDED_0.json"
    succeeded = json.loads(body)
    assert [json.loads(e["Output"]) for e in succeeded] == [{"ok": 0}, {"ok": 2}]
    assert succeeded[0]["ExecutionArn"] == "arn:aws:states:us-east-1:123456789012:execution:pipe/Shards:a"
    assert succeeded[0]["StartDate"] == "2026-11-30T10:00:00.000Z"
    failed = json.loads(files["FAILED"][1])  # type: ignore[index]
    assert [(f["Status"], f["Error"], "Output" in f) for f in failed] == [("TIMED_OUT", "States.Timeout", False)]


class _FakeS3:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put_object(self, Bucket: str, Key: str, Body: bytes, **_: Any) -> None:
        self.objects[Key] = Body


def test_export_writes_the_manifest_last_naming_each_file_and_its_size() -> None:
    s3 = _FakeS3()
    results = [ItemResult(index=0, status="PENDING", input={"n": 0})]
    out = export(s3, "bucket", "runs/r1", RUN, SM, results)
    assert out == {
        "MapRunArn": RUN,
        "ResultWriterDetails": {"Bucket": "bucket", "Key": "runs/r1/abc-123/manifest.json"},
    }
    assert list(s3.objects)[-1] == "runs/r1/abc-123/manifest.json"
    manifest = json.loads(s3.objects["runs/r1/abc-123/manifest.json"])
    pending_key = "runs/r1/abc-123/PENDING_0.json"
    assert manifest["ResultFiles"] == {
        "FAILED": [],
        "PENDING": [{"Key": pending_key, "Size": len(s3.objects[pending_key])}],
        "SUCCEEDED": [],
    }
    assert json.loads(s3.objects[pending_key]) == [
        {"Input": '{"n": 0}', "InputDetails": {"Included": True}, "Status": "PENDING"}
    ]


def test_all_contents_joins_pages_and_tolerates_empty_ones() -> None:
    pages = [{"Contents": [{"Key": "a"}, {"Key": "b"}]}, {"KeyCount": 0}, {"Contents": [{"Key": "c"}]}]
    assert [o["Key"] for o in all_contents(pages)] == ["a", "b", "c"]
    assert all_contents([{"KeyCount": 0}]) == []


def test_integer_percentages_become_decimals_for_the_parser() -> None:
    definition = json.dumps({"States": {"M": {"Type": "Map", "ToleratedFailurePercentage": 25, "MaxConcurrency": 2}}})
    rewritten = json.loads(decimal_percentages(definition))
    assert rewritten["States"]["M"]["ToleratedFailurePercentage"] == 25.0
    assert '"ToleratedFailurePercentage": 25.0' in decimal_percentages(definition)
    assert rewritten["States"]["M"]["MaxConcurrency"] == 2
    untouched = json.dumps({"States": {"M": {"ToleratedFailurePercentage": 12.5}}})
    assert decimal_percentages(untouched) == untouched
    assert decimal_percentages("{not json ToleratedFailurePercentage") == "{not json ToleratedFailurePercentage"
