"""The real thing on LocalStack: `invoke e2e` passes and reports, and its record gates promotion."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsplatform.e2e import run_e2e
from dsplatform.promotion.promote import check_evidence

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.localstack
def test_e2e_passes_reports_and_its_record_gates_promotion(localstack, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DSPLATFORM_LOCALSTACK_URL", localstack.endpoint_url)
    result = run_e2e("dev", "localstack", keep=True, reports_dir=tmp_path / "reports", stream=False)
    try:
        assert result.ok, result.summary()
        assert (tmp_path / "reports" / "junit.xml").is_file()
        page = (tmp_path / "reports" / "e2e.html").read_text()
        assert "test_pipeline_processes_sample_input" in page and "ExecutionSucceeded" in page
        assert result.record_key.startswith("s3://ds-artifacts-dev-")

        assert check_evidence("dev", "stg", target="localstack").verdict.ok
        changed = tmp_path / "dsplatform.yml"
        text = (REPO / "dsplatform.yml").read_text()
        changed.write_text(text.replace("      alerts: {emails: [ds-alerts-stg@example.com]}",
                                        "      alerts: {emails: [ds-alerts-stg@example.com]}\n"
                                        "      alarms: {failed_threshold: 7}"))
        verdict = check_evidence("dev", "stg", config_path=str(changed), target="localstack").verdict
        assert not verdict.ok
        assert any("ds-stg-monitoring template changed" in p for p in verdict.problems), verdict.problems
    finally:
        from dsplatform.deployer import ClientFactory, destroy
        from dsplatform.synth import build_plan

        plan = build_plan("dev", None, "localstack")
        if set(result.created_stacks) == {spec.name for spec in plan.stacks}:  # only what this test created
            assert destroy(plan, ClientFactory(plan.target), purge_data=True).ok
