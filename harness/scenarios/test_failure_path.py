"""Failure path: bad input fails the job, the execution fails with States.TaskFailed and the topic is told."""

from __future__ import annotations


def test_bad_input_fails_and_alerts(bad_input_run, ds_execution, ds_clients, ds_wait):
    """A CSV without a required column (queue on the alert topic and a model in place, started at session
    start): the job exits 3, the state fails with States.TaskFailed, SQS gets the alert."""
    run, queue = bad_input_run.run, bad_input_run.extra["queue"]

    execution = ds_execution(run, arn=bad_input_run.arn)

    assert execution.status == "FAILED", f"expected FAILED, got {execution.status}"
    assert "States.TaskFailed" in execution.failed_task_errors(), execution.event_types()
    assert 3 in execution.exit_codes(), f"exit codes in the failure cause: {execution.exit_codes()}"
    assert execution.logs and "3" in execution.logs[-1], f"last job log line: {execution.logs[-1:]}"
    sqs = ds_clients.client("sqs")
    seen: list[str] = []

    def receive() -> list[str]:
        got = sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10, WaitTimeSeconds=5)
        seen.extend(m["Body"] for m in got.get("Messages", []))
        return list(seen)

    def mentions_run(bodies: list[str]) -> bool:
        return any(run.id in body or execution.arn in body for body in bodies)

    ds_wait.until(receive, mentions_run, what=f"an alert about {run.id} in {queue.url}", timeout=90, interval=0.1)
