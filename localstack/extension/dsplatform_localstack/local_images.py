"""Map a container image to local source and a Python venv, the way a registry and `docker pull` would."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

LOG = logging.getLogger(__name__)

SOURCES_FILE_ENV = "DSPLATFORM_IMAGE_SOURCES_FILE"  # JSON file the launcher keeps (register_image_sources)
SOURCES_ENV = "DSPLATFORM_IMAGE_SOURCES"  # inline JSON, for an instance started without the launcher
# Repository names under which the official Python image is known (Docker Hub and its ECR Public mirror).
PYTHON_REPOSITORIES = {"python", "library/python", "docker/library/python"}
_PYTHON_EXEC = re.compile(r"^(?:/usr(?:/local)?/bin/)?python(?:3(?:\.\d+)?)?$")


class ImagePullError(Exception):
    """The image has no local source; the task stops with CannotPullContainerError."""


def cache_root() -> Path:
    """Folder for image venvs, shared by every LocalStack instance on the machine."""
    configured = os.environ.get("DSPLATFORM_CACHE_DIR")
    base = Path(configured).expanduser() if configured else Path.home() / ".cache" / "dsplatform"
    return base / "images"


def _json_map(raw: str) -> dict[str, Path]:
    try:
        data = json.loads(raw) if raw.strip() else {}
    except ValueError:
        LOG.warning("image sources: not JSON, ignored: %.200s", raw)
        return {}
    return {str(name): Path(folder) for name, folder in data.items()} if isinstance(data, dict) else {}


def image_sources() -> dict[str, Path]:
    """Repository name -> source folder: the launcher's file (read now, so later registrations count) over the env."""
    sources = _json_map(os.environ.get(SOURCES_ENV, ""))
    file = os.environ.get(SOURCES_FILE_ENV)
    if file:
        with contextlib.suppress(OSError):  # nothing registered yet
            sources.update(_json_map(Path(file).read_text()))
    return sources


def parse_image(image: str) -> tuple[str, str]:
    """Split an image reference into (repository name without registry, tag or digest)."""
    reference = image
    tag = "latest"
    if "@" in reference:
        reference, tag = reference.split("@", 1)
    else:
        last = reference.rsplit("/", 1)[-1]
        if ":" in last:
            reference, tag = reference.rsplit(":", 1)
    parts = reference.split("/")
    # A first segment with a dot or a port, or "localhost", is a registry host (ECR, docker.io, LocalStack).
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    return "/".join(parts), tag


@dataclass
class Dockerfile:
    """The parts of a Dockerfile a local run needs (exec form ENTRYPOINT/CMD, WORKDIR, ENV, FROM)."""

    base: str = ""
    workdir: str = "/"
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def python_version(self) -> str | None:
        """X.Y of a `FROM python:X.Y...` base, if that is the base."""
        repository, tag = parse_image(self.base) if self.base else ("", "")
        if repository not in PYTHON_REPOSITORIES:
            return None
        match = re.match(r"(\d+\.\d+)", tag)
        return match.group(1) if match else None


def _exec_form(value: str) -> list[str]:
    value = value.strip()
    if value.startswith("["):
        return [str(part) for part in json.loads(value)]
    return ["/bin/sh", "-c", value]  # shell form, as Docker runs it


def parse_dockerfile(path: Path) -> Dockerfile:
    """Read FROM (last stage), WORKDIR, ENV, ENTRYPOINT and CMD from a Dockerfile."""
    result = Dockerfile()
    text = re.sub(r"\\\n", " ", path.read_text())
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            result = Dockerfile(base=rest.split()[0])  # a new stage starts from scratch
        elif keyword == "WORKDIR":
            result.workdir = rest.strip()
        elif keyword == "ENTRYPOINT":
            result.entrypoint = _exec_form(rest)
            result.cmd = []  # Docker resets CMD when ENTRYPOINT is set
        elif keyword == "CMD":
            result.cmd = _exec_form(rest)
        elif keyword == "ENV":
            if "=" in rest.split()[0]:
                for item in shlex.split(rest):
                    key, _, val = item.partition("=")
                    result.env[key] = val
            else:
                key, _, val = rest.partition(" ")
                result.env[key] = val.strip()
    return result


def find_interpreter(version: str | None) -> tuple[str, bool]:
    """A local interpreter for Python X.Y (PATH, then pyenv); else LocalStack's own. Returns (path, matched).

    The path is the interpreter's own executable, not a pyenv shim (a shim costs ~0.25 s per start).
    """
    if version:
        candidates = [shutil.which(f"python{version}")]
        pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
        candidates += [str(p) for p in sorted(pyenv_root.glob(f"versions/{version}.*/bin/python3"), reverse=True)]
        for candidate in candidates:
            found = probe(candidate) if candidate else None
            # pyenv shims exist on PATH for every version but fail unless that version is selected.
            if found is not None and found.version == version:
                return found.executable, True
    return sys.executable, version is None


@dataclass(frozen=True)
class Interpreter:
    """What an interpreter says about itself: X.Y, ``sys.version`` and its real executable."""

    version: str
    full_version: str
    executable: str


# Probes by (path, mtime, size): every function version and task start asked twice otherwise (0.1-0.3 s each).
_PROBED: dict[tuple[str, int, int], Interpreter] = {}
_PROBE = "import sys; print('%d.%d' % sys.version_info[:2]); print(sys.executable); print(sys.version)"


def probe(executable: str) -> Interpreter | None:
    """Run the interpreter once to learn its version and real path; None if it does not run.

    Asked again when the file changes or the executable it named is gone (an uninstalled pyenv version).
    """
    try:
        stat = os.stat(executable)
    except OSError:
        return None
    key = (executable, stat.st_mtime_ns, stat.st_size)
    known = _PROBED.get(key)
    if known is not None and os.path.exists(known.executable):
        return known
    try:
        out = subprocess.run([executable, "-c", _PROBE], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = out.stdout.splitlines()
    if out.returncode != 0 or len(lines) < 3:
        return None
    found = Interpreter(lines[0].strip(), "\n".join(lines[2:]).strip(), lines[1].strip() or executable)
    _PROBED[key] = found
    return found


def venv_key(interpreter: str, requirements: bytes) -> str:
    """Cache key of an image venv: interpreter version + requirements bytes."""
    found = probe(interpreter)
    if found is None:
        raise subprocess.CalledProcessError(1, [interpreter, "-c", _PROBE], "", f"{interpreter} does not run")
    return hashlib.sha256(found.full_version.encode() + b"\0" + requirements).hexdigest()[:20]


def ensure_venv(interpreter: str, requirements_file: Path | None) -> Path:
    """Build (once, under a file lock shared by all instances) the venv for these requirements; return its python."""
    requirements = requirements_file.read_bytes() if requirements_file and requirements_file.exists() else b""
    key = venv_key(interpreter, requirements)
    root = cache_root() / "venvs"
    root.mkdir(parents=True, exist_ok=True)
    target = root / key
    python = target / "bin" / "python"
    with open(root / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / ".ready").exists():
            return python
        # Build beside the target and rename at the end: a build killed half-way never looks ready.
        for stale in root.glob(f"{key}.building-*"):  # left by a killed build; we hold the lock now
            shutil.rmtree(stale, ignore_errors=True)
        building = root / f"{key}.building-{os.getpid()}"
        log_path = root / f"{key}.log"
        LOG.info("building image venv %s with %s (log: %s)", key, interpreter, log_path)
        with open(log_path, "w") as log:
            subprocess.run([interpreter, "-m", "venv", str(building)], stdout=log, stderr=log, check=True)
            if requirements.strip():
                req_copy = building / "requirements.txt"
                req_copy.write_bytes(requirements)
                result = subprocess.run(
                    [str(building / "bin" / "python"), "-m", "pip", "install", "-q", "-r", str(req_copy)],
                    stdout=log,
                    stderr=log,
                    check=False,
                )
                if result.returncode != 0:
                    raise ImagePullError(
                        f"CannotPullContainerError: pip install -r requirements.txt failed (exit {result.returncode}); "
                        f"see {log_path}"
                    )
        # venv scripts embed their folder; a renamed venv keeps working for `bin/python -m ...` use.
        shutil.rmtree(target, ignore_errors=True)
        building.rename(target)
        (target / ".ready").write_text(interpreter)
        return python


@dataclass(frozen=True)
class LocalImage:
    """What a container of this image runs locally: interpreter, working folder, default argv, image ENV."""

    image: str
    python: Path | str
    workdir: Path | None  # the source folder that plays the Dockerfile's WORKDIR; None for python:* images
    container_workdir: str
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    env: dict[str, str]
    note: str = ""


def pinned_folder(repository: str, tag: str, account: str | None, region: str | None) -> Path | None:
    """The frozen source of the image the tag names now in this account's ECR (snapshot kept by digest at push).

    Without Docker a folder is the image; ``dsplatform.images.snapshot`` copies it per pushed digest, so moving a
    tag back (a rollback) runs the old code even after the folder changed, as a registry would.
    """
    digest = tag if tag.startswith("sha256:") else None
    if digest is None and account and region:
        try:
            from moto.ecr.models import ecr_backends

            repo = ecr_backends[account][region].repositories.get(repository)
            found = next((i for i in (repo.images if repo else []) if tag in i.image_tags), None)
            digest = found.get_image_digest() if found else None
        except Exception:  # no ECR answer means no pinned copy: the registered folder serves
            digest = None
    if not digest:
        return None
    folder = cache_root() / "snapshots" / digest.split(":")[-1]  # dsplatform.images.snapshot_dir
    return folder if (folder / "Dockerfile").is_file() else None


def resolve(image: str, account: str | None = None, region: str | None = None) -> LocalImage:
    """Find the local source of an image and make its venv; raise ImagePullError if it has none."""
    repository, tag = parse_image(image)
    sources = image_sources()
    pinned = pinned_folder(repository, tag, account, region) if repository in sources else None
    if repository in sources:
        folder = pinned or sources[repository]
        dockerfile = parse_dockerfile(folder / "Dockerfile") if (folder / "Dockerfile").exists() else Dockerfile()
        interpreter, matched = find_interpreter(dockerfile.python_version)
        note = "" if matched else f"no local python{dockerfile.python_version}; using {interpreter}"
        python = ensure_venv(interpreter, folder / "requirements.txt")
        return LocalImage(
            image,
            python,
            folder,
            dockerfile.workdir,
            tuple(dockerfile.entrypoint),
            tuple(dockerfile.cmd),
            dict(dockerfile.env),
            note,
        )
    if repository in PYTHON_REPOSITORIES:
        match = re.match(r"(\d+\.\d+)", tag)
        interpreter, matched = find_interpreter(match.group(1) if match else None)
        note = "" if matched else f"no local python{match.group(1) if match else ''}; using {interpreter}"
        return LocalImage(image, interpreter, None, "/", (), ("python3",), {}, note)
    known = ", ".join(sorted(sources)) or "none"
    raise ImagePullError(
        f"CannotPullContainerError: no local source for image {image!r} (repository {repository!r}); "
        f"register the folder that builds it (a containers/<job>/ folder with a Dockerfile) with "
        f"dsplatform.localstack.register_image_sources (file {os.environ.get(SOURCES_FILE_ENV, 'unset')}, "
        f"or {SOURCES_ENV}; mapped now: {known}), or use an official python:X.Y image"
    )


def is_python(executable: str) -> bool:
    """True for `python`, `python3`, `python3.11`, `/usr/local/bin/python` and the like."""
    return bool(_PYTHON_EXEC.match(executable))


def prebuild(status_file: Path | None = None, poll_seconds: float | None = None) -> dict[str, str]:
    """Build the venv of every mapped image now, so tasks don't wait for pip; returns repository -> outcome.

    With ``status_file``, progress is written there as JSON ({"state": "building"|"done", "images": {...}})
    for the launcher's status and its optional wait. With ``poll_seconds``, it keeps watching the map and
    builds images registered later (a reused instance learns new folders without a restart); it never returns.
    """
    outcomes: dict[str, str] = {}
    built: dict[str, Path] = {}  # repository -> the folder its outcome is for

    def _write(state: str) -> None:
        if status_file is not None:
            tmp = status_file.with_suffix(".tmp")
            tmp.write_text(json.dumps({"state": state, "images": outcomes}))
            tmp.replace(status_file)

    first = True
    while True:
        todo = {name: folder for name, folder in sorted(image_sources().items()) if built.get(name) != folder}
        if todo or first:
            first = False
            outcomes.update({name: "pending" for name in todo})
            _write("building")
            for repository, folder in todo.items():
                try:
                    local = resolve(repository)
                    outcomes[repository] = f"ready: {local.python}"
                except (ImagePullError, OSError, subprocess.CalledProcessError) as err:
                    outcomes[repository] = f"failed: {err}"
                built[repository] = folder
                LOG.info("image %s: %s", repository, outcomes[repository])
                _write("building")
            _write("done")
        if poll_seconds is None:
            return outcomes
        time.sleep(poll_seconds)
