"""One CodeBuild build run for real: source copied to a scratch folder, buildspec phases as local bash commands.

Phases and statuses follow CodeBuild: SUBMITTED, QUEUED, PROVISIONING, DOWNLOAD_SOURCE, INSTALL, PRE_BUILD,
BUILD, POST_BUILD, UPLOAD_ARTIFACTS, FINALIZING, COMPLETED. A failing INSTALL or PRE_BUILD skips to FINALIZING; a
failing BUILD still runs POST_BUILD (with CODEBUILD_BUILD_SUCCEEDING=0) and UPLOAD_ARTIFACTS. The exit code of a
command decides; the first failure's context is reported as AWS words it. Output goes to CloudWatch Logs.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dsplatform_localstack import codebuild_buildspec as specs
from dsplatform_localstack import codebuild_io as io
from dsplatform_localstack.codebuild_shell import Shell

LOG = logging.getLogger(__name__)
_COMMAND_PHASES = (("INSTALL", "install"), ("PRE_BUILD", "pre_build"), ("BUILD", "build"), ("POST_BUILD", "post_build"))


def _now() -> datetime:
    return datetime.now(UTC)


class BuildRun:
    """A build's record (the BatchGetBuilds shape) and the thread that runs it."""

    def __init__(self, record: dict[str, Any], project: dict[str, Any], request: dict[str, Any],
                 account_id: str, region: str, pipeline_artifacts: dict[str, Any] | None = None) -> None:
        self.record, self.project, self.request = record, project, request
        self.account_id, self.region = account_id, region
        self.pipeline_artifacts = pipeline_artifacts or {}  # {"inputs": [(name, s3 location)], "outputs": [...]}
        self.done = threading.Event()
        self.shell: Shell | None = None
        self._stop_requested = False
        self._failure: dict[str, str] | None = None
        self.logs: io.BuildLogs | None = None

    # --- record keeping ---
    def _phase(self, phase_type: str) -> dict[str, Any]:
        now = _now()
        phases = self.record["phases"]
        if phases and phases[-1].get("endTime") is None:
            self._end(phases[-1], "SUCCEEDED", now)
        # Every key from the start (None is not serialized): BatchGetBuilds copies records while this thread
        # updates them, and a dict must not change size while it is copied.
        entry: dict[str, Any] = {"phaseType": phase_type, "startTime": now, "phaseStatus": None, "endTime": None,
                                 "durationInSeconds": None, "contexts": None}
        phases.append(entry)
        self.record["currentPhase"] = phase_type
        return entry

    @staticmethod
    def _end(entry: dict[str, Any], status: str, now: datetime | None = None,
             context: dict[str, str] | None = None) -> None:
        now = now or _now()
        entry.update(phaseStatus=status, endTime=now,
                     durationInSeconds=int((now - entry["startTime"]).total_seconds()),
                     contexts=[context or {"statusCode": "", "message": ""}])

    def _log(self, line: str) -> None:
        if self.logs is not None:
            self.logs.line(line)

    def _container(self, message: str) -> None:
        self._log(f"[Container] {_now():%Y/%m/%d %H:%M:%S.%f}"[:-3] + f" {message}")

    # --- the run ---
    def start(self) -> None:
        """Run the build in a background thread."""
        threading.Thread(target=self._run, daemon=True, name=f"codebuild-{self.record['id']}").start()

    def stop(self) -> None:
        """StopBuild: the running command is killed; the build ends STOPPED."""
        self._stop_requested = True
        if self.shell is not None:
            self.shell.stop()

    def _event(self) -> None:
        """"CodeBuild Build State Change" (source aws.codebuild), as AWS sends it at start and end."""
        record = self.record
        context = self._failure or {}
        io.put_event(self.account_id, self.region, "aws.codebuild", "CodeBuild Build State Change", {
            "build-status": record["buildStatus"], "project-name": record["projectName"], "build-id": record["arn"],
            "current-phase": record["currentPhase"], "current-phase-context": str([context] if context else []),
            "version": "1", "additional-information": {
                "initiator": record["initiator"], "build-complete": record["buildComplete"],
                "build-start-time": record["startTime"].strftime("%b %d, %Y %I:%M:%S %p"),
                "source-version": record.get("sourceVersion"), "logs": {
                    k: (record.get("logs") or {}).get(k) for k in ("groupName", "streamName", "deepLink")}}},
            [record["arn"]])

    def _run(self) -> None:
        self._event()
        work = Path(tempfile.mkdtemp(prefix="codebuild-"))
        status = "FAILED"
        try:
            status = self._phases(work)
        except Exception as err:  # a fault of the emulation itself: the build fails with its reason, never hangs
            LOG.exception("build %s faulted", self.record["id"])
            entry = self.record["phases"][-1]
            if entry.get("endTime") is None:
                self._end(entry, "FAULT", context={"statusCode": "CLIENT_ERROR", "message": str(err)})
        finally:
            shutil.rmtree(work, ignore_errors=True)
            self._finish(status)

    def _phases(self, work: Path) -> str:
        started = time.monotonic()
        deadline = started + 60 * int(self.record.get("timeoutInMinutes") or 60)
        for phase_type in ("QUEUED", "PROVISIONING"):
            self._phase(phase_type)
        self.logs = io.BuildLogs.open(self.account_id, self.region, self.record)
        self._phase("DOWNLOAD_SOURCE")
        source_dir = work / "src"
        try:
            resolved = io.fetch_source(self.account_id, self.region, self.record, self.pipeline_artifacts, source_dir)
            self.record["resolvedSourceVersion"] = resolved
            spec = specs.parse(io.buildspec_text(self.record, source_dir))
            env = io.environment(self.account_id, self.region, self.record, spec, source_dir)
        except (io.SourceError, specs.BuildspecError) as err:
            return self._fail("DOWNLOAD_SOURCE", "CLIENT_ERROR" if isinstance(err, io.SourceError)
                              else "YAML_FILE_ERROR", str(err))
        if spec.ignored:  # said in the log, not silently dropped
            self._container(f"buildspec sections not emulated locally, ignored: {', '.join(spec.ignored)}")
        self.shell = Shell(work / "shell", source_dir, env, build=self.record["arn"])
        if self._stop_requested:
            self.shell.stop()
        succeeding = True
        for phase_type, name in _COMMAND_PHASES:
            if not succeeding and phase_type != "POST_BUILD":
                break
            entry = self._phase(phase_type)
            self._container(f"Entering phase {phase_type}")
            versions = spec.phases.get(name, specs.Phase()).runtime_versions
            if versions:  # said in the log, as the build image is not emulated
                self._container(f"runtime-versions {versions} not applied: this machine's tools are used")
            self.shell.set("CODEBUILD_BUILD_SUCCEEDING", "1" if succeeding else "0")
            outcome = self._commands(spec.phases.get(name, specs.Phase()), deadline)
            if outcome == "SUCCEEDED":
                self._end(entry, "SUCCEEDED")
            else:
                self._end(entry, outcome, context=self._failure)
                if outcome in ("TIMED_OUT", "STOPPED"):
                    self._container(f"Phase complete: {phase_type} State: {outcome}")
                    return self._skip_to_finalizing(outcome)
                succeeding = False
                self._container(f"Phase complete: {phase_type} State: FAILED")
                self._container(f"Phase context status code: {self._failure['statusCode'] if self._failure else ''} "
                                f"Message: {self._failure['message'] if self._failure else ''}")
                if phase_type in ("INSTALL", "PRE_BUILD"):
                    return self._skip_to_finalizing("FAILED")
                continue
            self._container(f"Phase complete: {phase_type} State: SUCCEEDED")
        if spec.exported_variables:
            values = self.shell.values(spec.exported_variables)
            self.record["exportedEnvironmentVariables"] = [{"name": k, "value": v} for k, v in values.items()]
        entry = self._phase("UPLOAD_ARTIFACTS")
        try:
            self.record["artifacts"] = io.upload_artifacts(self.account_id, self.region, self.record, spec,
                                                           source_dir, self.pipeline_artifacts)
        except io.SourceError as err:
            self._end(entry, "FAILED", context={"statusCode": "CLIENT_ERROR", "message": str(err)})
            return self._skip_to_finalizing("FAILED")
        return self._skip_to_finalizing("SUCCEEDED" if succeeding else "FAILED")

    def _skip_to_finalizing(self, status: str) -> str:
        self._phase("FINALIZING")
        return status

    def _commands(self, phase: specs.Phase, deadline: float) -> str:
        """Run the phase's commands, then its finally block; SUCCEEDED, FAILED, TIMED_OUT or STOPPED."""
        assert self.shell is not None
        outcome = self._each(phase.commands, deadline, phase.on_failure)
        after = self._each(phase.finally_, deadline, "ABORT") if outcome != "STOPPED" else "STOPPED"
        return outcome if outcome != "SUCCEEDED" else after

    def _each(self, commands: tuple[str, ...], deadline: float, on_failure: str) -> str:
        assert self.shell is not None
        outcome = "SUCCEEDED"
        for command in commands:
            self._container(f"Running command {command}")
            code = self.shell.run(command, self._log, deadline)
            if code == 0:
                continue
            if code is None:
                stopped = self._stop_requested
                self._failure = {"statusCode": "BUILD_STOPPED" if stopped else "BUILD_TIMED_OUT",
                                 "message": "Build was stopped" if stopped else "Build has timed out. "}
                return "STOPPED" if stopped else "TIMED_OUT"
            if outcome == "SUCCEEDED":
                self._failure = {"statusCode": "COMMAND_EXECUTION_ERROR",
                                 "message": f"Error while executing command: {command}. Reason: exit status {code}"}
            self._container(f"Command did not exit successfully {command} exit status {code}")
            outcome = "FAILED"
            if on_failure != "CONTINUE":
                return outcome
        return outcome

    def _fail(self, phase_type: str, code: str, message: str) -> str:
        entry = self.record["phases"][-1]
        self._failure = {"statusCode": code, "message": message}
        self._end(entry, "FAILED", context=self._failure)
        self._container(f"Phase complete: {phase_type} State: FAILED")
        self._container(f"Phase context status code: {code} Message: {message}")
        return self._skip_to_finalizing("FAILED")

    def _finish(self, status: str) -> None:
        now = _now()
        phases = self.record["phases"]
        if phases and phases[-1].get("endTime") is None:
            self._end(phases[-1], "SUCCEEDED", now)
        phases.append({"phaseType": "COMPLETED", "startTime": now})
        self.record.update(buildStatus=status, currentPhase="COMPLETED", endTime=now, buildComplete=True)
        if self.logs is not None:
            self.logs.close()
        self._event()
        self.done.set()
