"""Each failure class ends the job with its exit code and a one-line reason as the last log line."""

from __future__ import annotations

from typing import Any

import pytest
from ppjob_support import ARTIFACT_BUCKET, MODEL_KEY, PREFIX, Platform, assert_nothing_committed


def _assert_failed(result: Any, code: int, *fragments: str, platform: Platform | None = None) -> None:
    """Exit code, a one-line reason naming the fragments, and (given the platform) nothing committed."""
    if platform is not None:
        assert_nothing_committed(platform, result.run_id)
    assert result.code == code
    last = result.last
    assert last["level"] == "error" and last["exit_code"] == code
    assert "\n" not in last["message"]
    for fragment in fragments:
        assert fragment in last["message"]


@pytest.mark.parametrize("name", ["input-bucket", "model-key"])
def test_missing_required_parameter_exits_2_naming_it(platform: Platform, run_job: Any, name: str) -> None:
    platform.ssm.delete_parameter(Name=PREFIX + name)
    _assert_failed(run_job(), 2, PREFIX + name, platform=platform)


def test_invalid_run_id_exits_2(platform: Platform, run_job: Any) -> None:
    _assert_failed(run_job("bad/run id"), 2, "DS_RUN_ID", "bad/run id", platform=platform)


def test_missing_output_bucket_exits_2(platform: Platform, run_job: Any) -> None:
    platform.put_param("output-bucket", "ds-output-does-not-exist")
    _assert_failed(run_job(), 2, "ds-output-does-not-exist", platform=platform)


def test_missing_input_exits_3(platform: Platform, run_job: Any) -> None:
    _assert_failed(run_job(input_key="raw/nope.csv"), 3, "raw/nope.csv", "does not exist", platform=platform)


def test_input_without_required_columns_exits_3(platform: Platform, run_job: Any) -> None:
    platform.put_input(b"id,value,category\n1,100,A\n2,200,B\n")
    _assert_failed(run_job(), 3, "lacks required column(s) event_date, amount", platform=platform)


def test_empty_input_exits_3(platform: Platform, run_job: Any) -> None:
    platform.put_input(b"")
    _assert_failed(run_job(), 3, "is empty", platform=platform)


def test_tampered_model_exits_4_and_writes_nothing(platform: Platform, run_job: Any) -> None:
    data = platform.get(MODEL_KEY, bucket=ARTIFACT_BUCKET)
    meta = platform.s3.head_object(Bucket=ARTIFACT_BUCKET, Key=MODEL_KEY)["Metadata"]
    tampered = data.replace(b"StandardScaler", b"StandardScalar", 1)
    assert tampered != data
    platform.s3.put_object(Bucket=ARTIFACT_BUCKET, Key=MODEL_KEY, Body=tampered, Metadata=meta)
    _assert_failed(run_job(), 4, "failed its checksum", MODEL_KEY, platform=platform)


def test_missing_model_exits_4(platform: Platform, run_job: Any) -> None:
    platform.s3.delete_object(Bucket=ARTIFACT_BUCKET, Key=MODEL_KEY)
    _assert_failed(run_job(), 4, "does not exist", "invoke model.train", platform=platform)


def test_checksummed_non_pipeline_model_exits_4(platform: Platform, run_job: Any) -> None:
    from ds_preprocessing import artifacts

    artifacts.upload_artifact(platform.s3, ARTIFACT_BUCKET, MODEL_KEY, b"dummy model content")
    _assert_failed(run_job(), 4, "could not be loaded", platform=platform)


def test_bad_input_on_rerun_keeps_the_previous_run_committed(platform: Platform, run_job: Any) -> None:
    assert run_job("r").code == 0
    platform.put_input(b"id,value\n1,2\n")
    _assert_failed(run_job("r"), 3)
    # Input errors are found before cleanup, so the committed previous run stays intact and readable.
    assert platform.manifest("r")["rows_read"] == 500


def test_module_entrypoint_exits_with_the_job_code(platform: Platform, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    import json
    import runpy

    monkeypatch.setenv("DS_SSM_PREFIX", "/ds/elsewhere/")
    monkeypatch.setenv("DS_RUN_ID", "entry")
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_module("ds_preprocessing", run_name="__main__")
    assert exit_info.value.code == 2
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert last["exit_code"] == 2 and "/ds/elsewhere/input-bucket" in last["message"]


def test_missing_run_id_is_generated_with_a_warning(platform: Platform, run_job: Any) -> None:
    result = run_job(run_id="")
    assert result.code == 0
    run_id = result.last["run_id"]
    assert run_id.startswith("manual-")
    assert any(e["level"] == "warning" and "DS_RUN_ID" in e["message"] for e in result.events)
    assert platform.manifest(run_id)["rows_read"] == 500


def test_no_region_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import json

    from ds_preprocessing import job
    from ds_preprocessing.logs import JsonLogger

    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    stream = io.StringIO()
    assert job.run({"DS_RUN_ID": "x"}, logger=JsonLogger(stream=stream)) == 2
    assert "AWS_REGION" in json.loads(stream.getvalue().splitlines()[-1])["message"]


def test_input_replaced_during_the_run_exits_3(platform: Platform, run_job: Any,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from ds_preprocessing import process, s3io, sample

    # Large against 16 KiB blocks and ranges: pyarrow's bounded read-ahead cannot have fetched it all by the
    # time the first chunk reaches the model, so the replacement is seen by a later ranged GET.
    platform.put_input(sample.generate_csv(30_000, seed=8))
    monkeypatch.setattr(s3io, "DEFAULT_RANGE_SIZE", 16 << 10)
    original = process.to_output

    def replace_input_then_continue(valid: Any, pipeline: Any) -> Any:
        platform.put_input(sample.generate_csv(10, seed=9))  # a new object: the pinned ETag no longer matches
        return original(valid, pipeline)

    monkeypatch.setattr(process, "to_output", replace_input_then_continue)
    result = run_job("moved", block_size=16 << 10)
    _assert_failed(result, 3, "changed or vanished during the run", platform=platform)
