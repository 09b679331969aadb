"""The pipeline component from the installed wheel on the consumer's LocalStack: a project of the consumer repo (its
own name, a tooling account hosting the pipeline, dev delivered) synthesized, linted and its pipeline deployed with
the venv's `invoke`; a source archive put to the pipeline's bucket starts a run whose Test build runs the generated
buildspec in CodeBuild (the extension's, on this machine) with the consumer venv's `invoke`, and dsplatform imported
from site-packages. The run stops at the dev approval: delivering dev is the in-repo rehearsal's
(tests/delivery/test_pipeline_localstack.py), not a packaging question."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3
import pytest
import yaml

from harness.waiting import Waiter
from tests.consumer.conftest import Consumer, ok

pytestmark = [pytest.mark.localstack, pytest.mark.xdist_group("consumer")]  # one venv and LocalStack

PROJECT, TOOLING = "dl", "252525252525"
CONFIG = "pipeline.yml"
WAIT = Waiter(timeout=300, interval=1)
# The Test build proves where its code comes from: the consumer venv's invoke (first on the build's PATH, as the
# consumer started LocalStack) synthesizes the project, and dsplatform is the installed wheel's, not a checkout.
TEST = ("invoke synth --env dev && python -c \"import dsplatform; assert 'site-packages' in dsplatform.__file__, "
        "dsplatform.__file__\"")


def _config(consumer: Consumer) -> dict[str, Any]:
    return {"project": {"name": PROJECT}, "localstack": {"endpoint_url": consumer.endpoint_url},
            "components": {"stock": ["storage", "parameters"], "plugins": ["pipeline"]},
            "delivery": {"pipeline": {"deliver": "dev", "dev_approval": True, "install": "invoke --version",
                                      "test": TEST}},
            "environments": {"tooling": {"account_id": TOOLING, "target": "localstack"},
                             "dev": {"account_id": "262626262626", "target": "localstack"}}}


def _archive(consumer: Consumer, config: dict[str, Any]) -> bytes:
    """The consumer repo as a source zip, this project's config as its dsplatform.yml."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(consumer.repo.rglob("*")):
            rel = path.relative_to(consumer.repo)
            if path.is_file() and rel.parts[0] != "build" and "__pycache__" not in rel.parts and rel.suffix != ".yml":
                archive.write(path, rel.as_posix())
        archive.writestr("dsplatform.yml", yaml.safe_dump(config, sort_keys=False))
    return buffer.getvalue()


def _stages(codepipeline: Any, name: str) -> dict[str, dict[str, Any]]:
    return {s["stageName"]: s for s in codepipeline.get_pipeline_state(name=name)["stageStates"]}


def test_the_pipeline_from_the_wheel_deploys_and_its_test_build_runs_the_wheels_invoke(consumer: Consumer) -> None:
    config = _config(consumer)
    (consumer.repo / CONFIG).write_text(yaml.safe_dump(config, sort_keys=False))
    options = ("--config", CONFIG)
    consumer.ok("invoke", "synth", "--env", "all", *options)
    assert (consumer.repo / "build" / "tooling" / f"{PROJECT}-tooling-pipeline.json").is_file()
    consumer.ok("invoke", "lint", "--env", "tooling", *options)
    # The diagram's default page is dsplatform's own docs/delivery.md, which a consumer lacks: one line, exit 2.
    diagram = consumer.run("invoke", "ci.diagram", *options)
    assert diagram.returncode == 2 and diagram.stderr.startswith("error: --doc 'docs/delivery.md': no such file"), \
        diagram.stderr[-2000:]

    try:
        consumer.ok("invoke", "deploy", "--env", "tooling", *options)
        outputs = json.loads(consumer.ok("invoke", "outputs", "--env", "tooling", *options, "--json"))
        pipeline = outputs[f"{PROJECT}-tooling-pipeline"]
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
                                 Body=_archive(consumer, config))
        seen = {r["pipelineExecutionId"] for r in before}
        (started,) = WAIT.until(lambda: [r for r in runs() if r["pipelineExecutionId"] not in seen], bool,
                                what="the archive to start a run")

        def at_approval(stages: dict[str, dict[str, Any]]) -> bool:
            test = stages.get("Test", {}).get("latestExecution", {})
            assert test.get("status") != "Failed", stages["Test"]
            return test.get("pipelineExecutionId") == started["pipelineExecutionId"] and \
                test.get("status") == "Succeeded"

        WAIT.until(lambda: _stages(codepipeline, name), at_approval, what="the Test build to succeed")
    finally:
        destroyed = consumer.run("invoke", "destroy", "--env", "tooling", *options, "--purge-data", "--json")
    ok(destroyed)
