"""Ingest scenarios: arriving files catalogued with checked counts, bad headers rejected without a run,
handler errors to the failure queue and the alert topic, and (with trigger on_arrival) runs started and
their outcomes written back."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from harness.scenarios.ingest.conftest import catalogue_item, executions_for, records_of

GOOD_HEADER = b"id,event_date,amount,quantity,category,region,description\n"


def test_a_file_under_raw_is_catalogued_with_the_right_counts(ingest, put_raw, ds_clients, ds_wait, sample_input):
    """A file put under raw/ appears in the catalogue within seconds, its counts checked independently."""
    data = sample_input + b'9001,2026-02-01,1.5,1,toys,west,"quoted\nline break"\n'
    _, key = put_raw(data, table=ingest.catalogue_table_name)
    started = time.monotonic()
    item = catalogue_item(ds_clients, ds_wait, ingest.catalogue_table_name, key, timeout=30)
    header, records = records_of(data)
    assert item["status"] == "accepted" and item["schema_ok"] is True and item["reason"] == ""
    assert (item["records"], item["columns"], item["size"]) == (records, header, len(data))
    assert time.monotonic() - started < 30


def test_a_bad_header_is_rejected_with_its_reason_and_starts_nothing(ingest, put_raw, ds_clients, ds_wait,
                                                                    ds_platform):
    """A file whose header lacks the job's columns is catalogued as rejected, naming them, and starts no run."""
    _, key = put_raw(b"id,when,amount\n1,2026-01-01,3\n", name="bad.csv", table=ingest.catalogue_table_name)
    item = catalogue_item(ds_clients, ds_wait, ingest.catalogue_table_name, key, timeout=30)
    assert (item["status"], item["schema_ok"]) == ("rejected", False)
    assert "event_date" in item["reason"] and "category" in item["reason"]
    assert "run_id" not in item
    assert executions_for(ds_clients, ds_platform.state_machine_arn, key) == []


def test_a_handler_error_goes_to_the_failure_queue_and_the_errors_alarm_notifies_the_topic(
        ingest, ds_run, ds_clients, ds_wait, ds_platform):
    """An event the handler cannot process fails; the failure reaches the on-failure queue, the Errors metric
    counts it, and the Errors alarm in ALARM notifies the alert topic."""
    run = ds_run("ingesterr")
    lam, sqs, cloudwatch = (ds_clients.client(s) for s in ("lambda", "sqs", "cloudwatch"))
    config = lam.get_function_event_invoke_config(FunctionName=ingest.function_name, Qualifier="live")
    # No retries for this one event (on AWS they wait 1 and 2 minutes); the deployed setting is put back.
    lam.put_function_event_invoke_config(FunctionName=ingest.function_name, Qualifier="live",
                                         MaximumRetryAttempts=0, DestinationConfig=config["DestinationConfig"])
    run.add_cleanup("ingest retries back to the deployed value", lambda: lam.put_function_event_invoke_config(
        FunctionName=ingest.function_name, Qualifier="live", MaximumRetryAttempts=config["MaximumRetryAttempts"],
        DestinationConfig=config["DestinationConfig"]))
    missing = f"raw/{run.id}/never-uploaded.csv"
    event = {"source": "aws.s3", "detail-type": "Object Created", "time": "2026-11-30T00:00:00Z",
             "detail": {"bucket": {"name": f"no-such-bucket-{run.id}"}, "object": {"key": missing, "etag": "x"}}}
    lam.invoke(FunctionName=ingest.function_alias_arn, InvocationType="Event", Payload=json.dumps(event).encode())

    def receive() -> list[dict[str, Any]]:
        got = sqs.receive_message(QueueUrl=ingest.failure_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=2)
        for message in got.get("Messages", []):
            sqs.delete_message(QueueUrl=ingest.failure_queue_url, ReceiptHandle=message["ReceiptHandle"])
        return [json.loads(m["Body"]) for m in got.get("Messages", [])]

    seen: list[dict[str, Any]] = []
    ds_wait.until(lambda: seen.extend(receive()) or seen,
                  lambda bodies: any(b.get("requestPayload", {}).get("detail", {}).get("object", {}).get("key")
                                     == missing for b in bodies),
                  what=f"the failed invocation in {ingest.failure_queue_url}", timeout=90, interval=0.5)
    failure = next(b for b in seen if b["requestPayload"]["detail"]["object"]["key"] == missing)
    assert failure["requestContext"]["condition"] == "RetriesExhausted"
    assert failure["responseContext"]["functionError"] == "Unhandled"

    queue = run.subscribe_queue(ds_platform.topic_arn)
    alarm = ingest.errors_alarm_name
    run.add_cleanup(f"alarm {alarm} back to OK",
                    lambda: cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason=f"{run.id} done"))
    described = cloudwatch.describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]
    assert ds_platform.topic_arn in described["AlarmActions"] and described["MetricName"] == "Errors"
    # Through OK first: only a change of state notifies, and the real Errors metric (this run's failure, or a
    # warm run's earlier ones still in the window) may already have put the alarm in ALARM before the queue
    # was subscribed; an ALARM set on an alarm in ALARM sends nothing.
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason=f"e2e {run.id} reset")
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason=f"e2e {run.id}")
    bodies: list[str] = []

    def notifications() -> list[str]:
        got = sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10, WaitTimeSeconds=2)
        bodies.extend(m["Body"] for m in got.get("Messages", []))
        return bodies

    ds_wait.until(notifications, lambda found: any(alarm in b and "ALARM" in b for b in found),
                  what=f"the ALARM notification of {alarm}", timeout=60, interval=0.2)


def _trigger(ds_clients: Any, ingest: Any) -> str:
    config = ds_clients.client("lambda").get_function_configuration(FunctionName=ingest.function_name)
    return str(config["Environment"]["Variables"].get("TRIGGER", "schedule"))


def test_on_arrival_an_accepted_file_runs_the_pipeline_and_its_outcome_is_written_back(
        ingest, ds_run, ds_clients, ds_wait, ds_platform, sample_input, trained_model):
    """With schedule.trigger on_arrival, an accepted file starts the pipeline and its item ends SUCCEEDED."""
    if _trigger(ds_clients, ingest) != "on_arrival":
        pytest.skip("this environment's schedule.trigger is 'schedule'; set it to on_arrival to run this scenario")
    run = ds_run("arrival")
    run.use_model(trained_model)  # before the file: its arrival starts the run at once
    key = run.put_input(sample_input, key=f"raw/{run.id}/input.csv")
    ddb = ds_clients.client("dynamodb")
    run.add_cleanup(f"catalogue item {key}", lambda: ddb.delete_item(
        TableName=ingest.catalogue_table_name, Key={"object_key": {"S": key}}))
    item = catalogue_item(ds_clients, ds_wait, ingest.catalogue_table_name, key,
                          done=lambda i: i.get("run_status") in ("SUCCEEDED", "FAILED"), timeout=300)
    assert item["run_status"] == "SUCCEEDED", item
    assert executions_for(ds_clients, ds_platform.state_machine_arn, key) != []


def test_on_arrival_a_job_failure_ends_failed_and_reaches_the_topic(ingest, ds_run, ds_clients, ds_wait,
                                                                     ds_platform, sample_input):
    """With on_arrival, an accepted file whose run fails (the job cannot load its model) ends FAILED on its
    item, and the failure reaches the alert topic."""
    if _trigger(ds_clients, ingest) != "on_arrival":
        pytest.skip("this environment's schedule.trigger is 'schedule'; set it to on_arrival to run this scenario")
    run = ds_run("arrivalfail")
    queue = run.subscribe_queue(ds_platform.topic_arn)
    s3, sqs, ddb = (ds_clients.client(s) for s in ("s3", "sqs", "dynamodb"))
    bucket, model_key = run.param("artifact-bucket"), run.param("model-key")
    undo = run._prepare_overwrite(bucket, model_key)  # the previous model comes back at cleanup
    version = s3.put_object(Bucket=bucket, Key=model_key, Body=b"not a model").get("VersionId")
    run.add_cleanup(f"model s3://{bucket}/{model_key}", lambda: undo(version))
    key = run.put_input(sample_input, key=f"raw/{run.id}/input.csv")
    run.add_cleanup(f"catalogue item {key}", lambda: ddb.delete_item(
        TableName=ingest.catalogue_table_name, Key={"object_key": {"S": key}}))
    item = catalogue_item(ds_clients, ds_wait, ingest.catalogue_table_name, key,
                          done=lambda i: i.get("run_status") in ("SUCCEEDED", "FAILED"), timeout=300)
    assert (item["status"], item["run_status"]) == ("accepted", "FAILED"), item
    seen: list[str] = []

    def receive() -> list[str]:
        got = sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10, WaitTimeSeconds=2)
        seen.extend(m["Body"] for m in got.get("Messages", []))
        return seen

    ds_wait.until(receive, lambda bodies: any(item["run_id"] in b for b in bodies),
                  what=f"the failure alert of run {item['run_id']}", timeout=90, interval=0.2)
