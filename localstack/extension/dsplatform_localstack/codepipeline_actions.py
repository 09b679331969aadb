"""CodePipeline actions run for real: S3 source, CodeBuild build/test, manual approval, CloudFormation deploy.

Each action reads its input artifacts from the pipeline's artifact store and writes its outputs there, under
`<pipeline[:20]>/<artifact[:20]>/<random>` as CodePipeline names them.
"""

from __future__ import annotations

import io
import json
import threading
import uuid
import zipfile
from dataclasses import dataclass, field
from typing import Any

from dsplatform_localstack import codebuild_service, codepipeline_cfn
from dsplatform_localstack.codebuild_io import client
from dsplatform_localstack.codepipeline_events import approval_message


class ActionFailed(Exception):
    """The action failed: ``code`` (JobFailed, ...) and a message, reported in the action's errorDetails."""

    def __init__(self, message: str, code: str = "JobFailed") -> None:
        super().__init__(message)
        self.code = code


@dataclass
class ActionRun:
    """One action execution: what it reads and writes, and what GetPipelineState reports of it."""

    account_id: str
    region: str
    pipeline: str
    stage: str
    action: dict[str, Any]
    execution_id: str
    store: str  # the artifact store's bucket
    inputs: dict[str, dict[str, str]]  # artifact name -> {"bucket", "key"}
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    summary: str | None = None
    external_id: str | None = None
    external_url: str | None = None
    revision: str | None = None
    token: str | None = None
    variables: dict[str, str] = field(default_factory=dict)  # the action's output namespace
    stopping: threading.Event = field(default_factory=threading.Event)  # any stop: approvals end
    abandoned: threading.Event = field(default_factory=threading.Event)  # stop with abandon: builds are stopped
    _answer: dict[str, Any] | None = None
    _answered: threading.Event = field(default_factory=threading.Event)

    @property
    def config(self) -> dict[str, Any]:
        """The action's configuration map."""
        return self.action.get("configuration") or {}

    def output_location(self, name: str) -> dict[str, str]:
        """A fresh artifact-store key for output artifact ``name``."""
        key = f"{self.pipeline[:20]}/{name[:20]}/{uuid.uuid4().hex[:7]}"
        location = {"bucket": self.store, "key": key}
        self.outputs[name] = location
        return location

    def answer(self, status: str, summary: str | None) -> None:
        """PutApprovalResult reached this approval."""
        self._answer = {"status": status, "summary": summary}
        self._answered.set()


def run(action: ActionRun) -> None:
    """Run the action to completion; ActionFailed when it fails."""
    type_id = action.action["actionTypeId"]
    key = (type_id["category"], type_id["owner"], type_id["provider"])
    handler = _HANDLERS.get(key)
    if handler is None:
        raise ActionFailed(f"Action type {'/'.join(key)} is not emulated by the dsplatform LocalStack extension "
                           f"(S3 source, CodeBuild build/test, manual approval and CloudFormation deploy are)",
                           "JobFailed")
    role = action.action.get("roleArn")
    if role:
        _check_role(action, str(role))
    handler(action)


def _check_role(action: ActionRun, role: str) -> None:
    """The action's role must exist in its account (CodePipeline would fail to assume it otherwise)."""
    name = role.rsplit("/", 1)[-1]
    try:
        client("iam", action.account_id, action.region).get_role(RoleName=name)
    except Exception:
        raise ActionFailed(f"CodePipeline is not authorized to perform AssumeRole on role {role}",
                           "PermissionError") from None


def _s3_source(action: ActionRun) -> None:
    bucket, key = action.config.get("S3Bucket"), action.config.get("S3ObjectKey")
    s3 = client("s3", action.account_id, action.region)
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except Exception:
        raise ActionFailed(f"The object with key '{key}' does not exist in bucket '{bucket}'. "
                           f"Please ensure the object exists and that CodePipeline has access.") from None
    for artifact in action.action.get("outputArtifacts") or []:
        target = action.output_location(artifact["name"])
        s3.copy_object(Bucket=target["bucket"], Key=target["key"], CopySource={"Bucket": bucket, "Key": key})
    action.revision = str(head.get("VersionId") or head.get("ETag", "").strip('"'))
    action.variables = {"ETag": head.get("ETag", "").strip('"'), "ObjectKey": str(key)}
    if head.get("VersionId"):
        action.variables["VersionId"] = str(head["VersionId"])
    action.summary = (head.get("Metadata") or {}).get("codepipeline-artifact-revision-summary")


def _codebuild(action: ActionRun) -> None:
    config = action.config
    inputs = [{"name": a["name"], **action.inputs[a["name"]]} for a in action.action.get("inputArtifacts") or []]
    primary = config.get("PrimarySource")
    if primary:
        inputs.sort(key=lambda item: item["name"] != primary)
    outputs = [{"name": a["name"], **action.output_location(a["name"])}
               for a in action.action.get("outputArtifacts") or []]
    request: dict[str, Any] = {"projectName": config["ProjectName"]}
    if config.get("EnvironmentVariables"):
        request["environmentVariablesOverride"] = json.loads(config["EnvironmentVariables"])
    try:
        build = codebuild_service.start(action.account_id, action.region, request,
                                        f"codepipeline/{action.pipeline}", {"inputs": inputs, "outputs": outputs})
    except Exception as err:
        raise ActionFailed(str(err)) from None
    action.external_id = build.record["id"]
    action.external_url = (f"https://console.aws.amazon.com/codebuild/home?region={action.region}#/builds/"
                           f"{build.record['id']}/view/new")
    while not build.done.wait(0.2):
        if action.abandoned.is_set():
            build.stop()
    record = build.record
    action.variables = {v["name"]: v["value"] for v in record.get("exportedEnvironmentVariables") or []}
    if record["buildStatus"] != "SUCCEEDED":
        failed: dict[str, Any] = next(
            (p for p in record["phases"] if p.get("phaseStatus") not in (None, "SUCCEEDED")), {})
        context = (failed.get("contexts") or [{}])[0]
        raise ActionFailed(f"Build terminated with state: {record['buildStatus']}. Phase: {failed.get('phaseType')}, "
                           f"Code: {context.get('statusCode')}, Message: {context.get('message')}")


def _approval(action: ActionRun) -> None:
    action.token = action.token or str(uuid.uuid4())
    approval_message(action.account_id, action.region, action.pipeline, action.stage, action.action, action.token)
    while not action._answered.wait(0.2):
        if action.stopping.is_set():
            raise ActionFailed("The pipeline execution was stopped", "JobFailed")
    answer = action._answer or {}
    action.summary = answer.get("summary")
    if answer.get("status") != "Approved":
        raise ActionFailed(f"Rejected: {answer.get('summary') or ''}".rstrip(": "), "JobFailed")


def artifact_file(action: ActionRun, path: str) -> str:
    """The text of `ArtifactName::path/in/zip` from an input artifact (TemplatePath, TemplateConfiguration)."""
    name, _, inner = path.partition("::")
    if name not in action.inputs:
        raise ActionFailed(f"Input artifact {name!r} of {path!r} is not an input of action {action.action['name']}")
    location = action.inputs[name]
    body = client("s3", action.account_id, action.region).get_object(
        Bucket=location["bucket"], Key=location["key"])["Body"].read()
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return archive.read(inner).decode("utf-8")
    except KeyError:
        raise ActionFailed(f"File {inner!r} does not exist in artifact {name!r}") from None
    except zipfile.BadZipFile:
        raise ActionFailed(f"Artifact {name!r} is not a zip archive") from None


def _cloudformation(action: ActionRun) -> None:
    try:
        codepipeline_cfn.deploy(action, artifact_file)
    except codepipeline_cfn.DeployFailed as err:
        raise ActionFailed(str(err)) from None


_HANDLERS = {
    ("Source", "AWS", "S3"): _s3_source,
    ("Build", "AWS", "CodeBuild"): _codebuild,
    ("Test", "AWS", "CodeBuild"): _codebuild,
    ("Approval", "AWS", "Manual"): _approval,
    ("Deploy", "AWS", "CloudFormation"): _cloudformation,
}
