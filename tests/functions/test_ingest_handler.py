"""The ingest handlers against moto: catalogue items, rejection, idempotent redelivery, on_arrival runs, outcomes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote_plus

import boto3
import pytest
from ds_ingest import handler
from ds_ingest.handler import ConfigError, Settings, process_s3_record, process_status_event
from moto import mock_aws

REGION = "us-east-1"
BUCKET = "ds-dev-input"
TABLE = "ds-dev-catalogue"
GOOD = (
    "id,event_date,amount,quantity,category,region,description\n"
    '1,2026-01-15,9.5,1,toys,west,"two\nlines"\n'
    "2,2026-01-16,,3,books,,plain\n"
    "3,2026-01-17,1.25,,toys,east,\n"
)
BAD = "id,date,amount\n1,2026-01-15,9.5\n"
ITEM_FIELDS = {
    "object_key",
    "etag",
    "version_id",
    "size",
    "records",
    "columns",
    "schema_ok",
    "status",
    "reason",
    "received_at",
}


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    """moto S3 (versioned input bucket), the catalogue table and a state machine."""
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        ddb = boto3.resource("dynamodb", region_name=REGION)
        table = ddb.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "object_key", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "object_key", "KeyType": "HASH"}],
        )
        sfn = boto3.client("stepfunctions", region_name=REGION)
        arn = sfn.create_state_machine(
            name="ds-dev-pipeline",
            roleArn="arn:aws:iam::123456789012:role/sfn",
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        )["stateMachineArn"]
        yield {"s3": s3, "table": table, "sfn": sfn, "arn": arn}


def _settings(aws: dict[str, Any], trigger: str = "on_arrival") -> Settings:
    return Settings.from_env({"CATALOGUE_TABLE": TABLE, "TRIGGER": trigger, "PIPELINE_STATE_MACHINE_ARN": aws["arn"]})


def _put(aws: dict[str, Any], key: str, body: str | bytes) -> dict[str, Any]:
    """Put an object and return the S3 notification record S3 would send for it."""
    data = body.encode() if isinstance(body, str) else body
    put = aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=data)
    return {
        "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Put",
        "eventTime": "2026-11-30T10:00:00.000Z",
        "s3": {
            "bucket": {"name": BUCKET},
            "object": {
                "key": quote_plus(key),
                "size": len(data),
                "eTag": put["ETag"].strip('"'),
                "versionId": put.get("VersionId"),
            },
        },
    }


def _process(aws: dict[str, Any], record: dict[str, Any], trigger: str = "on_arrival") -> dict[str, Any]:
    return process_s3_record(record, _settings(aws, trigger), aws["s3"], aws["table"], aws["sfn"])


def _executions(aws: dict[str, Any]) -> list[dict[str, Any]]:
    sfn = aws["sfn"]
    listed = sfn.list_executions(stateMachineArn=aws["arn"])["executions"]
    return [json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"]) for e in listed]


def test_accepted_file_is_catalogued_with_independent_counts_and_starts_a_run(aws: dict[str, Any]) -> None:
    record = _put(aws, "raw/sales 2026.csv", GOOD)
    outcome = _process(aws, record)
    item = aws["table"].get_item(Key={"object_key": "raw/sales 2026.csv"})["Item"]
    assert set(item) == ITEM_FIELDS | {"run_id", "run_status"}
    rows = list(csv.reader(io.StringIO(GOOD, newline="")))
    assert item["records"] == len(rows) - 1 == 3
    assert item["columns"] == rows[0]
    assert item["size"] == len(GOOD.encode())
    assert (item["status"], item["schema_ok"], item["reason"]) == ("accepted", True, "")
    assert item["etag"] == record["s3"]["object"]["eTag"]
    assert item["version_id"] == record["s3"]["object"]["versionId"]
    assert item["received_at"] == "2026-11-30T10:00:00.000Z"
    assert item["run_status"] == "RUNNING" and item["run_id"] == outcome["run_id"]
    assert _executions(aws) == [{"run_id": outcome["run_id"], "input_key": "raw/sales 2026.csv"}]


def test_bad_header_is_rejected_with_its_reason_and_starts_nothing(aws: dict[str, Any]) -> None:
    _process(aws, _put(aws, "raw/bad.csv", BAD))
    item = aws["table"].get_item(Key={"object_key": "raw/bad.csv"})["Item"]
    assert set(item) == ITEM_FIELDS
    assert (item["status"], item["schema_ok"]) == ("rejected", False)
    assert "event_date" in item["reason"] and "quantity" in item["reason"]
    assert item["columns"] == ["id", "date", "amount"] and item["records"] == 1
    assert _executions(aws) == []


def test_unreadable_file_is_rejected(aws: dict[str, Any]) -> None:
    _process(aws, _put(aws, "raw/binary.csv", b"id,x\n\xff\xfe\x00garbage\n"))
    _process(aws, _put(aws, "raw/empty.csv", b""))
    binary = aws["table"].get_item(Key={"object_key": "raw/binary.csv"})["Item"]
    assert binary["status"] == "rejected" and binary["reason"].startswith("not UTF-8")
    empty = aws["table"].get_item(Key={"object_key": "raw/empty.csv"})["Item"]
    assert empty["status"] == "rejected" and empty["reason"].startswith("empty file")


def test_redelivered_event_updates_never_duplicates_and_keeps_its_run(aws: dict[str, Any]) -> None:
    record = _put(aws, "raw/a.csv", GOOD)
    first = _process(aws, record)
    handler.catalogue.set_run(aws["table"], "raw/a.csv", first["run_id"], "SUCCEEDED")
    again = _process(aws, record)
    assert again["outcome"] == "redelivered"
    assert len(_executions(aws)) == 1
    items = aws["table"].scan()["Items"]
    assert len(items) == 1 and items[0]["run_status"] == "SUCCEEDED"


def test_a_new_version_of_the_key_replaces_the_item_and_starts_a_new_run(aws: dict[str, Any]) -> None:
    first = _process(aws, _put(aws, "raw/a.csv", GOOD))
    second = _process(aws, _put(aws, "raw/a.csv", GOOD + "4,2026-01-18,2,2,toys,west,x\n"))
    assert second["run_id"] != first["run_id"]
    item = aws["table"].get_item(Key={"object_key": "raw/a.csv"})["Item"]
    assert item["records"] == 4 and item["run_id"] == second["run_id"]
    assert len(_executions(aws)) == 2


def test_stale_event_for_a_replaced_object_writes_nothing(aws: dict[str, Any]) -> None:
    aws["s3"].put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    record = _put(aws, "raw/a.csv", GOOD)
    record["s3"]["object"].pop("versionId", None)
    aws["s3"].put_object(Bucket=BUCKET, Key="raw/a.csv", Body=b"changed")
    assert _process(aws, record)["outcome"] == "stale"
    assert aws["table"].scan()["Items"] == []


def test_schedule_trigger_catalogues_but_starts_nothing(aws: dict[str, Any]) -> None:
    assert _process(aws, _put(aws, "raw/a.csv", GOOD), trigger="schedule")["outcome"] == "accepted"
    assert _executions(aws) == []


def test_keys_outside_the_input_prefix_are_ignored(aws: dict[str, Any]) -> None:
    assert _process(aws, _put(aws, "processed/a.csv", GOOD))["outcome"] == "ignored"
    assert aws["table"].scan()["Items"] == []


def _status_event(aws: dict[str, Any], run_id: str, key: str, status: str, arn: str | None = None) -> dict[str, Any]:
    return {
        "source": "aws.states",
        "detail-type": "Step Functions Execution Status Change",
        "detail": {
            "stateMachineArn": arn or aws["arn"],
            "name": run_id,
            "status": status,
            "input": json.dumps({"run_id": run_id, "input_key": key}),
        },
    }


def test_execution_outcome_is_written_back_and_never_steps_backwards(aws: dict[str, Any]) -> None:
    run_id = _process(aws, _put(aws, "raw/a.csv", GOOD))["run_id"]
    settings = _settings(aws)
    assert (
        process_status_event(_status_event(aws, run_id, "raw/a.csv", "FAILED"), settings, aws["table"])["outcome"]
        == "updated"
    )
    late = process_status_event(_status_event(aws, run_id, "raw/a.csv", "RUNNING"), settings, aws["table"])
    assert late["outcome"] == "skipped"
    item = aws["table"].get_item(Key={"object_key": "raw/a.csv"})["Item"]
    assert (item["run_id"], item["run_status"]) == (run_id, "FAILED")


def test_status_events_of_other_machines_or_without_input_key_are_ignored(aws: dict[str, Any]) -> None:
    _process(aws, _put(aws, "raw/a.csv", GOOD))
    settings = _settings(aws)
    other = _status_event(aws, "x", "raw/a.csv", "SUCCEEDED", arn="arn:aws:states:us-east-1:1:stateMachine:other")
    assert process_status_event(other, settings, aws["table"])["outcome"] == "ignored"
    no_key = _status_event(aws, "x", "", "SUCCEEDED")
    assert process_status_event(no_key, settings, aws["table"])["outcome"] == "ignored"
    unknown = _status_event(aws, "x", "raw/never-catalogued.csv", "SUCCEEDED")
    assert process_status_event(unknown, settings, aws["table"])["outcome"] == "skipped"


def test_entry_points_read_their_environment(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATALOGUE_TABLE", TABLE)
    monkeypatch.setenv("TRIGGER", "on_arrival")
    monkeypatch.setenv("PIPELINE_STATE_MACHINE_ARN", aws["arn"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    handler._aws.cache_clear()
    try:
        result = handler.on_object_created({"Records": [_put(aws, "raw/a.csv", GOOD)]}, None)
        assert [r["outcome"] for r in result["results"]] == ["accepted"]
        run_id = result["results"][0]["run_id"]
        status = handler.on_execution_status(_status_event(aws, run_id, "raw/a.csv", "SUCCEEDED"), None)
        assert status["outcome"] == "updated"
    finally:
        handler._aws.cache_clear()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TRIGGER": "schedule"}, "CATALOGUE_TABLE"),
        ({"CATALOGUE_TABLE": "t", "TRIGGER": "hourly"}, "TRIGGER='hourly'"),
        ({"CATALOGUE_TABLE": "t", "TRIGGER": "on_arrival"}, "PIPELINE_STATE_MACHINE_ARN"),
    ],
)
def test_bad_configuration_names_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_eventbridge_object_created_events_are_catalogued(aws: dict[str, Any]) -> None:
    put = aws["s3"].put_object(Bucket=BUCKET, Key="raw/from bridge.csv", Body=GOOD.encode())
    event = {
        "source": "aws.s3",
        "detail-type": "Object Created",
        "time": "2026-11-30T11:00:00Z",
        "detail": {
            "bucket": {"name": BUCKET},
            "object": {
                "key": "raw/from bridge.csv",
                "size": len(GOOD),
                "etag": put["ETag"].strip('"'),
                "version-id": put["VersionId"],
            },
        },
    }
    (arrival,) = handler.arrivals(event)
    assert arrival.key == "raw/from bridge.csv"  # not URL-decoded twice
    outcome = handler.process_arrival(arrival, _settings(aws, "schedule"), aws["s3"], aws["table"], aws["sfn"])
    assert outcome["outcome"] == "accepted"
    item = aws["table"].get_item(Key={"object_key": "raw/from bridge.csv"})["Item"]
    assert (item["records"], item["received_at"], item["version_id"]) == (3, "2026-11-30T11:00:00Z", put["VersionId"])
