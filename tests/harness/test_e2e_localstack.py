"""The real thing on LocalStack: `invoke e2e` passes and reports, and its record gates promotion."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsplatform.deployer import ClientFactory
from dsplatform.deployer.assets import ensure_bucket
from dsplatform.synth import build_plan
from dsplatform.workflows.e2e import run_e2e
from dsplatform.workflows.promotion.promote import check_evidence
from dsplatform.workflows.scenarios import run_scenarios
from harness.api_calls import RECORD_ENV
from tests.deploy_role import RecordingFactories

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.localstack
def test_e2e_passes_reports_and_its_record_gates_promotion(localstack, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DSPLATFORM_LOCALSTACK_URL", localstack.endpoint_url)
    # `invoke e2e --keep` and the promotion's evidence check run with the deploy role: the workflow's own calls
    # (through a recording ClientFactory stand-in) and the scenarios' (saved by their pytest) are checked with it.
    scenario_calls = tmp_path / "scenario-calls.jsonl"
    monkeypatch.setenv(RECORD_ENV, str(scenario_calls))
    # `invoke bootstrap` creates the assets bucket on AWS, with administrator credentials, not the deploy role's;
    # on a fresh LocalStack the first deploy makes it, which is not the deploy role's to do.
    target = build_plan("dev", None, "localstack").target
    ensure_bucket(ClientFactory(target).client("s3"), target.account_id, target.region, target.assets_bucket or None)
    factories = RecordingFactories()
    monkeypatch.setattr("dsplatform.deployer.ClientFactory", factories)
    result = run_e2e("dev", "localstack", keep=True, reports_dir=tmp_path / "reports", stream=False)
    monkeypatch.delenv(RECORD_ENV)
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
        monkeypatch.setattr("dsplatform.deployer.ClientFactory", ClientFactory)  # the test's own faults: not checked
        factories.assert_allowed(build_plan("dev", None, "localstack").target.project, saved=scenario_calls)

        _broken_pipeline_is_caught(tmp_path)
    finally:
        from dsplatform.deployer import destroy

        plan = build_plan("dev", None, "localstack")
        if set(result.created_stacks) == {spec.name for spec in plan.stacks}:  # only what this test created
            assert destroy(plan, ClientFactory(plan.target), purge_data=True).ok


def _broken_pipeline_is_caught(tmp_path: Path) -> None:
    """Misconfigure the deployed pipeline (its output-bucket parameter points at the input bucket): the job
    still runs and succeeds, but the smoke scenario must fail, never pass."""
    from dsplatform.deployer import ClientFactory, read_deployed
    from harness.runs import delete_prefix

    plan = build_plan("dev", None, "localstack")
    clients = ClientFactory(plan.target)
    deployed = read_deployed(plan, clients)
    input_bucket = deployed["storage"].input_bucket_name
    ssm, name = clients.client("ssm"), deployed["parameters"].parameter_prefix + "output-bucket"
    good = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    ssm.put_parameter(Name=name, Value=input_bucket, Type="String", Overwrite=True)
    try:
        broken = run_scenarios(plan, None, tmp_path / "broken", markers="smoke", stream=False)
    finally:
        ssm.put_parameter(Name=name, Value=good, Type="String", Overwrite=True)
        for prefix in ("processed/", "rejected/"):
            delete_prefix(clients, input_bucket, prefix)
    assert not broken.ok
    assert broken.failed == ["harness/scenarios/test_happy_path.py::test_pipeline_processes_sample_input"]
