"""Fixtures for hostile-input tests: run a task in-process, refuse any AWS client, socket or subprocess."""

from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


class Contacted(AssertionError):
    """Something tried to reach AWS, LocalStack or a process: a bad input must stop before that."""


@dataclass(frozen=True)
class CliResult:
    """Exit code and captured output of one in-process task run."""

    code: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        """The non-empty stderr lines."""
        return [line for line in self.stderr.splitlines() if line.strip()]


@pytest.fixture
def no_contact(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail loudly if anything creates a boto3/botocore client, opens a socket or starts a process."""
    import botocore.session

    def refuse(what: str) -> Callable[..., object]:
        def fail(*args: object, **kwargs: object) -> object:
            raise Contacted(f"a bad input reached {what}")

        return fail

    monkeypatch.setattr(botocore.session.Session, "create_client", refuse("an AWS client"))
    monkeypatch.setattr(socket.socket, "connect", refuse("a socket connect"))
    monkeypatch.setattr(socket, "create_connection", refuse("a connection"))
    monkeypatch.setattr(subprocess.Popen, "__init__", refuse("a subprocess"))
    # Credentials: none anywhere, and botocore must not ask the instance metadata service either.
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")


@pytest.fixture
def project_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the repository's config in an empty folder, with an earlier synth's output; the cwd."""
    shutil.copy(ROOT / "dsplatform.yml", tmp_path / "dsplatform.yml")
    old = tmp_path / "build" / "dev" / "ds-dev-storage.json"
    old.parent.mkdir(parents=True)
    old.write_text('{"earlier": "synth"}\n')
    monkeypatch.chdir(tmp_path)
    return tmp_path


def snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    """Every file and folder under ``folder``: modification time and content hash (folders: '').

    Symlinks and special files (a FIFO a test made on purpose) are listed by name only: reading them could block.
    """
    out: dict[str, tuple[int, str]] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            out[str(path.relative_to(folder))] = (0, "special")
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
        out[str(path.relative_to(folder))] = (path.stat().st_mtime_ns if path.is_file() else 0, digest)
    return out


@pytest.fixture
def run_task(no_contact: None, capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run ``invoke ARGS`` in-process against this repo's task collection; never raises SystemExit."""
    from invoke import Program

    from dsplatform.tasks import ns

    def run(*argv: str) -> CliResult:
        capsys.readouterr()
        program = Program(namespace=ns, name="invoke", binary="invoke")
        try:
            program.run(["invoke", *argv])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out = capsys.readouterr()
        return CliResult(code, out.out, out.err)

    return run
