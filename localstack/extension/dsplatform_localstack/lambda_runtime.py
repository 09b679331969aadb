"""The interpreter and venv a Lambda function runs with locally: ``python3.X`` from its Runtime, its requirements.

The venv is the runtime's own packages (boto3, which AWS's Python runtimes include) plus the function's
``requirements.txt`` if its code has one; it is built once per interpreter version + requirements bytes
and shared through ``local_images``' cache (``$DSPLATFORM_CACHE_DIR/images/venvs/<hash>``).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path

from localstack.services.lambda_.invocation.executor_endpoint import StatusErrorException

from dsplatform_localstack import local_images

# What AWS's Python runtimes provide besides the standard library (their boto3 is recent; pinned for repeatability).
RUNTIME_PACKAGES = "boto3==1.40.61\n"
_PYTHON_RUNTIME = re.compile(r"^python(\d+\.\d+)$")


def runtime_error(error_type: str, message: str) -> StatusErrorException:
    """The exception LocalStack turns into a failed invocation whose payload names the problem."""
    payload = json.dumps({"errorType": error_type, "errorMessage": message}).encode()
    return StatusErrorException(message, payload=payload)


def python_version(runtime: str | None) -> str:
    """``X.Y`` of a ``pythonX.Y`` runtime; any other runtime fails the invocation saying so."""
    match = _PYTHON_RUNTIME.match(runtime or "")
    if not match:
        raise runtime_error(
            "Runtime.InvalidRuntime",
            f"runtime {runtime!r} is not run by dsplatform's local Lambda executor: only pythonX.Y runtimes are"
            " (use e.g. python3.11)",
        )
    return match.group(1)


def find_interpreter(version: str) -> str:
    """A local ``pythonX.Y`` (PATH, then pyenv's versions), or fail the invocation naming the missing one."""
    interpreter, matched = local_images.find_interpreter(version)
    if not matched:
        raise runtime_error(
            "Runtime.InterpreterNotFound",
            f"runtime python{version} needs a local python{version} interpreter and none was found on PATH or"
            f" under pyenv (~/.pyenv/versions/{version}.*); install it (pyenv install {version}) and invoke again",
        )
    return interpreter


def requirements_bytes(code_dir: Path) -> bytes:
    """The runtime's packages followed by the function's requirements.txt (if any)."""
    own = code_dir / "requirements.txt"
    return RUNTIME_PACKAGES.encode() + (own.read_bytes() if own.is_file() else b"")


def runtime_python(runtime: str | None, code_dir: Path) -> Path:
    """The venv interpreter for this function's runtime and requirements, built on first use."""
    interpreter = find_interpreter(python_version(runtime))
    cache = local_images.cache_root() / "lambda-requirements"
    cache.mkdir(parents=True, exist_ok=True)
    wanted = requirements_bytes(code_dir)
    # local_images.ensure_venv keys by the bytes it reads; a file named by their hash keeps concurrent writers apart.
    req_file = cache / f"{hashlib.sha256(wanted).hexdigest()[:20]}.txt"
    if not req_file.exists():
        tmp = req_file.with_suffix(".tmp")
        tmp.write_bytes(wanted)
        tmp.replace(req_file)
    try:
        return Path(local_images.ensure_venv(interpreter, req_file))
    except (local_images.ImagePullError, OSError, subprocess.CalledProcessError) as err:
        raise runtime_error(
            "Runtime.VenvBuildFailed",
            f"installing the function's requirements for python{python_version(runtime)} failed: {err}",
        ) from err
