"""The api component from the installed wheel, end to end on the consumer's LocalStack: a project of the consumer
repo (its own name and account) that opts in with ``components.plugins: [api]`` and keeps no ``containers/api``,
driven only through the venv's `invoke`. It passes `invoke lint` (cfn-lint, checkov: on this LocalStack target the
plain-HTTP listener's two TLS checks are skipped with their reason, printed by lint). A plain deploy refuses without
the job's model; `invoke e2e` provides it,
pushes the api image the wheel ships to the api-registry repository, runs the service on that digest and passes
the api's scenarios (harness/scenarios_api, from site-packages) against the real local ALB over real HTTP; every
AWS call those scenarios make is within the project's deploy role (`invoke e2e --keep` runs them with it in CI)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest
import yaml

from harness.api_calls import RECORD_ENV
from tests.consumer.conftest import Consumer, ok, run
from tests.deploy_role import assert_saved_calls_allowed

pytestmark = [pytest.mark.localstack, pytest.mark.xdist_group("consumer")]  # one venv and LocalStack

PROJECT, ENV, ACCOUNT = "rt", "live", "464646464646"
CONFIG = "api.yml"
SCENARIOS = {
    "test_records_through_the_load_balancer_get_the_batch_jobs_features",
    "test_a_stopped_task_is_routed_around_and_replaced",
    "test_a_rolling_deploy_under_load_fails_no_request",
    "test_a_broken_release_is_rolled_back_and_the_old_one_keeps_serving",
}
# Health checks every 5 s (AWS's minimum) and 5 s of draining: the same scenarios, in seconds rather than minutes.
# Three tasks: the circuit breaker trips at half the desired count but never below 3 failed tasks (AWS), and with
# maximum 200 % all 3 of a never-ready release start at once, so it trips after one round of failures, not two.
# The grace covers a good task's start on a busy machine (the suite runs on several workers): a task still
# starting fails two checks (unhealthy), then needs the healthy threshold (5 checks, 25 s) to recover; with 20 s
# the rollback's own good tasks were stopped as unhealthy under load and the service never became stable.
FAST = {"health_check_interval_seconds": 5, "deregistration_delay_seconds": 5, "health_check_grace_seconds": 45,
        "desired_count": 3}


def _write_config(consumer: Consumer) -> None:
    doc = {"project": {"name": PROJECT}, "localstack": {"endpoint_url": consumer.endpoint_url},
           "components": {"plugins": ["api"]},
           "defaults": {"compute": {"cpu": 1024, "memory": 2048}, "schedule": {"enabled": False}},
           "environments": {ENV: {"account_id": ACCOUNT, "region": "us-east-1", "target": "localstack",
                                  "settings": {"api": FAST}}}}
    (consumer.repo / CONFIG).write_text(yaml.safe_dump(doc))


def _passed(junit: str) -> set[str]:
    cases = ET.fromstring(junit).iter("testcase")
    return {case.attrib["name"] for case in cases if not list(case)}  # no failure, error or skipped child


def test_the_api_from_the_wheel_refuses_without_the_model_then_serves_and_passes_its_scenarios(
        consumer: Consumer) -> None:
    assert not (consumer.repo / "containers" / "api").exists()  # the image source is the wheel's
    _write_config(consumer)
    options = ("--env", ENV, "--config", CONFIG)
    linted = consumer.ok("invoke", "lint", *options)
    assert f"CKV_AWS_2 ({PROJECT}-{ENV}-api HttpListener): LocalStack target:" in linted, linted[-2000:]

    # A plain deploy refuses up front, one line and exit 2: the API's tasks would never get ready without the model.
    refused = consumer.run("invoke", "deploy", *options)
    assert refused.returncode == 2, refused.stdout[-2000:] + refused.stderr[-2000:]
    assert re.search(rf"{PROJECT}-{ENV}-api needs the job.s preprocessing model at s3://", refused.stderr), \
        refused.stderr[-2000:]
    assert [s for s in consumer.client("cloudformation", ACCOUNT).describe_stacks()["Stacks"]
            if s["StackStatus"] != "DELETE_COMPLETE"] == []

    # As a user would: `invoke e2e` provides the model between the layers, pushes the image, runs the scenarios.
    try:
        calls = consumer.repo / "build" / "scenario-calls.jsonl"  # saved by the scenarios' pytest (the wheel's harness)
        e2e = run({**consumer.env, RECORD_ENV: str(calls)}, consumer.repo, "invoke", "e2e", *options, "--stacks", "api",
                  "--keep", timeout=900)
        ok(e2e)
        assert_saved_calls_allowed(calls, PROJECT)
        junit = (consumer.repo / "build" / "reports" / "junit.xml").read_text()
        assert _passed(junit) == SCENARIOS, junit[-3000:]

        # The image went to the api-registry repository before the api stack was first created, so the service
        # runs it by the pushed digest, never by a tag.
        (release, *_) = json.loads(consumer.ok("invoke", "releases", *options, "--json"))
        (pushed,) = [image for image in release["images"] if image["job"] == "api"]
        outputs = json.loads(consumer.ok("invoke", "outputs", *options, "--json"))
        ecs = consumer.client("ecs", ACCOUNT)
        service = ecs.describe_services(cluster=outputs[f"{PROJECT}-{ENV}-compute"]["ClusterName"],
                                        services=[outputs[f"{PROJECT}-{ENV}-api"]["ServiceName"]])["services"][0]
        task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
        assert task["containerDefinitions"][0]["image"].endswith(f"/{pushed['repository']}@{pushed['digest']}")
        folder, shipped = consumer.shipped_image("api")  # the api image source the wheel ships
        assert "site-packages" in folder and pushed["digest"] == shipped

        # The load balancer logs to the stack's own bucket, which only ELB log delivery may write (the extension
        # checks that policy as ELB does and writes the logs: tests/localstack/test_alb_cfn.py proves delivery).
        balancer = outputs[f"{PROJECT}-{ENV}-api"]["LoadBalancerArn"]
        attributes = {a["Key"]: a["Value"] for a in consumer.client("elbv2", ACCOUNT).describe_load_balancer_attributes(
            LoadBalancerArn=balancer)["Attributes"]}
        bucket = f"{PROJECT}-api-logs-{ENV}-{ACCOUNT}-us-east-1"
        assert (attributes["access_logs.s3.enabled"], attributes["access_logs.s3.bucket"]) == ("true", bucket)
        policy = json.loads(consumer.client("s3", ACCOUNT).get_bucket_policy(Bucket=bucket)["Policy"])
        assert {s["Sid"] for s in policy["Statement"]} == {"DenyInsecureTransport", "LoadBalancerWritesLogs"}
    finally:
        destroyed = consumer.run("invoke", "destroy", *options, "--purge-data", "--json")
    ok(destroyed)
