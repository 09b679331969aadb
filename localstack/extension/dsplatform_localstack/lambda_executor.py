"""A Lambda runtime executor without Docker: each execution environment is a local process.

Plugged in through LocalStack's entry-point group ``localstack.lambda.runtime_executor`` (name ``dsplatform``,
selected by ``LAMBDA_RUNTIME_EXECUTOR=dsplatform``); the contract is ``RuntimeExecutor`` in
``localstack/services/lambda_/invocation/runtime_executor.py``. LocalStack keeps doing what it does for Docker:
environments per concurrent invocation, keep-alive (warm reuse), logs to ``/aws/lambda/<name>``, async retries
and destinations. This module starts ``lambda_bootstrap.py`` with the interpreter the function's ``Runtime``
names, in a venv built from its ``requirements.txt`` (plus the runtime's boto3), and enforces the timeout by
killing the process, as Lambda resets an environment whose invocation timed out.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

from localstack.services.lambda_.invocation.executor_endpoint import ExecutorEndpoint, StatusErrorException
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin
from localstack.services.lambda_.invocation.runtime_executor import RuntimeExecutor

from dsplatform_localstack import lambda_runtime, process_marks
from localstack import config

LOG = logging.getLogger(__name__)
BOOTSTRAP = Path(__file__).with_name("lambda_bootstrap.py")
_STOP_SECONDS = 2.0
_POLL = 0.05
# Grace after the function's timeout before a silent process is killed (the bootstrap times out first).
_BACKSTOP_SECONDS = 10.0


class _Endpoint(ExecutorEndpoint):
    """LocalStack's executor endpoint, told the bootstrap's port in its ready call (no port guessing)."""

    def status_ready(self, request: Any, executor_id: str) -> Any:
        with contextlib.suppress(ValueError, TypeError, KeyError):
            self.container_port = int((request.get_json(silent=True) or {})["port"])
        return super().status_ready(request, executor_id)


class LocalRuntimeExecutor(RuntimeExecutor):
    """One Lambda execution environment as a local process running ``lambda_bootstrap.py``."""

    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.executor_endpoint = _Endpoint(self.id, container_address="127.0.0.1", container_port=None)
        self.process: subprocess.Popen[bytes] | None = None
        self.env_vars: dict[str, str] = {}
        self.workdir = Path(tempfile.mkdtemp(prefix=f"lambda-{function_version.id.function_name}-"))
        self.log_path = self.workdir / "process.log"
        self._marker: Path | None = None

    # -- lifecycle ----------------------------------------------------------------------------------
    def start(self, env_vars: dict[str, str]) -> None:
        """Start the process and wait until it has imported the handler (or fail with the init error)."""
        self.executor_endpoint.start()
        self.env_vars = {k: str(v) for k, v in env_vars.items()}
        self._spawn()

    def _spawn(self) -> None:
        code = self._code_dir()
        # Raises StatusErrorException naming what is missing (interpreter, runtime, requirements).
        python = lambda_runtime.runtime_python(self.function_version.config.runtime, code)
        env = {
            **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SSL_CERT_FILE")},
            **self.env_vars,
            "LAMBDA_TASK_ROOT": str(code),
            "TMPDIR": str(self.workdir),
            "PYTHONUNBUFFERED": "1",
            "DSPLATFORM_LAMBDA_CAPTURE_DIR": str(self.workdir),
        }
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(
                [str(python), str(BOOTSTRAP)],
                cwd=code,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,  # own group: the handler's children are stopped with it
            )
        self._marker = process_marks.record(self.process.pid, self.function_version.qualified_arn)
        self._wait_ready()

    def _wait_ready(self) -> None:
        future = self.executor_endpoint.startup_future
        assert future is not None and self.process is not None
        while True:
            try:
                future.result(timeout=_POLL)
                return
            except FutureTimeout:
                if self.process.poll() is not None and not future.done():
                    tail = " | ".join(self.get_logs().strip().splitlines()[-3:])
                    raise lambda_runtime.runtime_error(
                        "Runtime.ExitError",
                        f"RequestId: init Error: Runtime exited with error: exit status "
                        f"{self.process.returncode}: {tail}",
                    ) from None

    def _code_dir(self) -> Path:
        code = self.function_version.config.code
        if code is None:
            raise lambda_runtime.runtime_error(
                "Runtime.InvalidEntrypoint", "container image functions are not run by the local executor"
            )
        return Path(code.get_unzipped_code_location())

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL) and unregister the endpoint."""
        self._kill(graceful=True)
        with contextlib.suppress(Exception):
            self.executor_endpoint.shutdown()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _kill(self, graceful: bool) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM if graceful else signal.SIGKILL)
            try:
                process.wait(timeout=_STOP_SECONDS if graceful else 5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        if self._marker is not None:
            self._marker.unlink(missing_ok=True)
            self._marker = None

    # -- addresses ------------------------------------------------------------------------------------
    def get_address(self) -> str:
        """The process listens on loopback."""
        return "127.0.0.1"

    def get_endpoint_from_executor(self) -> str:
        """LocalStack's host as the process sees it: the gateway's own host (loopback when bound to all)."""
        host = config.GATEWAY_LISTEN[0].host
        return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host

    def get_runtime_endpoint(self) -> str:
        """Base URL of the executor endpoint's routes for this environment."""
        port = config.GATEWAY_LISTEN[0].port
        return f"http://{self.get_endpoint_from_executor()}:{port}{self.executor_endpoint.get_endpoint_prefix()}"

    # -- invoking -------------------------------------------------------------------------------------
    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        """Send one invocation and wait for its result; reset the environment after a timeout.

        The bootstrap measures the timeout itself (so LocalStack's own latency never counts against the
        handler); this side kills the process only if no answer came well after the timeout.
        """
        if self.process is None or self.process.poll() is not None:
            # The previous invocation timed out (or the process died): a fresh environment, as on AWS.
            self._kill(graceful=False)
            self.executor_endpoint.startup_future = Future()
            self._spawn()
        request_id = payload["invoke-id"]
        timeout = float(self.function_version.config.timeout)
        self.executor_endpoint.invocation_future = future = Future()
        self.executor_endpoint.logs = None
        started = time.monotonic()
        self.executor_endpoint._perform_invoke(
            f"http://127.0.0.1:{self.executor_endpoint.container_port}/invoke", {"http": "", "https": ""}, payload
        )
        assert self.process is not None
        while True:
            try:
                result = future.result(timeout=_POLL)
            except FutureTimeout:
                elapsed = time.monotonic() - started
                if elapsed >= timeout + _BACKSTOP_SECONDS:
                    return self._timed_out(request_id, timeout, elapsed)
                if self.process.poll() is not None and not future.done():
                    return self._exited(request_id, elapsed)
                continue
            if result.is_error and b"Sandbox.Timedout" in (result.payload or b""):
                self._kill(graceful=False)  # the bootstrap exits after reporting it; don't reuse it meanwhile
            return result

    def _partial_logs(self, request_id: str) -> str:
        try:
            return (self.workdir / f"{request_id}.log").read_text(errors="replace")
        except OSError:
            return ""

    def _timed_out(self, request_id: str, timeout: float, elapsed: float) -> InvocationResult:
        self._kill(graceful=False)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        message = f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds"
        logs = (
            self._partial_logs(request_id)
            + f"{stamp}Z {request_id} Task timed out after {timeout:.2f} seconds\n"
            + f"END RequestId: {request_id}\n"
            + f"REPORT RequestId: {request_id}\tDuration: {elapsed * 1000:.2f} ms\tStatus: timeout\n"
        )
        body = json.dumps({"errorType": "Sandbox.Timedout", "errorMessage": message}).encode()
        return InvocationResult(request_id, body, is_error=True, logs=logs)

    def _exited(self, request_id: str, elapsed: float) -> InvocationResult:
        code = self.process.returncode if self.process else None
        self._kill(graceful=False)
        message = f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}"
        logs = (
            self._partial_logs(request_id)
            + f"{message}\nEND RequestId: {request_id}\n"
            + f"REPORT RequestId: {request_id}\tDuration: {elapsed * 1000:.2f} ms\tStatus: error\n"
        )
        body = json.dumps({"errorType": "Runtime.ExitError", "errorMessage": message}).encode()
        return InvocationResult(request_id, body, is_error=True, logs=logs)

    def get_logs(self) -> str:
        """The process's own output outside invocations (init, crashes)."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    # -- versions -------------------------------------------------------------------------------------
    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        """Unzip the code and build its venv now (while the version is Pending), so the first invoke is warm-ish.

        Problems (no such interpreter, pip failing) are not raised here: the invocation reports them, as AWS
        reports a bad runtime or package when it is invoked.
        """
        if not function_version.config.code:
            return
        function_version.config.code.prepare_for_execution()
        try:
            code = Path(function_version.config.code.get_unzipped_code_location())
            lambda_runtime.runtime_python(function_version.config.runtime, code)
        except StatusErrorException as err:
            LOG.warning("lambda %s: %s", function_version.qualified_arn, err)

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        """Nothing per version: venvs are shared by requirements hash."""

    @classmethod
    def validate_environment(cls) -> bool:
        """No Docker needed."""
        return True


class LocalRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    """Entry point ``dsplatform`` of ``localstack.lambda.runtime_executor``."""

    name = "dsplatform"

    def load(self, *args: Any, **kwargs: Any) -> type[RuntimeExecutor]:
        """The executor class LocalStack instantiates per execution environment."""
        return LocalRuntimeExecutor
