"""The pipeline component rehearsed end to end on LocalStack: a tooling account holds the CodePipeline, dev and
prod are two more simulated accounts.

Put a source archive -> the pipeline starts (S3 -> EventBridge rule), tests it, deploys dev, runs its e2e
(recorded as evidence), announces the promotion approval on its topic and waits; approving promotes to prod
through the promotion gate; rejecting stops it with prod untouched; a failing unit test fails the Test stage, is
announced on the failure topic through the EventBridge rule, and deploys nothing. The source is a tiny consumer
project (``pipeline_source/``: storage, parameters and one SSM-parameter component with its scenario) so one run
costs seconds, not the full platform's minutes.

What this proves: the generated template deploys and runs as a CodePipeline; the generated buildspecs' commands
(`invoke image.push/deploy/e2e/promote`) work from a scratch copy of the source; the stage order, the approval
and failure notifications and the promotion gate. What it does not: IAM (LocalStack does not enforce it, and the
deployer picks each simulated account by its id, so the promote build's role chaining is not exercised), the
CodeBuild image and `install` (host tools are on PATH), a CodeStar source, and KMS encryption at rest.
"""

from __future__ import annotations

import json
import random
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError

from blueprints.pipeline import PipelineOutputs
from dsplatform.config import load_config
from dsplatform.deployer import ClientFactory, deploy, read_deployed
from dsplatform.synth import plan_from_config
from harness.waiting import Waiter

pytestmark = pytest.mark.localstack
SOURCE = Path(__file__).parent / "pipeline_source"
WAIT = Waiter(timeout=600, interval=1)
APPROVAL = "ApprovePromotion"


@dataclass
class World:
    """The rehearsal: its source folder, config, the tooling account's clients and the pipeline's outputs."""

    root: Path
    project: Any
    tooling: Any
    outputs: PipelineOutputs
    approvals: str  # SQS queue subscribed to the approval topic
    failures: str  # SQS queue subscribed to the failure topic

    def clients(self, env: str) -> Any:
        """Clients of one environment's simulated account."""
        return ClientFactory(plan_from_config(self.project, env).target)

    def release_in(self, env: str) -> str | None:
        """The release the probe parameter holds in ``env``, None when nothing is deployed there."""
        name = f"/{self.project.project.name}/{env}/release"
        try:
            return str(self.clients(env).client("ssm").get_parameter(Name=name)["Parameter"]["Value"])
        except ClientError:
            return None


def _account() -> str:
    return f"6{random.randrange(10**10, 10**11)}"


def _write_config(root: Path, endpoint: str, name: str, accounts: list[str], release: str) -> None:
    doc = {
        "project": {"name": name, "tags": {"release": release}},
        "localstack": {"endpoint_url": endpoint},
        "components": {"stock": ["storage", "parameters"], "plugins": ["pipeline", "probe_infra.probe:PROBE"]},
        "delivery": {"pipeline": {"deliver": "dev", "promote_to": "prod", "install": "invoke --version",
                                  "test": "python -m pytest -q -p no:cacheprovider unit",
                                  # The builds' own dsplatform cache: the LocalStack they share was started (and
                                  # is recorded as owned) by this test session's project, not by the consumer's.
                                  "variables": {"DSPLATFORM_CACHE_DIR": str(root.parent / "build-cache")}}},
        "environments": {env: {"account_id": account, "target": "localstack"}
                         for env, account in zip(("tooling", "dev", "prod"), accounts, strict=True)},
    }
    (root / "dsplatform.yml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def _archive(root: Path, release: str, passing: bool = True) -> bytes:
    """The source zip of ``root`` with ``release`` in its config (and a failing unit test when not ``passing``)."""
    doc = yaml.safe_load((root / "dsplatform.yml").read_text())
    doc["project"]["tags"]["release"] = release
    out = root.parent / f"{release}.zip"
    with zipfile.ZipFile(out, "w") as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                text = path.read_text(encoding="utf-8")
                rel = path.relative_to(root).as_posix()
                if rel == "dsplatform.yml":
                    text = yaml.safe_dump(doc, sort_keys=False)
                if rel == "unit/test_unit.py" and not passing:
                    text = text.replace("RESULT = True", "RESULT = False")
                archive.writestr(rel, text)
    return out.read_bytes()


def _subscribe(tooling: Any, topic: str, label: str) -> str:
    sqs, sns = tooling.client("sqs"), tooling.client("sns")
    queue = sqs.create_queue(QueueName=f"{label}-{random.randrange(10**6)}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "false"})
    return str(queue)


def _messages(tooling: Any, queue: str, want: int, seconds: int = 20) -> list[dict[str, Any]]:
    sqs, found = tooling.client("sqs"), []
    for _ in range(seconds):
        for message in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1, MaxNumberOfMessages=10).get(
                "Messages", []):
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        if len(found) >= want:
            break
    return found


def _execution(world: World, execution_id: str) -> dict[str, Any]:
    return dict(world.tooling.client("codepipeline").get_pipeline_execution(
        pipelineName=world.outputs.pipeline_name, pipelineExecutionId=execution_id)["pipelineExecution"])


def _ended(world: World, execution_id: str) -> dict[str, Any]:
    return WAIT.until(lambda: _execution(world, execution_id), lambda e: e["status"] != "InProgress",
                      what=f"pipeline execution {execution_id} to end")


def _stages(world: World) -> dict[str, dict[str, Any]]:
    state = world.tooling.client("codepipeline").get_pipeline_state(name=world.outputs.pipeline_name)
    return {s["stageName"]: s for s in state["stageStates"]}


def _approval_token(world: World, execution_id: str) -> str:
    def probe() -> dict[str, Any]:
        return _stages(world).get(APPROVAL, {})

    def waiting(stage: dict[str, Any]) -> bool:
        latest = stage.get("latestExecution", {})
        if latest.get("pipelineExecutionId") == execution_id and latest.get("status") == "InProgress":
            return bool(stage["actionStates"][0].get("latestExecution", {}).get("token"))
        if _execution(world, execution_id)["status"] != "InProgress":
            raise AssertionError(f"the execution ended before the approval: {_stages(world)}")
        return False

    stage = WAIT.until(probe, waiting, what=f"the promotion approval of {execution_id}")
    return str(stage["actionStates"][0]["latestExecution"]["token"])


def _run(world: World, archive: bytes) -> str:
    """Put the archive; the source rule (S3 -> EventBridge -> CodePipeline) starts a run: its id."""
    codepipeline = world.tooling.client("codepipeline")

    def runs() -> list[dict[str, Any]]:
        return list(codepipeline.list_pipeline_executions(pipelineName=world.outputs.pipeline_name)[
            "pipelineExecutionSummaries"])

    before = {r["pipelineExecutionId"] for r in runs()}
    world.tooling.client("s3").put_object(Bucket=world.outputs.artifact_bucket_name, Key=world.outputs.source_key,
                                          Body=archive)
    started = WAIT.until(lambda: [r for r in runs() if r["pipelineExecutionId"] not in before], bool,
                         what="the put archive to start a pipeline run", timeout=60)
    assert [r["trigger"]["triggerType"] for r in started] == ["CloudWatchEvent"], started
    return str(started[0]["pipelineExecutionId"])


def _answer(world: World, token: str, status: str) -> None:
    world.tooling.client("codepipeline").put_approval_result(
        pipelineName=world.outputs.pipeline_name, stageName=APPROVAL, actionName=APPROVAL, token=token,
        result={"summary": f"{status} by the scenario", "status": status})


@pytest.fixture(scope="module")
def world(localstack: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The tiny consumer project with fresh accounts, its pipeline deployed to the tooling account."""
    root = tmp_path_factory.mktemp("pipeline") / "source"
    shutil.copytree(SOURCE, root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "tasks.py").write_text("from dsplatform.tasks import ns  # noqa: F401\n", encoding="utf-8")
    name = f"p{random.randrange(10**5, 10**6)}"
    _write_config(root, localstack.endpoint_url, name, [_account() for _ in range(3)], "r0")
    project = load_config(root / "dsplatform.yml")
    plan = plan_from_config(project, "tooling")
    assert [s.component for s in plan.stacks] == ["pipeline"]  # a tooling account holds the pipeline alone
    tooling = ClientFactory(plan.target)
    deploy(plan, tooling).raise_for_failure()
    outputs = read_deployed(plan, tooling).get(PipelineOutputs)
    codepipeline = tooling.client("codepipeline")
    # As on AWS, creating the pipeline starts it once; with no archive yet that run fails at its source.
    WAIT.until(lambda: codepipeline.list_pipeline_executions(pipelineName=outputs.pipeline_name)[
        "pipelineExecutionSummaries"], lambda runs: bool(runs) and all(r["status"] != "InProgress" for r in runs),
        what="the pipeline's first run (started on create) to end")
    world = World(root, project, tooling, outputs, _subscribe(tooling, outputs.approval_topic_arn, "approvals"),
                  _subscribe(tooling, outputs.failure_topic_arn, "failures"))
    yield world


def test_a_failing_unit_test_fails_the_test_stage_notifies_and_deploys_nothing(world: World) -> None:
    execution = _ended(world, _run(world, _archive(world.root, "r-broken", passing=False)))
    assert execution["status"] == "Failed"
    stages = _stages(world)
    assert stages["Test"]["latestExecution"] == {"pipelineExecutionId": execution["pipelineExecutionId"],
                                                 "status": "Failed"}
    assert stages.get("Deliver", {}).get("latestExecution", {}).get("pipelineExecutionId") \
        != execution["pipelineExecutionId"]
    failed = [json.loads(m["Message"]) for m in _messages(world.tooling, world.failures, want=1)]
    assert [(m["source"], m["detail"]["state"], m["detail"]["execution-id"]) for m in failed] == \
        [("aws.codepipeline", "FAILED", execution["pipelineExecutionId"])]
    assert world.release_in("dev") is None and world.release_in("prod") is None


def test_a_release_is_delivered_to_dev_and_promoted_to_prod_only_when_approved(world: World) -> None:
    execution_id = _run(world, _archive(world.root, "r1"))
    token = _approval_token(world, execution_id)
    # Waiting at the approval: dev is deployed and tested, prod untouched, the approval announced.
    assert world.release_in("dev") == "r1" and world.release_in("prod") is None
    announced = [json.loads(m["Message"]) for m in _messages(world.tooling, world.approvals, want=1)]
    assert [m["approval"]["token"] for m in announced] == [token], announced
    _answer(world, token, "Approved")
    execution = _ended(world, execution_id)
    assert execution["status"] == "Succeeded", _stages(world)
    assert world.release_in("prod") == "r1"
    records = world.clients("prod").client("s3").list_objects_v2(
        Bucket=f"{world.project.project.name}-artifacts-prod-{world.project.environments['prod'].account_id}"
               f"-us-east-1")
    assert any("promotion" in o["Key"] for o in records.get("Contents", [])), "no promotion record in prod"


def test_rejecting_the_promotion_stops_the_pipeline_and_leaves_prod_as_it_was(world: World) -> None:
    before = world.release_in("prod")
    execution_id = _run(world, _archive(world.root, "r2"))
    token = _approval_token(world, execution_id)
    assert world.release_in("dev") == "r2"
    _answer(world, token, "Rejected")
    execution = _ended(world, execution_id)
    assert execution["status"] == "Failed"
    assert _stages(world)["Promote"].get("latestExecution", {}).get("pipelineExecutionId") != execution_id
    assert world.release_in("prod") == before
