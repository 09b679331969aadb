"""The api component end to end on LocalStack: a fresh environment, deployed as `invoke e2e` does, and its
scenarios (harness/scenarios_api) run through the harness plugin against the real local ALB over real HTTP."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.conftest import REPO, unique_env

pytestmark = pytest.mark.localstack

SCENARIOS = {
    "test_records_through_the_load_balancer_get_the_batch_jobs_features",
    "test_a_stopped_task_is_routed_around_and_replaced",
    "test_a_rolling_deploy_under_load_fails_no_request",
    "test_a_broken_release_is_rolled_back_and_the_old_one_keeps_serving",
}


# Health checks every 5 s (AWS's minimum) and 5 s of draining: the same scenarios, in seconds rather than minutes.
# Three tasks: the circuit breaker trips at half the desired count but never below 3 failed tasks (AWS), and with
# maximum 200 % all 3 of a never-ready release start at once, so it trips after one round of failures, not two.
FAST = {"health_check_interval_seconds": 5, "deregistration_delay_seconds": 5, "health_check_grace_seconds": 20,
        "desired_count": 3}


def consumer_config(folder: Path, endpoint: str) -> tuple[str, str]:
    """A consumer-like project (no containers/ of its own) that opts in to the api, in a fresh account."""
    env, account = unique_env()
    base = yaml.safe_load((REPO / "dsplatform.yml").read_text())
    doc = {"project": base["project"], "defaults": base["defaults"], "localstack": {"endpoint_url": endpoint},
           "components": {"plugins": ["api"]},
           "environments": {env: {"account_id": account, "region": "us-east-1", "target": "localstack",
                                  "settings": {"schedule": {"enabled": False}, "api": FAST}}}}
    path = folder / "dsplatform.yml"
    path.write_text(yaml.safe_dump(doc))
    return str(path), env


def test_a_fresh_environment_with_the_api_deploys_and_passes_its_scenarios(
    localstack: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dsplatform.deployer import ClientFactory, deploy, destroy
    from dsplatform.deployer.inventory import deployed_stacks
    from dsplatform.deployer.requirements import RequirementMissingError
    from dsplatform.lifecycle import deployment
    from dsplatform.localstack import register_image_sources, wait_for_images
    from dsplatform.localstack.imagesources import plan_image_sources
    from dsplatform.synth import build_plan
    from dsplatform.workflows.scenarios import run_scenarios
    from tests.localstack.support import settings_for

    monkeypatch.setenv("DSPLATFORM_LOCALSTACK_URL", localstack.endpoint_url)
    config, env = consumer_config(tmp_path, localstack.endpoint_url)
    plan = build_plan(env, config, "localstack", ["api"])
    clients = ClientFactory(plan.target)
    # A plain deploy refuses up front: the API's tasks would never get ready without the model.
    with pytest.raises(RequirementMissingError, match=r"ds-\w+-api needs the job.s preprocessing model at s3://"):
        deploy(plan, clients)
    assert deployed_stacks(clients.client("cloudformation"), [s.name for s in plan.stacks]) == {}

    # The session's LocalStack runs the consumer's images: the api's is the one dsplatform ships.
    settings = dataclasses.replace(settings_for(localstack), image_sources=plan_image_sources(plan))
    register_image_sources(settings, settings.image_sources)
    try:
        # As `invoke e2e`: the lifecycle provides the model between the layers (after storage and parameters,
        # before the api stack), then the scenarios run through the harness plugin in their own pytest.
        with deployment(plan, clients, keep=True, provide=True) as dep:
            assert all(state.startswith("ready") for state in wait_for_images(settings).values())
            # The image went to the api-registry stack's repository before the api stack was first created,
            # so the service runs it by the pushed digest, never by a tag.
            pushed = dep.images["api"]
            ecs = clients.client("ecs")
            service = ecs.describe_services(cluster=dep.deployed["compute"].cluster_name,
                                            services=[dep.deployed["api"].service_name])["services"][0]
            task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
            assert task["containerDefinitions"][0]["image"].endswith(f"/{pushed.repository}@{pushed.digest}")
            run = run_scenarios(plan, config, tmp_path / "reports", reuse=True, keep=True, stream=False)
        assert run.ok, run.output[-3000:]
        assert {name.rsplit("::", 1)[-1] for name in run.passed} == SCENARIOS, run.passed
    finally:
        assert destroy(plan, clients, purge_data=True).ok
