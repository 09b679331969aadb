"""The model side end to end on LocalStack, as CI runs it: a real MLflow registry, the sample model staged in stg,
the serving scenarios (harness.scenarios_serving) against the stg endpoint with its record as evidence, a
promotion refused below the quality bar, then `model.promote` to prod, after which the registry alias and SSM
agree. One module-scoped stg deployment (serving and its dependencies only) is shared by every test. Every AWS call
of the staging, deploys, scenarios, promotions and destroy is checked against the deploy role of its account."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from dsplatform.deployer import ClientFactory, DeployOptions, deploy, destroy
from dsplatform.lifecycle import caller_of, deployment
from dsplatform.localstack import LocalStackSettings, register_image_sources
from dsplatform.localstack.imagesources import plan_image_sources
from dsplatform.synth import build_plan
from dsplatform.workflows.scenarios import run_scenarios
from harness.api_calls import RECORD_ENV
from tests.deploy_role import RecordingFactories
from tests.integration.conftest import unique_env
from tests.ports import free_port

REPO = Path(__file__).resolve().parents[2]
PROJECT = "sv"
ALIAS_SCENARIO = "test_serving.py::test_the_registry_alias_and_the_ssm_model_version_name_the_served_version"
pytestmark = pytest.mark.localstack


def _config(path: Path, localstack: Any, envs: dict[str, str], serving: dict[str, Any] | None = None,
            prod_serving: dict[str, Any] | None = None) -> str:
    """Two environments in promotion order (stg, then a protected prod); with ``serving``, the serving plug-ins."""
    base = yaml.safe_load((REPO / "dsplatform.yml").read_text())
    (stg, stg_account), (prod, prod_account) = envs.items()
    doc: dict[str, Any] = {"project": {"name": PROJECT}, "localstack": {"endpoint_url": localstack.endpoint_url},
                           "defaults": base["defaults"], "environments": {
                               stg: {"account_id": stg_account, "target": "localstack", "settings": {}},
                               prod: {"account_id": prod_account, "target": "localstack", "protected": True,
                                      "settings": {}}}}
    if serving is not None:
        doc["components"] = {"plugins": ["serving"]}  # it brings serving-registry
        doc["environments"][stg]["settings"]["serving"] = serving
        doc["environments"][prod]["settings"]["serving"] = {**serving, **(prod_serving or {})}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))  # the order of environments is the promotion chain
    return str(path)


def _register_sources(localstack: Any, plan: Any) -> None:
    # The session's LocalStack belongs to this repo's root: register the plan's image folders without a restart.
    port = int(localstack.endpoint_url.rsplit(":", 1)[1])
    register_image_sources(LocalStackSettings(port=port, project_root=REPO), plan_image_sources(plan))


@pytest.fixture(scope="module")
def world(localstack: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """stg deployed with its staged model and serving; the serving scenarios run once; everything removed after."""
    from dsplatform.config import load_config
    from dsplatform.registry import registry_uri
    from dsplatform.registry.environment import local_settings
    from dsplatform.registry.models import fit, register, sample_training_csv, stage
    from dsplatform.registry.server import start, stop
    from dsplatform.workflows.e2e import write_record

    patch = pytest.MonkeyPatch()
    patch.setenv("DSPLATFORM_LOCALSTACK_URL", localstack.endpoint_url)
    patch.setenv("DSPLATFORM_REGISTRY_URL", f"http://127.0.0.1:{free_port()}")  # a registry of this module's own
    folder = tmp_path_factory.mktemp("serving")
    # The workflows make their own ClientFactory (promotion: one per account); the scenarios save theirs.
    factories = RecordingFactories()
    patch.setattr("dsplatform.deployer.ClientFactory", factories)
    patch.setenv(RECORD_ENV, str(folder / "scenario-calls.jsonl"))
    (stg, stg_account), (prod, prod_account) = unique_env(), unique_env()
    envs = {f"s{stg}": stg_account, f"p{prod}": prod_account}
    stg, prod = list(envs)
    base = build_plan(stg, _config(folder / "base.yml", localstack, envs)).select(["parameters"])
    clients = factories(base.target)
    probe = ClientFactory(base.target)  # the test's own reads and clean-up: not the workflows' calls
    deploy(base, clients, DeployOptions()).raise_for_failure()
    registry = local_settings(base, clients)
    start(registry)
    world: dict[str, Any] = {"stg": stg, "prod": prod, "envs": envs, "folder": folder, "clients": probe}
    try:
        uri = registry_uri(load_config(folder / "base.yml").environment(stg))
        trained = fit(uri, sample_training_csv(1500, 0), experiment=f"{PROJECT}-model")
        version = register(uri, trained.run_id, f"{PROJECT}-model")
        staged = stage(base, clients, uri, f"{PROJECT}-model", version)
        serving = {"model_version": staged.version, "model_sha256": staged.sha256}
        config = _config(folder / "dsplatform.yml", localstack, envs, serving)
        plan = build_plan(stg, config, None, ["serving", "parameters"])
        _register_sources(localstack, plan)
        with deployment(plan, clients, keep=True) as dep:
            run = run_scenarios(plan, config, folder / "reports", reuse=True, keep=True, stream=False)
            record = write_record(dep, run, caller_of(clients), config) if run.ok else ""
        world.update(uri=uri, staged=staged, serving=serving, config=config, plan=plan, run=run, record=record,
                     accuracy=trained.accuracy)
        yield world
    finally:
        # Stop the replicas (processes) whatever the stacks' state; prod is protected, its stacks stay.
        for sagemaker in [c for c in (probe.client("sagemaker"), world.get("prod_sagemaker")) if c is not None]:
            for endpoint in sagemaker.list_endpoints()["Endpoints"]:
                sagemaker.delete_endpoint(EndpointName=endpoint["EndpointName"])
        if "plan" in world:
            assert destroy(world["plan"], clients, purge_data=True).ok
        stop(registry)
        patch.undo()
    factories.assert_allowed(PROJECT, saved=folder / "scenario-calls.jsonl")


def test_the_stg_serving_scenarios_pass_and_their_record_carries_the_evidence(world: dict[str, Any]) -> None:
    run = world["run"]
    assert run.ok, run.output[-3000:]
    names = {nodeid.split("::")[-1].split("[")[0] for nodeid in run.passed}
    assert names == {"test_the_endpoint_predicts_what_the_registered_model_predicts_locally",
                     "test_the_endpoint_meets_the_quality_bar_on_the_holdout",
                     "test_a_bad_payload_is_a_4xx_with_the_reason",
                     "test_a_blue_green_update_to_a_broken_model_fails_with_the_reason_and_the_old_model_keeps_serving",
                     "test_the_registry_alias_and_the_ssm_model_version_name_the_served_version"}
    from dsplatform.workflows.promotion.store import list_records

    clients, bucket = world["clients"], world["record"].split("/")[2]
    (_, record), *_ = list_records(clients.client("s3"), bucket, "e2e")
    assert 0.8 <= record.metrics["serving.accuracy"] < 1.0  # measured on the endpoint, not copied from training
    artifact = next(a for a in record.artifacts if a.name == "serving-model")
    assert artifact.sha256 == world["staged"].sha256
    image = next(i for i in record.images if i.job == "serving")
    model_name = f"{PROJECT}-{world['stg']}-model-{world['staged'].version}"
    model = clients.client("sagemaker").describe_model(ModelName=model_name)
    assert model["PrimaryContainer"]["Image"].endswith(f"@{image.digest}")  # served by the pushed digest


def test_a_model_below_the_quality_bar_is_refused_promotion_naming_the_metric_and_an_unconfirmed_one_stops(
        world: dict[str, Any], localstack: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from dsplatform.workflows.promotion.model import ModelPromotionRefused, promote_model
    from dsplatform.workflows.promotion.promote import PromotionAborted

    monkeypatch.setattr("dsplatform.workflows.e2e.ensure_localstack", lambda plan: True)  # LocalStack is running
    strict = _config(world["folder"] / "strict.yml", localstack, world["envs"], world["serving"],
                     {"min_accuracy": 1.0})
    with pytest.raises(ModelPromotionRefused) as caught:
        promote_model(world["stg"], world["prod"], yes=True, config_path=strict)
    assert "serving.accuracy 0." in str(caught.value)
    assert f"environments.{world['prod']}.settings.serving.min_accuracy 1.0" in str(caught.value)
    assert caught.value.exit_code == 2
    asked: list[str] = []

    def decline(question: str) -> bool:
        asked.append(question)
        return False

    with pytest.raises(PromotionAborted):  # prod is protected: without --yes, a declined confirmation stops it
        promote_model(world["stg"], world["prod"], config_path=world["config"], confirm=decline)
    assert f"{PROJECT}-model v{world['staged'].version}" in asked[0] and "accuracy 0." in asked[0]
    prod = ClientFactory(build_plan(world["prod"], strict).target)
    assert not [s for s in prod.client("cloudformation").describe_stacks()["Stacks"]
                if s["StackStatus"] != "DELETE_COMPLETE"]  # nothing deployed


def test_promotion_serves_the_tested_artifact_and_digest_in_prod_and_the_alias_and_ssm_agree(
        world: dict[str, Any], localstack: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from dsplatform.workflows.promotion.model import promote_model

    monkeypatch.setattr("dsplatform.workflows.e2e.ensure_localstack", lambda plan: True)  # LocalStack is running
    prod_plan = build_plan(world["prod"], world["config"], None, ["serving", "parameters"])
    _register_sources(localstack, prod_plan)
    prod = ClientFactory(prod_plan.target)
    world["prod_sagemaker"] = prod.client("sagemaker")
    result = promote_model(world["stg"], world["prod"], yes=True, config_path=world["config"])
    assert result.record_key.startswith("s3://")
    assert result.seconds_to_serving > 0
    print(f"model.promote -> prod serving: {result.seconds_to_serving:.1f} s")  # shown with -s; bench measures it
    staged = world["staged"]
    model = prod.client("sagemaker").describe_model(ModelName=f"{PROJECT}-{world['prod']}-model-{staged.version}")
    assert model["PrimaryContainer"]["Image"].endswith(f"@{result.digest}")
    bucket, key = model["PrimaryContainer"]["ModelDataUrl"][5:].split("/", 1)
    from dsplatform.workflows.promotion.artifacts import object_sha256

    assert object_sha256(prod.client("s3"), bucket, key)[0] == staged.sha256  # type: ignore[index]
    alias = run_scenarios(prod_plan, world["config"], world["folder"] / "prod-reports", reuse=True, keep=True,
                          stream=False, paths=[str(REPO / "harness" / "scenarios_serving" / ALIAS_SCENARIO)])
    assert alias.ok and len(alias.passed) == 1, alias.output[-3000:]
