"""CodeBuild as a LocalStack service: projects kept in moto's backend, builds run for real (codebuild_runner).

CreateProject/UpdateProject are served here (moto's own validation asks a source location of CODEPIPELINE
projects, which AWS does not); StartBuild, BatchGetBuilds, ListBuildsForProject, ListBuilds and StopBuild use
this module's build store; every other operation goes to moto.
"""

from __future__ import annotations

import copy
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from localstack.runtime import hooks
from localstack.services.plugins import Service, aws_provider

from dsplatform_localstack.codebuild_runner import BuildRun

_BUILDS: dict[tuple[str, str], dict[str, BuildRun]] = {}
_LOCK = threading.Lock()
_SOURCE_TYPES = ("S3", "CODEPIPELINE", "NO_SOURCE", "GITHUB", "CODECOMMIT", "BITBUCKET", "GITHUB_ENTERPRISE",
                 "GITLAB", "GITLAB_SELF_MANAGED")
_ARTIFACT_TYPES = ("S3", "CODEPIPELINE", "NO_ARTIFACTS")


def error(code: str, message: str, status: int = 400) -> Exception:
    """A CodeBuild error as AWS answers it."""
    from localstack.aws.api import CommonServiceException

    return CommonServiceException(code, message, status_code=status, sender_fault=status < 500)


def backend(account_id: str, region: str) -> Any:
    """moto's CodeBuild backend of that account and region (the project store)."""
    from moto.codebuild.models import codebuild_backends

    return codebuild_backends[account_id][region]


def _validate(request: dict[str, Any]) -> None:
    source, artifacts = request.get("source") or {}, request.get("artifacts") or {}
    env = request.get("environment") or {}
    if source.get("type") not in _SOURCE_TYPES:
        raise error("InvalidInputException", f"Invalid type provided: Project source type {source.get('type')!r}")
    if source.get("type") in ("S3",) and not source.get("location"):
        raise error("InvalidInputException", "Project source location is required")
    if source.get("type") == "NO_SOURCE" and not source.get("buildspec"):
        raise error("InvalidInputException", "Project source buildspec is required for NO_SOURCE")
    if artifacts.get("type") not in _ARTIFACT_TYPES:
        raise error("InvalidInputException", f"Invalid type provided: Artifact type {artifacts.get('type')!r}")
    if artifacts.get("type") == "S3" and not artifacts.get("location"):
        raise error("InvalidInputException", "Artifacts location is required for S3 artifacts")
    if (source.get("type") == "CODEPIPELINE") != (artifacts.get("type") == "CODEPIPELINE"):
        raise error("InvalidInputException", "Both source and artifacts must be set to CodePipeline")
    for key in ("type", "image", "computeType"):
        if not env.get(key):
            raise error("InvalidInputException", f"Project environment {key} is required")
    if not str(request.get("serviceRole", "")).startswith("arn:"):
        raise error("InvalidInputException", "Invalid service role: Service role ARN is required")


def create_project(context: Any, request: dict[str, Any]) -> dict[str, Any]:
    """CreateProject: validated as AWS does, stored in moto's backend."""
    store = backend(context.account_id, context.region)
    name = request["name"]
    if name in store.codebuild_projects:
        raise error("ResourceAlreadyExistsException",
                    f"Project already exists: arn:aws:codebuild:{context.region}:{context.account_id}:project/{name}")
    _validate(request)
    metadata = store.create_project(
        name, request.get("description"), request["source"], request["artifacts"], request["environment"],
        request["serviceRole"], request.get("tags"), request.get("cache"), request.get("timeoutInMinutes") or 60,
        request.get("queuedTimeoutInMinutes") or 480, request.get("sourceVersion"), request.get("logsConfig"),
        request.get("vpcConfig"))
    for key in ("secondarySources", "encryptionKey", "concurrentBuildLimit"):
        if request.get(key):
            metadata[key] = request[key]
    return {"project": metadata}


def update_project(context: Any, request: dict[str, Any]) -> dict[str, Any]:
    """UpdateProject: the given fields replace the stored ones."""
    project = backend(context.account_id, context.region).codebuild_projects.get(request["name"])
    if project is None:
        raise error("ResourceNotFoundException", f"Project cannot be found: {request['name']}")
    metadata = project.project_metadata
    merged = {**metadata, **{k: v for k, v in request.items() if v is not None}}
    _validate(merged)
    for key, value in request.items():
        if value is not None and key != "name":
            metadata[key] = value
    if request.get("serviceRole"):
        project.service_role = request["serviceRole"]
    metadata["lastModifiedDate"] = time.time()  # moto's store keeps epoch seconds (it serializes with json)
    return {"project": metadata}


def _record(account_id: str, region: str, project: dict[str, Any], request: dict[str, Any], initiator: str
            ) -> dict[str, Any]:
    name = project["name"]
    build_id = f"{name}:{uuid.uuid4()}"
    now = datetime.now(UTC)
    source = copy.deepcopy(project["source"])
    if request.get("sourceTypeOverride"):
        source["type"] = request["sourceTypeOverride"]
    if request.get("sourceLocationOverride"):
        source["location"] = request["sourceLocationOverride"]
    if request.get("buildspecOverride"):
        source["buildspec"] = request["buildspecOverride"]
    environment = copy.deepcopy(project["environment"])
    if request.get("imageOverride"):
        environment["image"] = request["imageOverride"]
    variables = {v["name"]: v for v in environment.get("environmentVariables") or []}
    variables.update({v["name"]: v for v in request.get("environmentVariablesOverride") or []})
    environment["environmentVariables"] = list(variables.values())
    with _LOCK:
        builds = _BUILDS.setdefault((account_id, region), {})
        number = 1 + sum(1 for run in builds.values() if run.record["projectName"] == name)
    return {
        "id": build_id, "arn": f"arn:aws:codebuild:{region}:{account_id}:build/{build_id}", "buildNumber": number,
        "startTime": now, "currentPhase": "SUBMITTED", "buildStatus": "IN_PROGRESS", "projectName": name,
        "sourceVersion": request.get("sourceVersion") or project.get("sourceVersion"),
        "phases": [{"phaseType": "SUBMITTED", "phaseStatus": "SUCCEEDED", "startTime": now, "endTime": now,
                    "durationInSeconds": 0}],
        "source": source, "secondarySources": project.get("secondarySources") or [], "artifacts": {},
        "environment": environment, "serviceRole": project["serviceRole"], "buildComplete": False,
        "timeoutInMinutes": int(request.get("timeoutInMinutesOverride") or project.get("timeoutInMinutes") or 60),
        "queuedTimeoutInMinutes": int(project.get("queuedTimeoutInMinutes") or 480), "initiator": initiator,
        "encryptionKey": project.get("encryptionKey") or f"arn:aws:kms:{region}:{account_id}:alias/aws/s3",
        # Keys set later are present from the start (None is not serialized): see BuildRun._phase.
        "resolvedSourceVersion": None, "logs": None, "exportedEnvironmentVariables": None, "endTime": None,
        "_secondaryDirs": {},
        "_artifactsConfig": request.get("artifactsOverride") or project.get("artifacts"),
        "_logsConfig": request.get("logsConfigOverride") or project.get("logsConfig"),
    }


def start(account_id: str, region: str, request: dict[str, Any], initiator: str,
          pipeline_artifacts: dict[str, Any] | None = None) -> BuildRun:
    """Start a build of ``request['projectName']`` (the StartBuild request) in the background; its run."""
    name = request["projectName"].split("/")[-1]
    project = backend(account_id, region).codebuild_projects.get(name)
    if project is None:
        raise error("ResourceNotFoundException",
                    f"Project cannot be found: arn:aws:codebuild:{region}:{account_id}:project/{name}")
    record = _record(account_id, region, project.project_metadata, request, initiator)
    run = BuildRun(record, project.project_metadata, request, account_id, region, pipeline_artifacts)
    with _LOCK:
        _BUILDS.setdefault((account_id, region), {})[record["id"]] = run
    run.start()
    return run


def public(record: dict[str, Any]) -> dict[str, Any]:
    """A build record as the API returns it (a copy, without the runner's private keys)."""
    return {k: copy.deepcopy(v) for k, v in list(record.items()) if not k.startswith("_")}


def find(account_id: str, region: str, build_id: str) -> BuildRun | None:
    """The run of a build id (or ARN) in that account and region."""
    build_id = build_id.split(":build/", 1)[-1]
    return _BUILDS.get((account_id, region), {}).get(build_id)


def start_build(context: Any, request: dict[str, Any]) -> dict[str, Any]:
    """StartBuild."""
    run = start(context.account_id, context.region, dict(request), "root")
    return {"build": public(run.record)}


def batch_get_builds(context: Any, request: dict[str, Any]) -> dict[str, Any]:
    """BatchGetBuilds: known builds and the ids not found."""
    found, missing = [], []
    for build_id in request["ids"]:
        run = find(context.account_id, context.region, build_id)
        (found.append(public(run.record)) if run else missing.append(build_id))
    return {"builds": found, "buildsNotFound": missing}


def _ids(context: Any, project: str | None, order: str | None) -> list[str]:
    runs = list(_BUILDS.get((context.account_id, context.region), {}).values())
    ids = [r.record["id"] for r in sorted(runs, key=lambda r: r.record["startTime"])
           if project is None or r.record["projectName"] == project]
    return ids if order == "ASCENDING" else ids[::-1]


def list_builds_for_project(context: Any, request: dict[str, Any]) -> dict[str, Any]:
    """ListBuildsForProject (newest first unless sortOrder is ASCENDING)."""
    name = request["projectName"]
    if name not in backend(context.account_id, context.region).codebuild_projects:
        raise error("ResourceNotFoundException", f"The provided project name could not be found: {name}")
    return {"ids": _ids(context, name, request.get("sortOrder"))}


def list_builds(context: Any, request: dict[str, Any]) -> dict[str, Any]:
    """ListBuilds."""
    return {"ids": _ids(context, None, request.get("sortOrder"))}


def stop_build(context: Any, request: dict[str, Any]) -> dict[str, Any]:
    """StopBuild: the running command is killed; the build ends STOPPED."""
    run = find(context.account_id, context.region, request["id"])
    if run is None:
        raise error("ResourceNotFoundException", f"Build {request['id']} does not exist")
    run.stop()
    run.done.wait(10)
    return {"build": public(run.record)}


def delete_project(context: Any, request: dict[str, Any]) -> dict[str, Any]:
    """DeleteProject (a missing project is fine, as on AWS)."""
    store = backend(context.account_id, context.region)
    store.codebuild_projects.pop(request["name"].split("/")[-1], None)
    return {}


@aws_provider(api="codebuild")
def codebuild() -> Service:
    """CodeBuild: projects in moto, builds run as local processes."""
    from localstack.aws.skeleton import Skeleton
    from localstack.aws.spec import load_service
    from localstack.services.moto import call_moto

    model = load_service("codebuild")

    def _forward(context, _request):  # type: ignore[no-untyped-def]
        return call_moto(context)

    table: dict[str, Any] = {operation: _forward for operation in model.operation_names}
    table.update(CreateProject=create_project, UpdateProject=update_project, StartBuild=start_build,
                 BatchGetBuilds=batch_get_builds, ListBuildsForProject=list_builds_for_project,
                 ListBuilds=list_builds, StopBuild=stop_build, DeleteProject=delete_project)
    return Service(name="codebuild", skeleton=Skeleton(model, table))


@hooks.on_infra_shutdown()
def stop_builds() -> None:
    """Stop every running build's command, so no build process outlives LocalStack."""
    with _LOCK:
        runs = [run for builds in _BUILDS.values() for run in builds.values()]
    for run in runs:
        if not run.done.is_set():
            run.stop()
