"""The pipeline component from the installed wheel on the consumer's LocalStack: a project of the consumer repo (its
own name, a tooling account hosting the pipeline, dev delivered to an account of its own; the consumer's files plus
a component of its own with a scenario: the delivery rehearsal's one-parameter probe) synthesized, linted and its
pipeline deployed with the venv's `invoke`. A source archive put to the pipeline's bucket starts a run whose Test
build runs the generated buildspec in CodeBuild (the extension's, on this machine) with the consumer venv's
`invoke`, and dsplatform imported from site-packages; the dev approval is approved with its token, and the Deliver
build delivers dev with the same `invoke` (images, deploy, e2e of the probe's scenario, its pass recorded as
evidence in dev). Promotion is the in-repo rehearsal's (tests/delivery/test_pipeline_localstack.py)."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from harness.waiting import Waiter
from tests.consumer.conftest import REPO, Consumer, ok, run

pytestmark = [pytest.mark.localstack, pytest.mark.xdist_group("consumer")]  # one venv and LocalStack

PROJECT, TOOLING, DEV, RELEASE = "dl", "252525252525", "262626262626", "r1"
PROBE = REPO / "tests" / "delivery" / "pipeline_source"  # probe_infra/ (the component) and scenarios/ (its check)
WAIT = Waiter(timeout=300, interval=1)
# The Test build proves where its code comes from: the consumer venv's invoke (first on the build's PATH, as the
# consumer started LocalStack) synthesizes the project, and dsplatform is the installed wheel's, not a checkout.
TEST = ("invoke synth --env dev && python -c \"import dsplatform; assert 'site-packages' in dsplatform.__file__, "
        "dsplatform.__file__\"")


def _config(consumer: Consumer, source: Path) -> dict[str, Any]:
    return {"project": {"name": PROJECT, "tags": {"release": RELEASE}},
            "localstack": {"endpoint_url": consumer.endpoint_url},
            "components": {"stock": ["storage", "parameters"], "plugins": ["pipeline", "probe_infra.probe:PROBE"]},
            "delivery": {"pipeline": {"deliver": "dev", "dev_approval": True, "install": "invoke --version",
                                      "test": TEST,
                                      # The builds' own dsplatform cache: the consumer's LocalStack is recorded as
                                      # owned by the consumer's folder, not by the build's copy of the source.
                                      "variables": {"DSPLATFORM_CACHE_DIR": str(source.parent / "build-cache")}}},
            "environments": {"tooling": {"account_id": TOOLING, "target": "localstack"},
                             "dev": {"account_id": DEV, "target": "localstack"}}}


def _source(consumer: Consumer, folder: Path) -> Path:
    """The consumer repo's files with the probe component and its scenarios instead of the repo's own scenarios
    (which test the enrich job, not delivered here)."""
    shutil.copytree(consumer.repo, folder, ignore=shutil.ignore_patterns("build", "__pycache__", "scenarios", "*.yml"))
    for part in ("probe_infra", "scenarios"):
        shutil.copytree(PROBE / part, folder / part, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "dsplatform.yml").write_text(yaml.safe_dump(_config(consumer, folder), sort_keys=False))
    return folder


def _archive(folder: Path) -> bytes:
    """The source folder as a zip (what a team puts to the pipeline's source key)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder)
            if path.is_file() and rel.parts[0] != "build" and "__pycache__" not in rel.parts:
                archive.write(path, rel.as_posix())
    return buffer.getvalue()


def _stages(codepipeline: Any, name: str) -> dict[str, dict[str, Any]]:
    return {s["stageName"]: s for s in codepipeline.get_pipeline_state(name=name)["stageStates"]}


def test_the_pipeline_from_the_wheel_tests_then_delivers_dev_after_its_approval_with_the_wheels_invoke(
        consumer: Consumer, tmp_path: Path) -> None:
    source = _source(consumer, tmp_path / "source")

    def invoke(*args: str) -> str:
        return ok(run(consumer.env, source, "invoke", *args, timeout=600))

    invoke("synth", "--env", "all")
    assert (source / "build" / "tooling" / f"{PROJECT}-tooling-pipeline.json").is_file()
    invoke("lint", "--env", "tooling")
    # The diagram's default page is dsplatform's own docs/delivery.md, which a consumer lacks: one line, exit 2.
    diagram = run(consumer.env, source, "invoke", "ci.diagram")
    assert diagram.returncode == 2 and diagram.stderr.startswith("error: --doc 'docs/delivery.md': no such file"), \
        diagram.stderr[-2000:]

    try:
        invoke("deploy", "--env", "tooling")
        pipeline = json.loads(invoke("outputs", "--env", "tooling", "--json"))[f"{PROJECT}-tooling-pipeline"]
        clients = {s: boto3.client(s, endpoint_url=consumer.endpoint_url, region_name="us-east-1",
                                   aws_access_key_id=TOOLING, aws_secret_access_key="test")
                   for s in ("codepipeline", "s3")}
        codepipeline, name = clients["codepipeline"], pipeline["PipelineName"]

        def runs() -> list[dict[str, Any]]:
            return list(codepipeline.list_pipeline_executions(pipelineName=name)["pipelineExecutionSummaries"])

        # As on AWS, creating the pipeline starts it once; with no archive yet that run fails at its source.
        before = WAIT.until(runs, lambda found: bool(found) and all(r["status"] != "InProgress" for r in found),
                            what="the pipeline's first run to end")
        clients["s3"].put_object(Bucket=pipeline["ArtifactBucketName"], Key=pipeline["SourceKey"],
                                 Body=_archive(source))
        seen = {r["pipelineExecutionId"] for r in before}
        (started,) = WAIT.until(lambda: [r for r in runs() if r["pipelineExecutionId"] not in seen], bool,
                                what="the archive to start a run")
        execution_id = started["pipelineExecutionId"]

        def approval_token(stages: dict[str, dict[str, Any]]) -> str | None:
            test = stages.get("Test", {}).get("latestExecution", {})
            assert test.get("status") != "Failed", stages["Test"]
            approval = stages.get("ApproveDev", {})
            latest = approval.get("latestExecution", {})
            if test.get("pipelineExecutionId") != execution_id or test.get("status") != "Succeeded" or \
                    latest.get("pipelineExecutionId") != execution_id or latest.get("status") != "InProgress":
                return None
            return approval["actionStates"][0].get("latestExecution", {}).get("token")

        token = WAIT.until(lambda: approval_token(_stages(codepipeline, name)), bool,
                           what="the Test build to succeed and the dev approval to wait")
        dev = consumer.client("cloudformation", DEV)
        assert [s["StackName"] for s in dev.describe_stacks()["Stacks"] if s["StackStatus"] != "DELETE_COMPLETE"] \
            == []  # nothing delivered before the approval
        codepipeline.put_approval_result(pipelineName=name, stageName="ApproveDev", actionName="ApproveDev",
                                         token=token, result={"summary": "approved by the test", "status": "Approved"})
        ended = WAIT.until(lambda: codepipeline.get_pipeline_execution(
            pipelineName=name, pipelineExecutionId=execution_id)["pipelineExecution"],
            lambda e: e["status"] != "InProgress", what="the Deliver build to end", timeout=600)
        assert ended["status"] == "Succeeded", _stages(codepipeline, name)

        # Dev holds this release, deployed and tested by the Deliver build: its e2e pass is recorded as evidence.
        outputs = json.loads(invoke("outputs", "--env", "dev", "--json"))
        assert set(outputs) == {f"{PROJECT}-dev-{c}" for c in ("storage", "parameters", "probe")}, outputs
        parameter = outputs[f"{PROJECT}-dev-probe"]["ParameterName"]
        assert consumer.client("ssm", DEV).get_parameter(Name=parameter)["Parameter"]["Value"] == RELEASE
        records = consumer.client("s3", DEV).list_objects_v2(
            Bucket=outputs[f"{PROJECT}-dev-storage"]["ArtifactBucketName"], Prefix="_dsplatform/promotion/e2e/")
        assert records.get("KeyCount", 0) >= 1, records
    finally:
        destroyed = [run(consumer.env, source, "invoke", "destroy", "--env", env, "--purge-data", "--json")
                     for env in ("dev", "tooling")]
    for result in destroyed:
        ok(result)
