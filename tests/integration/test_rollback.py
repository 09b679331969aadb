"""Releases and rollback on a real LocalStack: release 1 passes, release 2 (changed image and template) fails its
smoke scenario, `rollback` brings back release 1's digests and templates and the smoke scenario passes again; a
release whose image was deleted is refused up front. Every AWS call the deploys, the rollback and the destroy make
in this process is checked against the bootstrap's deploy role policy (the role CI runs them with on AWS)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from dsplatform.deployer import ClientFactory, destroy
from dsplatform.deployer.assets import ensure_bucket
from dsplatform.lifecycle import deployment
from dsplatform.localstack import LocalStackSettings, register_image_sources
from dsplatform.native import ALIAS
from dsplatform.releases import add_event, list_releases, release_bucket
from dsplatform.synth import build_plan
from dsplatform.workflows.rollback import RollbackRefused, rollback
from dsplatform.workflows.scenarios import run_scenarios
from harness.api_calls import RECORD_ENV
from tests.deploy_role import assert_deploy_role_allows, recording_clients
from tests.integration.conftest import unique_env

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.localstack


def _project(tmp_path: Path, localstack: Any, env: str, account: str, threshold: int) -> str:
    base = yaml.safe_load((REPO / "dsplatform.yml").read_text())
    doc = {"project": {"name": "rb"}, "localstack": {"endpoint_url": localstack.endpoint_url},
           "defaults": base["defaults"],
           "environments": {env: {"account_id": account, "target": "localstack",
                                  "settings": {"alarms": {"failed_threshold": threshold}}}}}
    path = tmp_path / "dsplatform.yml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def _release(config: str, env: str, clients: Any, reports: Path) -> Any:
    """Deploy (keep) and smoke-test as `invoke e2e` does; return the recorded release and whether smoke passed."""
    plan = build_plan(env, config)
    # The session's LocalStack belongs to this repo's root: register the copy's folder without starting anything.
    port = int(plan.target.endpoint_url.rsplit(":", 1)[1])
    register_image_sources(LocalStackSettings(port=port, project_root=REPO), {
        image.repository: image.source for image in plan.images})
    with deployment(plan, clients, keep=True) as dep:
        smoke = run_scenarios(plan, config, reports, markers="smoke", stream=False)
        add_event(clients, dep.release_bucket, dep.release, "smoke-passed" if smoke.ok else "smoke-failed")
    return dep.release, smoke.ok


def test_rollback_returns_to_the_last_release_that_passed(localstack: Any, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DSPLATFORM_LOCALSTACK_URL", localstack.endpoint_url)
    scenario_calls = tmp_path / "scenario-calls.jsonl"  # the smoke scenarios' own calls (a pytest subprocess)
    monkeypatch.setenv(RECORD_ENV, str(scenario_calls))
    env, account = unique_env()
    shutil.copytree(REPO / "containers" / "preprocessing", tmp_path / "containers" / "preprocessing",
                    ignore=shutil.ignore_patterns("tests", "__pycache__", "*.egg-info"))
    shutil.copytree(REPO / "functions" / "ingest", tmp_path / "functions" / "ingest",
                    ignore=shutil.ignore_patterns("__pycache__"))
    config = _project(tmp_path, localstack, env, account, threshold=1)
    plan = build_plan(env, config)
    clients, recorder = recording_clients(plan.target)
    probe = ClientFactory(plan.target)  # the test's own reads and faults: not the workflows' calls
    # `invoke bootstrap` creates the assets bucket on AWS, with administrator credentials, not the deploy role's.
    ensure_bucket(probe.client("s3"), plan.target.account_id, plan.target.region, plan.target.assets_bucket)
    try:
        first, ok = _release(config, env, clients, tmp_path / "r1")
        assert ok, "release 1 must pass its smoke scenario"

        # Release 2: a job that fails at once (a changed image) and a changed alarm threshold (a template change).
        main = tmp_path / "containers" / "preprocessing" / "ds_preprocessing" / "__main__.py"
        main.write_text("raise SystemExit(9)\n" + main.read_text())
        handler = tmp_path / "functions" / "ingest" / "ds_ingest" / "handler.py"
        handler.write_text(handler.read_text() + "\n# release 2\n")  # new code: a new version behind `live`
        config = _project(tmp_path, localstack, env, account, threshold=3)
        second, ok = _release(config, env, clients, tmp_path / "r2")
        assert not ok, "release 2 must fail its smoke scenario"
        assert second.images[0].digest != first.images[0].digest

        (alias,) = [p for p in first.pins if p.kind == ALIAS]
        lam = probe.client("lambda")
        assert lam.get_alias(FunctionName=alias.scope, Name=alias.name)["FunctionVersion"] != alias.target

        result = rollback(env, config_path=config, clients=clients)
        assert result.to == first.id and result.ok, result
        # The alias went back natively first (UpdateAlias), then the change sets reconciled the stack: `live`
        # runs release 1's code either way.
        assert f"Lambda alias {alias.name}: moved (to version {alias.target})" in result.native
        assert result.seconds["serving"] == result.seconds["images"] + result.seconds["native"]
        code = lam.get_function(FunctionName=alias.scope, Qualifier=alias.target)["Configuration"]["CodeSha256"]
        live = lam.get_alias(FunctionName=alias.scope, Name=alias.name)["FunctionVersion"]
        assert lam.get_function(FunctionName=alias.scope, Qualifier=live)["Configuration"]["CodeSha256"] == code
        ecr = probe.client("ecr")
        image = first.images[0]
        now = ecr.batch_get_image(repositoryName=image.repository, imageIds=[{"imageTag": image.tag}])["images"]
        assert now[0]["imageId"]["imageDigest"] == image.digest
        alarm = probe.client("cloudwatch").describe_alarms(AlarmNamePrefix="rb-preprocessing-ExecutionsFailed")
        assert alarm["MetricAlarms"][0]["Threshold"] == 1.0
        bucket = release_bucket(plan, probe)
        statuses = [r.status for r in list_releases(probe.client("s3"), bucket)]
        assert statuses[:3] == ["smoke-passed", "smoke-failed", "smoke-passed"]  # newest first: the rollback

        # A release whose image is gone is refused up front, before anything is deployed.
        ecr.batch_delete_image(repositoryName=image.repository,
                               imageIds=[{"imageDigest": second.images[0].digest}])
        with pytest.raises(RollbackRefused, match="no longer exists in ECR"):
            rollback(env, to=second.id, config_path=config, clients=clients)
    finally:
        assert destroy(plan, clients, purge_data=True).ok
    assert_deploy_role_allows(recorder, "rb", saved=scenario_calls)

