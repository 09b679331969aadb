"""Happy path: the pipeline, started as its schedule starts it, turns sample input into correct output."""

from __future__ import annotations

import pytest

from harness.checks import compare_features, expected_output
from harness.scenarios._s3 import read_csv, read_json, read_parquet


@pytest.mark.smoke
def test_pipeline_processes_sample_input(ds_run, ds_execution, ds_clients, ds_platform, trained_model, sample_input):
    """Sample input and a model in place, the pipeline run as scheduled; output values, manifest and logs checked."""
    run = ds_run()
    input_key = run.put_input(sample_input)
    model = run.use_model(trained_model)

    execution = ds_execution(run, input_key=input_key)

    assert execution.status == "SUCCEEDED", f"execution {execution.status}: {execution.error} {execution.cause[:800]}"
    bucket = ds_platform.output_bucket
    expected = expected_output(sample_input, model)
    manifest = read_json(ds_clients, bucket, f"processed/{run.id}/_manifest.json")
    assert (manifest["rows_read"], manifest["rows_written"], manifest["rows_rejected"]) == (
        expected.rows_read,
        expected.rows_written,
        expected.rejected,
    )
    frame = read_parquet(ds_clients, bucket, f"processed/{run.id}/data.parquet")
    assert compare_features(expected, frame) == []
    as_csv = read_csv(ds_clients, bucket, f"processed/{run.id}/data.csv")
    assert compare_features(expected, as_csv) == []
    rejected = read_csv(ds_clients, bucket, f"rejected/{run.id}/rejected.csv")
    assert len(rejected) == expected.rejected
    assert execution.logs, f"no task log lines in {ds_platform.log_group} for tasks {execution.task_arns}"
    assert any(run.id in line for line in execution.logs), "task logs do not mention the run id"
