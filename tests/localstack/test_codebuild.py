"""CodeBuild builds run for real: buildspec phases as local commands, exit codes deciding, env vars from the
buildspec, the project (Parameter Store too) and StartBuild, logs in CloudWatch, artifacts zipped to S3."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.localstack.cicd_support import ENVIRONMENT, ROLE, log_lines, unzipped, wait_build, zipped
from tests.localstack.support import ACCOUNT, unique

pytestmark = pytest.mark.localstack

BUILDSPEC = """\
version: 0.2
env:
  variables:
    FROM_SPEC: spec
    OVERRIDDEN: by-spec
  parameter-store:
    SPEC_PARAM: {param}
phases:
  install:
    commands:
      - mkdir -p out && cd out
      - export CARRIED=carried
  build:
    commands:
      - echo "spec=$FROM_SPEC param=$SPEC_PARAM project=$PROJECT_VAR secret=$PROJECT_PARAM over=$OVERRIDDEN" > env.txt
      - echo "token=$TOKEN" >> env.txt
      - echo "carried=$CARRIED cwd=$(basename $PWD) src=$(basename $CODEBUILD_SRC_DIR)" >> env.txt
      - echo "id=$CODEBUILD_BUILD_ID initiator=$CODEBUILD_INITIATOR region=$AWS_REGION" >> env.txt
      - echo "resolved=$CODEBUILD_RESOLVED_SOURCE_VERSION endpoint=$AWS_ENDPOINT_URL" >> env.txt
      - cat $CODEBUILD_SRC_DIR/input.txt >> env.txt
      - sh $CODEBUILD_SRC_DIR/check.sh
    finally:
      - echo finally-ran
  post_build:
    commands:
      - echo "succeeding=$CODEBUILD_BUILD_SUCCEEDING"
artifacts:
  files:
    - out/env.txt
"""


@pytest.fixture(scope="module")
def world(localstack: Any) -> Iterator[dict[str, Any]]:
    """A source bucket, a parameter and a project whose buildspec comes from the source archive."""
    s3, ssm = localstack.client("s3", ACCOUNT), localstack.client("ssm", ACCOUNT)
    codebuild = localstack.client("codebuild", ACCOUNT)
    bucket, project, param = unique("cb-src"), unique("cb"), f"/{unique('cb')}/value"
    s3.create_bucket(Bucket=bucket)
    ssm.put_parameter(Name=param, Value="from-ssm", Type="String")
    ssm.put_parameter(Name=f"{param}-project", Value="project-ssm", Type="String")
    secret = localstack.client("secretsmanager", ACCOUNT).create_secret(
        Name=unique("cb"), SecretString=json.dumps({"token": "s3cr3t"}))["Name"]
    codebuild.create_project(
        name=project, source={"type": "S3", "location": f"{bucket}/source.zip"},
        artifacts={"type": "S3", "location": bucket, "packaging": "ZIP", "name": "out.zip"},
        environment={**ENVIRONMENT, "environmentVariables": [
            {"name": "PROJECT_VAR", "value": "pv", "type": "PLAINTEXT"},
            {"name": "PROJECT_PARAM", "value": f"{param}-project", "type": "PARAMETER_STORE"},
            {"name": "OVERRIDDEN", "value": "by-project"},
            {"name": "TOKEN", "value": f"{secret}:token", "type": "SECRETS_MANAGER"}]},
        serviceRole=ROLE, timeoutInMinutes=5)
    events, sqs = localstack.client("events", ACCOUNT), localstack.client("sqs", ACCOUNT)
    queue = sqs.create_queue(QueueName=project)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=project, EventPattern=json.dumps({
        "source": ["aws.codebuild"], "detail-type": ["CodeBuild Build State Change"],
        "detail": {"build-status": ["FAILED"], "project-name": [project]}}))
    events.put_targets(Rule=project, Targets=[{"Id": "queue", "Arn": queue_arn}])
    yield {"s3": s3, "codebuild": codebuild, "logs": localstack.client("logs", ACCOUNT), "bucket": bucket,
           "project": project, "param": param, "endpoint": localstack.endpoint_url, "sqs": sqs, "queue": queue}
    events.remove_targets(Rule=project, Ids=["queue"])
    events.delete_rule(Name=project)
    codebuild.delete_project(name=project)


def _source(world: dict[str, Any], check: str) -> None:
    world["s3"].put_object(Bucket=world["bucket"], Key="source.zip", Body=zipped({
        "buildspec.yml": BUILDSPEC.format(param=world["param"]), "input.txt": "from-source\n", "check.sh": check}))


def test_a_build_runs_its_phases_with_the_environment_and_uploads_its_artifact(world: dict[str, Any]) -> None:
    _source(world, "exit 0\n")
    codebuild = world["codebuild"]
    started = codebuild.start_build(projectName=world["project"], environmentVariablesOverride=[
        {"name": "OVERRIDDEN", "value": "by-start", "type": "PLAINTEXT"}])["build"]
    assert started["buildStatus"] == "IN_PROGRESS" and started["id"].startswith(f"{world['project']}:")
    build = wait_build(codebuild, started["id"])

    assert build["buildStatus"] == "SUCCEEDED" and build["currentPhase"] == "COMPLETED"
    phases = [(p["phaseType"], p.get("phaseStatus")) for p in build["phases"]]
    assert phases == [(name, "SUCCEEDED") for name in (
        "SUBMITTED", "QUEUED", "PROVISIONING", "DOWNLOAD_SOURCE", "INSTALL", "PRE_BUILD", "BUILD", "POST_BUILD",
        "UPLOAD_ARTIFACTS", "FINALIZING")] + [("COMPLETED", None)]
    archive = unzipped(world["s3"].get_object(Bucket=world["bucket"], Key="out.zip")["Body"].read())
    lines = archive["out/env.txt"].splitlines()
    assert lines[0] == "spec=spec param=from-ssm project=pv secret=project-ssm over=by-start"
    assert lines[1] == "token=s3cr3t"
    lines.pop(1)
    assert lines[1] == "carried=carried cwd=out src=src"
    assert lines[2] == f"id={build['id']} initiator=root region=us-east-1"
    assert lines[3] == f"resolved={build['resolvedSourceVersion']} endpoint={world['endpoint']}"
    assert lines[4] == "from-source"
    assert build["artifacts"]["location"] == f"arn:aws:s3:::{world['bucket']}/out.zip"
    assert build["logs"]["groupName"] == f"/aws/codebuild/{world['project']}"
    output = log_lines(world["logs"], build)
    assert "finally-ran" in output and "succeeding=1" in output
    assert any(line.endswith("Phase complete: BUILD State: SUCCEEDED") for line in output)
    assert codebuild.list_builds_for_project(projectName=world["project"])["ids"][0] == build["id"]


def test_a_failing_command_fails_its_phase_and_the_build_and_post_build_still_runs(world: dict[str, Any]) -> None:
    _source(world, "echo failing-test >&2\nexit 3\n")
    codebuild = world["codebuild"]
    build = wait_build(codebuild, codebuild.start_build(projectName=world["project"])["build"]["id"])

    assert build["buildStatus"] == "FAILED"
    status = {p["phaseType"]: p.get("phaseStatus") for p in build["phases"]}
    assert status["BUILD"] == "FAILED" and status["POST_BUILD"] == "SUCCEEDED" and status["INSTALL"] == "SUCCEEDED"
    failed = next(p for p in build["phases"] if p["phaseType"] == "BUILD")
    assert failed["contexts"] == [{"statusCode": "COMMAND_EXECUTION_ERROR", "message":
                                   "Error while executing command: sh $CODEBUILD_SRC_DIR/check.sh. "
                                   "Reason: exit status 3"}]
    output = log_lines(world["logs"], build)
    assert "failing-test" in output and "finally-ran" in output and "succeeding=0" in output
    message = world["sqs"].receive_message(QueueUrl=world["queue"], WaitTimeSeconds=5)["Messages"][0]
    event = json.loads(message["Body"])
    assert (event["source"], event["detail"]["build-id"], event["detail"]["current-phase"]) == (
        "aws.codebuild", build["arn"], "COMPLETED")


def test_a_failing_install_skips_the_build_and_stop_build_stops_a_running_one(world: dict[str, Any]) -> None:
    codebuild = world["codebuild"]
    failing = codebuild.start_build(projectName=world["project"], buildspecOverride=(
        "version: 0.2\nphases:\n  install:\n    commands:\n      - exit 1\n  build:\n    commands:\n"
        "      - echo never"))["build"]
    sleeping = codebuild.start_build(projectName=world["project"], buildspecOverride=(
        "version: 0.2\nphases:\n  build:\n    commands:\n      - sleep 60"))["build"]
    build = wait_build(codebuild, failing["id"])
    assert build["buildStatus"] == "FAILED"
    assert [(p["phaseType"], p.get("phaseStatus")) for p in build["phases"]][-3:] == [
        ("INSTALL", "FAILED"), ("FINALIZING", "SUCCEEDED"), ("COMPLETED", None)]
    assert "never" not in log_lines(world["logs"], build)

    stopped = codebuild.stop_build(id=sleeping["id"])["build"]
    assert stopped["buildStatus"] == "STOPPED"
    assert {p["phaseType"]: p.get("phaseStatus") for p in stopped["phases"]}["BUILD"] == "STOPPED"


def test_unknown_project_and_bad_buildspec_are_reported_as_aws_does(world: dict[str, Any]) -> None:
    codebuild = world["codebuild"]
    with pytest.raises(codebuild.exceptions.ResourceNotFoundException, match="Project cannot be found"):
        codebuild.start_build(projectName="no-such-project")
    build = wait_build(codebuild, codebuild.start_build(projectName=world["project"],
                                                        buildspecOverride="version: 9\nphases: {}\n")["build"]["id"])
    download = next(p for p in build["phases"] if p["phaseType"] == "DOWNLOAD_SOURCE")
    assert build["buildStatus"] == "FAILED" and download["phaseStatus"] == "FAILED"
    assert download["contexts"][0]["statusCode"] == "YAML_FILE_ERROR"
