"""Sharded runs on the Distributed Map: an input bigger than the shard size runs as one ECS task per shard and
commits one manifest; a failing shard fails the run with no manifest; re-running a run id replaces its output.

The shard size comes from the execution input (``shard_size_bytes``), so the stock deployment shards the small
sample input into a few pieces; everything else (plan, map, tasks, commit) is the deployed state machine's.
Both runs start at session start (``_early.start_sharded``), so their tasks overlap the other scenarios.
"""

from __future__ import annotations

import pandas as pd

from harness.checks import compare_features, expected_output
from harness.execution import start_execution
from harness.scenarios._early import SHARDS
from harness.scenarios._s3 import read_json, read_parquet


def _output_keys(clients, bucket: str, run_id: str) -> list[str]:
    keys: list[str] = []
    for prefix in (f"processed/{run_id}/", f"rejected/{run_id}/"):
        pages = clients.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        keys += [item["Key"] for page in pages for item in page.get("Contents", [])]
    return sorted(keys)


def _map_run(clients, execution) -> dict:
    sfn = clients.client("stepfunctions")
    runs = sfn.list_map_runs(executionArn=execution.arn)["mapRuns"]
    assert len(runs) == 1, f"expected one map run, got {runs}"
    return sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"])


def test_sharded_run_commits_one_manifest_and_a_rerun_replaces_it(
    sharded_runs, ds_execution, ds_clients, ds_platform, sample_input
):
    """Sample input split into about three shards: the map runs a task per shard, the commit writes one manifest
    whose parts together equal the expected output; a shard that cannot parse its rows fails its run past
    ToleratedFailureCount 0 with no manifest; the same run id re-run whole replaces every part."""
    run, extra = sharded_runs.run, sharded_runs.extra
    bucket = ds_platform.output_bucket

    execution = ds_execution(run, arn=sharded_runs.arn)
    assert execution.status == "SUCCEEDED", f"execution {execution.status}: {execution.error} {execution.cause[:800]}"
    manifest = read_json(ds_clients, bucket, f"processed/{run.id}/_manifest.json")
    shards = manifest["shards"]["count"]
    assert shards >= SHARDS and manifest["status"] == "succeeded" and manifest["shards"]["failed"] == []
    assert _map_run(ds_clients, execution)["itemCounts"]["succeeded"] == shards
    expected = expected_output(sample_input, extra["model"])
    assert (manifest["rows_read"], manifest["rows_written"], manifest["rows_rejected"]) == (
        expected.rows_read, expected.rows_written, expected.rejected)
    assert len(manifest["outputs"]["parquet"]) == shards
    frame = pd.concat([read_parquet(ds_clients, bucket, key) for key in manifest["outputs"]["parquet"]],
                      ignore_index=True)
    assert compare_features(expected, frame) == []

    # The failing run: the map fails past ToleratedFailureCount (0), the alert path runs, nothing is committed.
    failed = ds_execution(run, arn=extra["bad_arn"])
    assert failed.status == "FAILED", f"expected FAILED, got {failed.status}"
    assert failed.error == "States.ExceedToleratedFailureThreshold", (failed.error, failed.event_types())
    assert "MapRunFailed" in failed.event_types() and "Commit" not in str(failed.history)
    assert _map_run(ds_clients, failed)["itemCounts"]["failed"] >= 1
    # Parts of shards that finished may be staged there; without the manifest no reader takes them as a run.
    keys = _output_keys(ds_clients, bucket, extra["bad_id"])
    assert f"processed/{extra['bad_id']}/_manifest.json" not in keys, keys

    # Re-run the same run id whole (default shard size): every earlier part goes, one complete output remains.
    rerun_arn, _ = start_execution(ds_platform, ds_clients, run.id, extra["input_key"], name=f"{run.id}-again")
    rerun = ds_execution(run, arn=rerun_arn)
    assert rerun.status == "SUCCEEDED", f"re-run {rerun.status}: {rerun.error} {rerun.cause[:800]}"
    replaced = read_json(ds_clients, bucket, f"processed/{run.id}/_manifest.json")
    assert replaced["outputs"]["parquet"] == f"processed/{run.id}/data.parquet" and "shards" not in replaced
    assert [key for key in _output_keys(ds_clients, bucket, run.id) if "/part-" in key or "/_parts/" in key] == []
    assert compare_features(expected, read_parquet(ds_clients, bucket, replaced["outputs"]["parquet"])) == []
