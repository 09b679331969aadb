"""The launcher: interpreter discovery, image mapping, reuse, stale/crash detection, the live process."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dsplatform.localstack import (
    ForeignInstanceError,
    ImageSourceMapError,
    InterpreterNotFoundError,
    LocalStackError,
    LocalStackSettings,
    containers_image_sources,
    register_image_sources,
    registered_image_sources,
    start,
    status,
    stop,
)
from dsplatform.localstack.interpreter import find_python, python_version
from tests.localstack.support import settings_for
from tests.ports import free_port
from tests.processes import lookalike


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


def _job(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "Dockerfile").write_text("FROM python:3.11\n")
    return folder


def test_containers_folders_map_to_the_names_the_caller_gives(tmp_path: Path) -> None:
    _job(tmp_path / "preprocessing")
    _job(tmp_path / "scoring")
    (tmp_path / "notes").mkdir()  # no Dockerfile: not an image
    sources = containers_image_sources(tmp_path, lambda job: [f"ml-{job}", f"ml-{job}-qa"])
    assert sources == {
        "ml-preprocessing": tmp_path / "preprocessing",
        "ml-preprocessing-qa": tmp_path / "preprocessing",
        "ml-scoring": tmp_path / "scoring",
        "ml-scoring-qa": tmp_path / "scoring",
    }
    assert containers_image_sources(tmp_path / "missing", lambda job: [job]) == {}


def test_registrations_merge_and_a_new_map_replaces(tmp_path: Path) -> None:
    settings = LocalStackSettings(port=free_port(), cache=tmp_path / "cache")
    first, second = _job(tmp_path / "a"), _job(tmp_path / "b")
    register_image_sources(settings, {"ml-a": first, "ml-kept": first})
    merged = register_image_sources(settings, {"team/ml-b-dev": second, "ml-a": second})
    assert merged == {"ml-a": second, "ml-kept": first, "team/ml-b-dev": second}  # the newest folder wins
    assert json.loads(settings.sources_file.read_text()) == {k: str(v) for k, v in merged.items()}
    assert register_image_sources(settings, {"ml-c": first}, replace=True) == {"ml-c": first}
    assert registered_image_sources(settings) == {"ml-c": first}


@pytest.mark.parametrize(("name", "folder", "expected"), [
    ("ML-Upper", "job", "not a valid ECR repository name"),
    ("ml-job", "no-dockerfile", "not a folder with a Dockerfile"),
])
def test_a_bad_image_source_is_one_line_and_writes_nothing(
    tmp_path: Path, name: str, folder: str, expected: str
) -> None:
    settings = LocalStackSettings(port=free_port(), cache=tmp_path / "cache")
    good = _job(tmp_path / "job")
    (tmp_path / "no-dockerfile").mkdir()
    register_image_sources(settings, {"ml-kept": good})
    with pytest.raises(ImageSourceMapError, match=expected) as err:
        register_image_sources(settings, {"ml-other": good, name: tmp_path / folder})
    assert err.value.exit_code == 2 and "\n" not in str(err.value) and repr(name) in str(err.value)
    assert registered_image_sources(settings) == {"ml-kept": good}


@pytest.fixture
def foreign_instance(tmp_path: Path) -> Iterator[LocalStackSettings]:
    """State of a live 'LocalStack' (a sleeping process whose command line names the runtime) of another project."""
    fake = lookalike()
    settings = LocalStackSettings(port=free_port(), cache=tmp_path / "cache", project_root=tmp_path / "mine")
    settings.state_dir.mkdir(parents=True)
    owner = tmp_path / "other-project"
    settings.pid_file.write_text(json.dumps({"pid": fake.pid, "port": settings.port, "project_root": str(owner)}))
    try:
        yield settings
    finally:
        fake.kill()
        fake.wait()


@pytest.mark.parametrize("action", [start, stop, status])
def test_another_project_s_instance_is_refused_naming_its_root(
    foreign_instance: LocalStackSettings, action: Any, tmp_path: Path
) -> None:
    state_before = foreign_instance.pid_file.read_text()
    with pytest.raises(ForeignInstanceError) as err:
        action(foreign_instance)
    message = str(err.value)
    assert err.value.exit_code == 2 and "\n" not in message
    assert f"belongs to project {tmp_path / 'other-project'}" in message and str(tmp_path / "mine") in message
    pid = json.loads(state_before)["pid"]
    assert Path(f"/proc/{pid}").exists()  # not signalled
    assert foreign_instance.pid_file.read_text() == state_before  # nothing changed


def test_the_owning_project_root_is_not_refused(foreign_instance: LocalStackSettings, tmp_path: Path) -> None:
    owner = dataclasses.replace(foreign_instance, project_root=tmp_path / "other-project")
    st = status(owner)  # the fake answers no health check: reported, not refused
    assert st.pid is not None and st.problem is not None and "does not answer" in st.problem


def test_a_deploy_registers_its_images_unless_another_project_s_instance_runs_there(
        foreign_instance: LocalStackSettings, tmp_path: Path) -> None:
    from dsplatform.localstack import register_own_images

    folder = tmp_path / "serving"
    folder.mkdir()
    (folder / "Dockerfile").write_text("FROM python:3.11-slim\n")
    mine = dataclasses.replace(foreign_instance, image_sources={"mdl-serving": folder})
    assert register_own_images(mine) is False and registered_image_sources(mine) == {}  # its map is its own
    owner = dataclasses.replace(mine, project_root=tmp_path / "other-project")
    assert register_own_images(owner) is True and registered_image_sources(owner) == {"mdl-serving": folder}
    nothing_running = dataclasses.replace(mine, port=free_port())
    assert register_own_images(nothing_running) is True
    assert registered_image_sources(nothing_running) == {"mdl-serving": folder}


def test_stale_pid_file_is_reported(tmp_path: Path) -> None:
    settings = LocalStackSettings(port=free_port(), cache=tmp_path)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    settings.state_dir.mkdir(parents=True)
    # Recorded for another project: a dead PID owns nothing, so this is reported as stale, not refused.
    settings.pid_file.write_text(json.dumps({"pid": dead.pid, "project_root": "/elsewhere/other-project"}))
    settings.log_path.write_text("boom: the last thing it said\n")
    st = status(settings)
    assert not st.running and st.pid is None
    assert st.problem is not None and "stale" in st.problem and "boom: the last thing it said" in st.problem


def test_stop_ends_task_processes_left_by_a_killed_instance(tmp_path: Path) -> None:
    from dsplatform.localstack import stop

    settings = LocalStackSettings(port=free_port(), cache=tmp_path)
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
    assert set(st.images) >= {"ds-preprocessing"}  # the extension reports the registered images' warm-up


@pytest.mark.localstack
def test_the_session_instance_refuses_another_project_root(localstack: Any, tmp_path: Path) -> None:
    settings = settings_for(localstack)
    if status(settings).pid is None:
        pytest.fail(f"no live PID recorded for port {settings.port}; the session fixture should have started it")
    with pytest.raises(ForeignInstanceError, match=f"belongs to project {settings.project_root}"):
        start(dataclasses.replace(settings, project_root=tmp_path))
    assert start(settings).reused  # its own project still reuses it


@pytest.mark.localstack
def test_crash_during_start_is_reported_with_the_log(localstack: Any, tmp_path: Path) -> None:
    # The same venv (built by the session fixture), a bad gateway setting: LocalStack exits at once.
    settings = LocalStackSettings(
        port=free_port(), extra_env={"GATEWAY_LISTEN": "127.0.0.1:not-a-port"}, startup_timeout=60
    )
    with pytest.raises(LocalStackError, match="exited during start-up") as err:
        start(settings)
    assert "last log lines" in str(err.value)
