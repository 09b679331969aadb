"""A build's inputs and outputs: its source from S3 (or a pipeline's artifact), its environment, its CloudWatch
logs and its zipped output artifacts, through LocalStack's own S3, SSM, Secrets Manager and Logs."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

from dsplatform_localstack.codebuild_buildspec import Buildspec, is_inline

LOG = logging.getLogger(__name__)
_BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_FLUSH_SECONDS = 0.3


class SourceError(Exception):
    """The source, a parameter or an artifact location can't be read or written (the build fails with this)."""


def client(service: str, account_id: str, region: str) -> Any:
    """An internal client of this LocalStack in the build's account and region."""
    from localstack.aws.connect import connect_to

    return connect_to(aws_access_key_id=account_id, aws_secret_access_key="test", region_name=region).get_client(
        service)


def put_event(account_id: str, region: str, source: str, detail_type: str, detail: dict[str, Any],
              resources: list[str]) -> None:
    """Put one AWS service event on the account's default bus (rules see it as on AWS); failures are logged."""
    entry = {"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail, default=str),
             "Resources": resources, "EventBusName": "default"}
    try:
        result = client("events", account_id, region).put_events(Entries=[entry])
        if result.get("FailedEntryCount"):
            LOG.warning("event %s not put: %s", detail_type, result["Entries"])
    except Exception:
        LOG.exception("could not put event %s", detail_type)


def split_location(location: str) -> tuple[str, str]:
    """`bucket/key` or `arn:aws:s3:::bucket/key` -> (bucket, key)."""
    location = location.removeprefix("arn:aws:s3:::").removeprefix("s3://")
    bucket, _, key = location.partition("/")
    return bucket, key


def _unpack(body: bytes, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        for info in archive.infolist():
            if info.filename.startswith("/") or ".." in Path(info.filename).parts:
                raise SourceError(f"CLIENT_ERROR: unsafe path {info.filename!r} in the source archive")
            archive.extract(info, target)
            mode = info.external_attr >> 16
            if mode and not info.is_dir():
                os.chmod(target / info.filename, mode & 0o777)


def _download(s3: Any, location: str, target: Path) -> str:
    """A zip object is unpacked; a `prefix/` location is copied object by object. Returns the version."""
    bucket, key = split_location(location)
    try:
        if key.endswith("/") or not key:
            target.mkdir(parents=True, exist_ok=True)
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key):
                for item in page.get("Contents", []):
                    destination = target / item["Key"][len(key):]
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    destination.write_bytes(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
            return key
        response = s3.get_object(Bucket=bucket, Key=key)
    except Exception as err:
        raise SourceError(f"CLIENT_ERROR: error while downloading source s3://{bucket}/{key}: {err}") from None
    body = response["Body"].read()
    try:
        _unpack(body, target)
    except zipfile.BadZipFile:
        raise SourceError(f"CLIENT_ERROR: s3://{bucket}/{key} is not a zip archive") from None
    return str(response.get("VersionId") or response.get("ETag", "").strip('"'))


def fetch_source(account_id: str, region: str, record: dict[str, Any], pipeline: dict[str, Any],
                 target: Path) -> str:
    """Put the build's source into ``target`` (secondary pipeline inputs beside it); the resolved version."""
    s3 = client("s3", account_id, region)
    source = record["source"]
    inputs = pipeline.get("inputs") or []
    if source.get("type") == "CODEPIPELINE" or inputs:
        if not inputs:
            raise SourceError("CLIENT_ERROR: a CODEPIPELINE source builds only inside a pipeline execution")
        resolved = _download(s3, f"{inputs[0]['bucket']}/{inputs[0]['key']}", target)
        for extra in inputs[1:]:
            path = target.parent / f"src_{extra['name']}"
            _download(s3, f"{extra['bucket']}/{extra['key']}", path)
            record["_secondaryDirs"][extra["name"]] = str(path)
        return resolved
    if source.get("type") == "NO_SOURCE":
        target.mkdir(parents=True, exist_ok=True)
        return ""
    if source.get("type") != "S3":
        raise SourceError(f"CLIENT_ERROR: source type {source.get('type')} is not emulated locally (S3, "
                          f"CODEPIPELINE and NO_SOURCE are)")
    location = source.get("location", "")
    return _download(s3, location, target) if not record.get("sourceVersion") else _download_version(
        s3, location, record["sourceVersion"], target)


def _download_version(s3: Any, location: str, version: str, target: Path) -> str:
    bucket, key = split_location(location)
    try:
        body = s3.get_object(Bucket=bucket, Key=key, VersionId=version)["Body"].read()
    except Exception as err:
        raise SourceError(f"CLIENT_ERROR: error while downloading source s3://{bucket}/{key}: {err}") from None
    _unpack(body, target)
    return version


def buildspec_text(record: dict[str, Any], source_dir: Path) -> str:
    """The buildspec: inline from the project (or override), else the named file (buildspec.yml) in the source."""
    buildspec = record["source"].get("buildspec") or "buildspec.yml"
    if is_inline(buildspec):
        return str(buildspec)
    path = source_dir / buildspec
    if not path.is_file():
        raise SourceError(f"YAML_FILE_ERROR: stat {path.relative_to(source_dir.parent)}: no such file or directory")
    return path.read_text()


def _parameter(account_id: str, region: str, name: str) -> str:
    try:
        return str(client("ssm", account_id, region).get_parameter(Name=name, WithDecryption=True)["Parameter"][
            "Value"])
    except Exception:
        raise SourceError(f"Parameter Store: parameter {name} does not exist or can't be read") from None


def _secret(account_id: str, region: str, reference: str) -> str:
    """`secret-id[:json-key[:version-stage[:version-id]]]`, the secret id a name or an ARN (7 parts)."""
    parts = reference.split(":")
    head = 7 if reference.startswith("arn:") else 1
    secret_id = ":".join(parts[:head])
    json_key, stage, version = [*parts[head:], "", "", ""][:3]
    kwargs = {"VersionStage": stage} if stage else {}
    if version:
        kwargs = {"VersionId": version}
    try:
        value = str(client("secretsmanager", account_id, region).get_secret_value(SecretId=secret_id, **kwargs)[
            "SecretString"])
    except Exception:
        raise SourceError(f"Secrets Manager: secret {secret_id} does not exist or can't be read") from None
    return str(json.loads(value)[json_key]) if json_key else value


def gateway_url() -> str:
    """This LocalStack's gateway, as a build's SDK must reach it."""
    from dsplatform_localstack.ecs_runner import gateway_url as url

    return url()


def environment(account_id: str, region: str, record: dict[str, Any], spec: Buildspec, source_dir: Path
                ) -> dict[str, str]:
    """Base + CODEBUILD_* + AWS settings for this LocalStack + buildspec env < project env < StartBuild overrides."""
    extra_path = os.environ.get("DSPLATFORM_CODEBUILD_PATH", "")
    env = {"PATH": f"{extra_path}:{_BASE_PATH}" if extra_path else _BASE_PATH,
           "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1"}
    build_id = record["id"]
    env.update({
        "CODEBUILD_BUILD_ID": build_id, "CODEBUILD_BUILD_ARN": record["arn"],
        "CODEBUILD_BUILD_NUMBER": str(record["buildNumber"]), "CODEBUILD_BUILD_IMAGE": record["environment"]["image"],
        "CODEBUILD_INITIATOR": record["initiator"], "CODEBUILD_SRC_DIR": str(source_dir),
        "CODEBUILD_SOURCE_VERSION": str(record.get("sourceVersion") or record.get("resolvedSourceVersion") or ""),
        "CODEBUILD_RESOLVED_SOURCE_VERSION": str(record.get("resolvedSourceVersion") or ""),
        "CODEBUILD_START_TIME": str(int(record["startTime"].timestamp() * 1000)),
        "CODEBUILD_KMS_KEY_ID": record.get("encryptionKey", ""), "CODEBUILD_LOG_PATH": build_id.split(":", 1)[1],
        "CODEBUILD_BUILD_SUCCEEDING": "1", "CODEBUILD_CI": "true",
        "CODEBUILD_SOURCE_REPO_URL": record["source"].get("location", ""),
        "AWS_REGION": region, "AWS_DEFAULT_REGION": region, "AWS_ENDPOINT_URL": gateway_url(),
        "AWS_ACCESS_KEY_ID": account_id, "AWS_SECRET_ACCESS_KEY": "test",
    })
    for name, path in record["_secondaryDirs"].items():
        env[f"CODEBUILD_SRC_DIR_{name}"] = path
    env.update(spec.variables)
    env.update({name: _parameter(account_id, region, ref) for name, ref in spec.parameter_store.items()})
    env.update({name: _secret(account_id, region, ref) for name, ref in spec.secrets_manager.items()})
    for variable in record["environment"].get("environmentVariables") or []:
        kind, value = variable.get("type", "PLAINTEXT"), str(variable.get("value", ""))
        if kind == "PARAMETER_STORE":
            value = _parameter(account_id, region, value)
        elif kind == "SECRETS_MANAGER":
            value = _secret(account_id, region, value)
        env[variable["name"]] = value
    return env


def _selected(spec: Buildspec, source_dir: Path) -> list[tuple[Path, str]]:
    base = (source_dir / spec.base_directory) if spec.base_directory else source_dir
    chosen: dict[str, Path] = {}
    for pattern in spec.artifact_files:
        matches = [base / pattern] if (base / pattern).is_file() else sorted(base.glob(pattern))
        for path in matches:
            if path.is_file():
                name = path.name if spec.discard_paths else str(path.relative_to(base))
                chosen[name] = path
    return [(path, name) for name, path in sorted(chosen.items())]


def _zip(files: list[tuple[Path, str]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, name in files:
            archive.write(path, name)
    return buffer.getvalue()


def upload_artifacts(account_id: str, region: str, record: dict[str, Any], spec: Buildspec, source_dir: Path,
                     pipeline: dict[str, Any]) -> dict[str, Any]:
    """Zip the buildspec's artifact files to the pipeline's output artifact or the project's S3 location."""
    artifacts = dict(record.get("_artifactsConfig") or {})
    outputs = pipeline.get("outputs") or []
    kind = "CODEPIPELINE" if outputs else artifacts.get("type", "NO_ARTIFACTS")
    if kind == "NO_ARTIFACTS" or (kind == "CODEPIPELINE" and not outputs):
        return {}
    files = _selected(spec, source_dir)
    if not files:
        raise SourceError("CLIENT_ERROR: no matching artifact paths found")
    s3 = client("s3", account_id, region)
    if kind == "CODEPIPELINE":
        s3.put_object(Bucket=outputs[0]["bucket"], Key=outputs[0]["key"], Body=_zip(files))
        return {"location": f"arn:aws:s3:::{outputs[0]['bucket']}/{outputs[0]['key']}"}
    bucket = artifacts["location"]
    namespace = record["id"].split(":", 1)[1] if artifacts.get("namespaceType") == "BUILD_ID" else ""
    key = "/".join(p for p in (artifacts.get("path", ""), namespace, artifacts.get("name") or
                               record["projectName"]) if p)
    if artifacts.get("packaging") == "ZIP":
        s3.put_object(Bucket=bucket, Key=key, Body=_zip(files))
    else:
        for path, name in files:
            s3.put_object(Bucket=bucket, Key=f"{key}/{name}", Body=path.read_bytes())
    return {"location": f"arn:aws:s3:::{bucket}/{key}"}


class BuildLogs:
    """The build's output lines, batched to its CloudWatch Logs group and stream."""

    def __init__(self, logs: Any, group: str, stream: str) -> None:
        self.client, self.group, self.stream = logs, group, stream
        self._lines: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name=f"codebuild-logs-{stream}")

    @classmethod
    def open(cls, account_id: str, region: str, record: dict[str, Any]) -> BuildLogs | None:
        """Create the group (if missing) and stream; fill the build's `logs` field. None when logs are disabled."""
        config = (record.get("_logsConfig") or {}).get("cloudWatchLogs") or {}
        if config.get("status") == "DISABLED":
            record["logs"] = {"cloudWatchLogs": {"status": "DISABLED"}}
            return None
        build_uuid = record["id"].split(":", 1)[1]
        group = config.get("groupName") or f"/aws/codebuild/{record['projectName']}"
        stream = f"{config['streamName']}/{build_uuid}" if config.get("streamName") else build_uuid
        logs = client("logs", account_id, region)
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        record["logs"] = {
            "groupName": group, "streamName": stream,
            "deepLink": f"https://console.aws.amazon.com/cloudwatch/home?region={region}#logEvent:group={group};"
                        f"stream={stream}",
            "cloudWatchLogsArn": f"arn:aws:logs:{region}:{account_id}:log-group:{group}:log-stream:{stream}",
            "cloudWatchLogs": {"status": "ENABLED", **({"groupName": group} if config.get("groupName") else {})},
        }
        shipper = cls(logs, group, stream)
        shipper._thread.start()
        return shipper

    def line(self, message: str) -> None:
        """Buffer one line."""
        with self._lock:
            self._lines.append({"timestamp": int(time.time() * 1000), "message": message or " "})

    def _loop(self) -> None:
        while not self._done.wait(_FLUSH_SECONDS):
            self.flush()

    def flush(self) -> None:
        """Put the buffered lines now."""
        with self._lock:
            lines, self._lines = self._lines, []
        for start in range(0, len(lines), 500):
            self.client.put_log_events(logGroupName=self.group, logStreamName=self.stream,
                                       logEvents=lines[start:start + 500])

    def close(self) -> None:
        """Stop the flusher and put what is left."""
        self._done.set()
        self._thread.join(timeout=5)
        self.flush()
