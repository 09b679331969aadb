"""One serving replica of a SageMaker endpoint: model data from S3, the serving image's `serve` as a local process."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsplatform_localstack import local_images, ports, process_marks

PING_TIMEOUT_ENV = "DSPLATFORM_SAGEMAKER_PING_TIMEOUT"
_DEFAULT_PING_TIMEOUT = 300.0  # seconds; SageMaker's default container start-up health check allows minutes
_STOP_TIMEOUT = 5.0


class ReplicaError(Exception):
    """The replica could not start or never answered /ping; the message is the endpoint's FailureReason."""


def replicas_root() -> Path:
    """Folder for unpacked model data and replica logs (under the cache, beside the image venvs)."""
    return local_images.cache_root().parent / "sagemaker"


def _split_s3(url: str) -> tuple[str, str]:
    if not url.startswith("s3://") or "/" not in url[5:]:
        raise ReplicaError(f"ModelDataUrl {url!r} is not an s3://bucket/key URL")
    bucket, key = url[5:].split("/", 1)
    return bucket, key


def fetch_model_data(s3: Any, url: str, target: Path) -> None:
    """Download ModelDataUrl and unpack it (a .tar.gz, as SageMaker requires) into ``target``."""
    bucket, key = _split_s3(url)
    archive = target.parent / "model.tar.gz"
    try:
        s3.download_file(bucket, key, str(archive))
    except Exception as err:
        raise ReplicaError(f"Could not download model data from {url}: {err}") from err
    target.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive, "r:*") as tar:
            tar.extractall(target, filter="data")  # refuses absolute paths and links out of the folder
    except (tarfile.TarError, OSError) as err:
        raise ReplicaError(f"Failed to extract model data archive from URL {url}: {err}") from err
    finally:
        archive.unlink(missing_ok=True)


@dataclass
class Replica:
    """A started serving process: its port, folder and log."""

    replica_id: str
    process: subprocess.Popen[bytes]
    port: int
    folder: Path
    marker: Path | None

    @property
    def url(self) -> str:
        """Where the serving process answers."""
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 5) -> str:
        """The last lines of the process's output, joined for a one-line reason."""
        try:
            text = (self.folder / "serve.log").read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(text[-lines:])

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL after a few seconds; remove the unpacked model."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        if self.marker is not None:
            self.marker.unlink(missing_ok=True)
        shutil.rmtree(self.folder / "model", ignore_errors=True)


def _environment(image: local_images.LocalImage, model_env: dict[str, str], port: int, model_dir: Path,
                 aws: dict[str, str]) -> dict[str, str]:
    env = {
        "PATH": f"{Path(image.python).parent}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(image.env)
    if image.workdir is not None:
        env["PYTHONPATH"] = str(image.workdir)
    env.update(aws)
    env.update({str(k): str(v) for k, v in model_env.items()})
    # The container contract's settings last: each replica gets its own loopback port instead of 8080.
    env.update({"SAGEMAKER_BIND_TO_PORT": str(port), "PORT": str(port), "DS_SERVING_HOST": "127.0.0.1",
                "DS_SERVING_MODEL_DIR": str(model_dir)})
    return env


def _argv(image: local_images.LocalImage) -> list[str]:
    argv = [*image.entrypoint, "serve"]  # SageMaker runs `docker run IMAGE serve`
    if argv and local_images.is_python(argv[0]):
        argv[0] = str(image.python)
    return argv


def start(endpoint: str, container: dict[str, Any], s3: Any, aws_env: dict[str, str],
          account: str | None = None, region: str | None = None) -> Replica:
    """Fetch the model data, resolve the image (building its venv once) and start `serve`; not yet healthy.

    The image resolves like an ECS task's: a digest (or the digest ECR holds under the tag in ``account`` and
    ``region``) runs the source frozen when that digest was pushed, so what serves is what was pushed.
    """
    replica_id = f"{endpoint}-{uuid.uuid4().hex[:8]}"
    folder = replicas_root() / replica_id
    folder.mkdir(parents=True, exist_ok=True)
    model_dir = folder / "model"
    if container.get("ModelDataUrl"):
        fetch_model_data(s3, container["ModelDataUrl"], model_dir)
    else:
        model_dir.mkdir()
    try:
        image = local_images.resolve(container["Image"], account, region)
    except local_images.ImagePullError as err:
        raise ReplicaError(str(err)) from err
    port = ports.free_port()
    with open(folder / "serve.log", "wb") as log:
        process = subprocess.Popen(
            _argv(image), cwd=image.workdir or folder, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env=_environment(image, container.get("Environment") or {}, port, model_dir, aws_env),
            start_new_session=True)
    marker = process_marks.record(process.pid, f"sagemaker endpoint {endpoint}")
    return Replica(replica_id, process, port, folder, marker)


def wait_healthy(replica: Replica, variant: str, timeout: float | None = None) -> None:
    """Poll GET /ping until 200; ReplicaError with the reason if the process exits or the timeout passes."""
    limit = timeout if timeout is not None else float(os.environ.get(PING_TIMEOUT_ENV) or _DEFAULT_PING_TIMEOUT)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        code = replica.process.poll()
        if code is not None:
            raise ReplicaError(
                f"The primary container for production variant {variant} did not pass the ping health check: "
                f"it exited with code {code}. Last log lines: {replica.log_tail()}")
        try:
            with urllib.request.urlopen(f"{replica.url}/ping", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise ReplicaError(
        f"The primary container for production variant {variant} did not pass the ping health check within "
        f"{limit:.0f}s. Last log lines: {replica.log_tail()}")


