"""The launcher: interpreter discovery, image mapping, reuse, stale/crash detection, the live process."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dsplatform.localstack import InterpreterNotFoundError, LocalStackError, LocalStackSettings, start, status
from dsplatform.localstack.imagesources import image_sources
from dsplatform.localstack.interpreter import find_python, python_version
from tests.localstack.support import settings_for


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_explicit_interpreter_that_does_not_work_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSPLATFORM_LOCALSTACK_PYTHON", "/nonexistent/python3.13")
    with pytest.raises(InterpreterNotFoundError, match="DSPLATFORM_LOCALSTACK_PYTHON") as err:
        find_python()
    assert "\n" not in str(err.value)


def test_no_interpreter_anywhere_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DSPLATFORM_LOCALSTACK_PYTHON", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    with pytest.raises(InterpreterNotFoundError, match=r"pyenv install 3\.13"):
        find_python()


def test_too_old_interpreter_is_skipped_for_a_newer_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DSPLATFORM_LOCALSTACK_PYTHON", raising=False)
    found = find_python()
    version = python_version(found)
    assert version is not None and version >= (3, 12)
    assert python_version(sys.executable) == sys.version_info[:2]


def test_containers_folders_map_to_ds_repositories(tmp_path: Path) -> None:
    for name in ("preprocessing", "training"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "Dockerfile").write_text("FROM python:3.11\n")
    (tmp_path / "notes").mkdir()  # no Dockerfile: not an image
    assert image_sources(tmp_path) == {
        "ds-preprocessing": tmp_path / "preprocessing",
        "ds-training": tmp_path / "training",
    }
    assert image_sources(tmp_path / "missing") == {}


def test_stale_pid_file_is_reported(tmp_path: Path) -> None:
    settings = LocalStackSettings(port=_free_port(), cache=tmp_path)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    settings.state_dir.mkdir(parents=True)
    settings.pid_file.write_text(f'{{"pid": {dead.pid}}}')
    settings.log_path.write_text("boom: the last thing it said\n")
    st = status(settings)
    assert not st.running and st.pid is None
    assert st.problem is not None and "stale" in st.problem and "boom: the last thing it said" in st.problem


def test_stop_ends_task_processes_left_by_a_killed_instance(tmp_path: Path) -> None:
    from dsplatform.localstack import stop

    settings = LocalStackSettings(port=_free_port(), cache=tmp_path)
    orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"], start_new_session=True)
    (settings.state_dir / "tasks").mkdir(parents=True)
    (settings.state_dir / "tasks" / str(orphan.pid)).write_text("arn:aws:ecs:us-east-1:1:task/c/t")
    try:
        assert stop(settings) is False  # no LocalStack recorded for that port
        assert orphan.wait(timeout=10) == -9
        assert list((settings.state_dir / "tasks").iterdir()) == []
    finally:
        if orphan.poll() is None:
            orphan.kill()


@pytest.mark.localstack
def test_start_twice_reuses_the_instance(localstack: Any) -> None:
    settings = settings_for(localstack)
    first = start(settings)
    second = start(settings)
    assert second.reused
    assert second.endpoint_url == first.endpoint_url == localstack.endpoint_url
    assert second.pid == first.pid


@pytest.mark.localstack
def test_recorded_process_is_alive_and_listening(localstack: Any) -> None:
    import testinfra

    settings = settings_for(localstack)
    st = status(settings)
    if st.pid is None:
        pytest.fail(f"no live PID recorded for port {settings.port}: {st.problem}")
    host = testinfra.get_host("local://")
    process = host.process.get(pid=st.pid)
    assert "localstack.runtime.main" in process.args
    assert host.socket(f"tcp://{settings.host}:{settings.port}").is_listening
    assert st.version == "2026.3.0"
    assert st.services.get("ecs") in ("available", "running")
    assert st.services.get("ecr") in ("available", "running")
    assert set(st.images) >= {"ds-preprocessing"}  # the extension reports the containers/* warm-up


@pytest.mark.localstack
def test_crash_during_start_is_reported_with_the_log(localstack: Any, tmp_path: Path) -> None:
    # The same venv (built by the session fixture), a bad gateway setting: LocalStack exits at once.
    settings = LocalStackSettings(
        port=_free_port(), extra_env={"GATEWAY_LISTEN": "127.0.0.1:not-a-port"}, startup_timeout=60
    )
    with pytest.raises(LocalStackError, match="exited during start-up") as err:
        start(settings)
    assert "last log lines" in str(err.value)
