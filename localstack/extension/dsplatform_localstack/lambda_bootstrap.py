"""The local Lambda runtime: runs in the function's own interpreter and venv, standard library only.

Started by ``lambda_executor.LocalRuntimeExecutor`` as ``<venv>/bin/python lambda_bootstrap.py``. It follows
LocalStack's executor contract (``localstack/services/lambda_/invocation/executor_endpoint.py``): import the
handler (init), report ``status/<id>/ready`` (or ``status/<id>/error``), then serve ``POST /invoke`` and answer
each invocation with ``invocations/<req>/logs`` followed by ``invocations/<req>/response`` or ``.../error``.
Invocations run one at a time, as in one Lambda execution environment; module state stays warm between them.
The handler runs in a thread so that its timeout is measured here, as Lambda does; on a timeout the error is
reported and the process exits (Lambda resets the environment). The executor kills it if it ever hangs.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import json
import logging
import os
import queue
import sys
import tempfile
import time
import traceback
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any

ENDPOINT = os.environ["LOCALSTACK_RUNTIME_ENDPOINT"]  # http://host:port/_localstack_lambda/<executor id>
RUNTIME_ID = os.environ["LOCALSTACK_RUNTIME_ID"]
CAPTURE_DIR = os.environ["DSPLATFORM_LAMBDA_CAPTURE_DIR"]  # per-invocation output, read by the executor on timeout
_INVOCATIONS: queue.Queue[dict[str, Any]] = queue.Queue()


def _post(path: str, body: bytes) -> None:
    request = urllib.request.Request(f"{ENDPOINT}{path}", data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    # No proxies: the endpoint is LocalStack on this machine.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=30) as response:
        response.read()


def _error_body(err: BaseException, error_type: str | None = None, request_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "errorMessage": str(err),
        "errorType": error_type or type(err).__name__,
        # The user's frames only, as AWS shows them (not this bootstrap's).
        "stackTrace": traceback.format_list(
            [frame for frame in traceback.extract_tb(err.__traceback__) if frame.filename != __file__]
        ),
    }
    if request_id:
        body["requestId"] = request_id
    return body


class Context:
    """The handler's context object, with the attributes and method of AWS's Python runtime."""

    def __init__(self, request_id: str, invoked_arn: str, deadline: float) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout."""
        return max(0, int((self._deadline - time.time()) * 1000))


class _RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


_REQUEST_FILTER = _RequestIdFilter()


def _configure_logging() -> None:
    # As AWS's runtime: one root handler on stdout with the request id; the root level stays WARNING.
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s", "%Y-%m-%dT%H:%M:%S"
        )
    )
    handler.addFilter(_REQUEST_FILTER)
    logging.Formatter.converter = time.gmtime
    logging.getLogger().addHandler(handler)


def _load_handler() -> Any:
    spec = os.environ["_HANDLER"]
    module_name, _, function_name = spec.rpartition(".")
    if not module_name:
        raise _InitError("Runtime.MalformedHandlerName", f"Bad handler '{spec}': not enough values to unpack")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as err:
        raise _InitError("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {err}") from err
    except SyntaxError as err:
        raise _InitError("Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {err}") from err
    handler = getattr(module, function_name, None)
    if handler is None:
        raise _InitError("Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'")
    return handler


class _InitError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


class _Invoke(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        _INVOCATIONS.put(json.loads(self.rfile.read(length) or b"{}"))
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return  # the access log would end up in the function's logs


class _Capture:
    """Point fd 1 and 2 at a file for one invocation (print, logging, C code and subprocesses alike)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __enter__(self) -> _Capture:
        sys.stdout.flush()
        sys.stderr.flush()
        self._saved = (os.dup(1), os.dup(2))
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(self._fd, 1)
        os.dup2(self._fd, 2)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(self._saved[0], 1)
        os.dup2(self._saved[1], 2)
        for fd in (*self._saved, self._fd):
            os.close(fd)

    def read(self) -> str:
        """What was written during the invocation."""
        with open(self.path, encoding="utf-8", errors="replace") as handle:
            return handle.read()


def _run(handler: Any, invocation: dict[str, Any], init_ms: float | None) -> None:
    request_id = invocation["invoke-id"]
    timeout = float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT") or 3)
    started = time.time()
    context = Context(request_id, invocation.get("invoked-function-arn", ""), started + timeout)
    _REQUEST_FILTER.request_id = request_id
    version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
    capture = _Capture(os.path.join(CAPTURE_DIR, f"{request_id}.log"))
    error: dict[str, Any] | None = None
    body = b""
    with capture:
        print(f"START RequestId: {request_id} Version: {version}", flush=True)
        outcome: dict[str, Any] = {}
        worker = Thread(target=_call, args=(handler, invocation, context, outcome), daemon=True, name="handler")
        worker.start()
        worker.join(max(0.0, started + timeout - time.time()))
        duration = (time.time() - started) * 1000
        timed_out = worker.is_alive()
        if timed_out:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
            print(f"{stamp}Z {request_id} Task timed out after {timeout:.2f} seconds", flush=True)
            error = {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds",
            }
        elif "error" in outcome:
            error = _error_body(outcome["error"], request_id=request_id)
            # AWS's Python runtime logs an unhandled error in this shape.
            print(
                f"[ERROR] {error['errorType']}: {error['errorMessage']}\nTraceback (most recent call last):\n"
                + "".join(error["stackTrace"]),
                flush=True,
            )
        else:
            body = outcome["body"]
        print(f"END RequestId: {request_id}", flush=True)
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\tBilled Duration: {int(duration) + 1} ms\t"
            f"Memory Size: {context.memory_limit_in_mb} MB\tMax Memory Used: {_max_rss_mb()} MB"
        )
        if init_ms is not None:
            report += f"\tInit Duration: {init_ms:.2f} ms"
        if timed_out:
            report += "\tStatus: timeout"
        print(report, flush=True)
    logs = capture.read()
    os.unlink(capture.path)
    _post(f"/invocations/{request_id}/logs", json.dumps({"logs": logs}).encode())
    if error is not None:
        _post(f"/invocations/{request_id}/error", json.dumps(error).encode())
    else:
        _post(f"/invocations/{request_id}/response", body)
    if timed_out:
        # Lambda resets an environment whose invocation timed out: the handler thread cannot be stopped.
        os._exit(1)


def _call(handler: Any, invocation: dict[str, Any], context: Context, outcome: dict[str, Any]) -> None:
    try:
        event = json.loads(invocation.get("payload") or "null")
        outcome["body"] = json.dumps(handler(event, context)).encode()
    except Exception as err:
        outcome["error"] = err


def _max_rss_mb() -> int:
    # VmHWM, not getrusage: ru_maxrss survives exec and would report LocalStack's own peak.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def main() -> None:
    """Init (import the handler), report ready with the port, then run invocations until killed."""
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    sys.path.insert(0, task_root)
    os.chdir(task_root)
    _configure_logging()
    init_started = time.time()
    try:
        handler = _load_handler()
    except _InitError as err:
        body = {"errorMessage": str(err), "errorType": err.error_type, "stackTrace": []}
        print(f"[ERROR] {err.error_type}: {err}", flush=True)
        _post(f"/status/{RUNTIME_ID}/error", json.dumps(body).encode())
        sys.exit(1)
    except Exception as err:  # an exception raised by the module's own top-level code
        body = _error_body(err)
        traceback.print_exc()
        _post(f"/status/{RUNTIME_ID}/error", json.dumps(body).encode())
        sys.exit(1)
    init_ms: float | None = (time.time() - init_started) * 1000
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Invoke)
    Thread(target=server.serve_forever, daemon=True, name="invoke-listener").start()
    _post(f"/status/{RUNTIME_ID}/ready", json.dumps({"port": server.server_address[1]}).encode())
    print(f"{_dt.datetime.now(_dt.UTC).isoformat()} ready on port {server.server_address[1]}", flush=True)
    tempfile.tempdir = os.environ.get("TMPDIR") or None
    while True:
        invocation = _INVOCATIONS.get()
        _run(handler, invocation, init_ms)
        init_ms = None  # only the first invocation of an environment reports its init


if __name__ == "__main__":
    main()
