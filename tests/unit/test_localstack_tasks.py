"""`localstack.*` tasks follow the config: its endpoint's port, its folder as the project root, one-line refusals."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dsplatform.tasks.localstack_tasks import env_image_sources, localstack_settings
from tests.ports import free_port
from tests.processes import lookalike

ROOT = Path(__file__).resolve().parents[2]


def _project(folder: Path, port: int) -> Path:
    """A copy of this repo's config whose LocalStack endpoint is on ``port``."""
    folder.mkdir(parents=True, exist_ok=True)
    text = (ROOT / "dsplatform.yml").read_text()
    text, count = re.subn(r"endpoint_url: http://127\.0\.0\.1:\d+", f"endpoint_url: http://127.0.0.1:{port}", text)
    assert count == 1, "the repo's dsplatform.yml should name localstack.endpoint_url once"
    (folder / "dsplatform.yml").write_text(text)
    return folder / "dsplatform.yml"


def test_settings_take_the_port_and_root_from_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DSPLATFORM_LOCALSTACK_URL", raising=False)
    config = _project(tmp_path / "proj", 4711)
    settings = localstack_settings(str(config))
    assert (settings.host, settings.port, settings.project_root) == ("127.0.0.1", 4711, config.parent.resolve())
    assert localstack_settings(str(config), port="4712").port == 4712  # an explicit --port wins
    monkeypatch.setenv("DSPLATFORM_LOCALSTACK_URL", "http://127.0.0.2:4713")
    overridden = localstack_settings(str(config))
    assert (overridden.host, overridden.port) == ("127.0.0.2", 4713)  # as for deploys (synth.make_target)


def test_without_a_config_the_folder_and_default_port_are_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DSPLATFORM_LOCALSTACK_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    settings = localstack_settings()
    assert (settings.port, settings.project_root) == (4566, tmp_path.resolve())
    nested = tmp_path / "proj" / "sub"
    nested.mkdir(parents=True)
    _project(tmp_path / "proj", 4714)
    monkeypatch.chdir(nested)  # dsplatform.yml is found in a parent folder, as every task finds it
    assert localstack_settings().project_root == (tmp_path / "proj").resolve()


def _invoke(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # The config decides the port, and the state lives in a cache of this test's own.
    env = {k: v for k, v in os.environ.items() if k != "DSPLATFORM_LOCALSTACK_URL"}
    env["DSPLATFORM_CACHE_DIR"] = str(cwd / "cache")
    invoke = str(Path(sys.executable).with_name("invoke"))
    return subprocess.run([invoke, "--search-root", str(ROOT), *args], capture_output=True, text=True, cwd=cwd,
                          env=env, check=False)


def test_status_task_looks_at_the_config_s_port(tmp_path: Path) -> None:
    port = free_port()
    config = _project(tmp_path / "proj", port)
    result = _invoke("localstack.status", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert f"endpoint: http://127.0.0.1:{port}" in result.stdout
    assert f"project:  {config.parent.resolve()}" in result.stdout
    assert f"invoke localstack.start --port {port}" in result.stderr  # the hint names the right instance


def test_stop_task_refuses_another_project_s_instance_in_one_line(tmp_path: Path) -> None:
    port = free_port()
    config = _project(tmp_path / "proj", port)
    state = tmp_path / "cache" / "localstack" / f"port-{port}"
    fake = lookalike()
    try:
        state.mkdir(parents=True, exist_ok=True)
        (state / "instance.json").write_text(json.dumps({"pid": fake.pid, "project_root": "/elsewhere/ml-team"}))
        result = _invoke("localstack.stop", "--config", str(config), cwd=tmp_path)
        assert result.returncode == 2, result.stdout + result.stderr
        assert result.stderr.strip().count("\n") == 0
        assert "belongs to project /elsewhere/ml-team" in result.stderr
        assert fake.poll() is None  # still running: nothing was signalled
    finally:
        fake.kill()
        fake.wait()


def test_start_can_register_the_plan_s_job_images_under_the_project_s_names(tmp_path: Path) -> None:
    config = _project(tmp_path / "proj", 4715)
    config.write_text(config.read_text().replace("  name: ds\n", "  name: ml\n", 1))
    shipped = env_image_sources(str(config), "all")
    # Without its own copy of the stock job, the project runs the one dsplatform ships (editable: the checkout).
    assert set(shipped.values()) == {ROOT / "containers" / "preprocessing"}, shipped
    own = tmp_path / "proj" / "containers" / "preprocessing"
    own.mkdir(parents=True)
    (own / "Dockerfile").write_text("FROM python:3.11-slim\n")
    sources = env_image_sources(str(config), "all")
    # Repository names come from the project (no ds- prefix); folders from the config's folder, not the repo.
    assert sources and all(name.startswith("ml-") for name in sources), sources
    assert all(folder.is_relative_to(tmp_path / "proj" / "containers") for folder in sources.values()), sources
    assert env_image_sources(str(config), "dev").keys() <= sources.keys()


def test_settings_for_a_plan_use_its_endpoint_root_and_images(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dsplatform.localstack import LocalStackSettings
    from dsplatform.synth import build_plan

    monkeypatch.delenv("DSPLATFORM_LOCALSTACK_URL", raising=False)
    config = _project(tmp_path / "proj", 4716)
    config.write_text(config.read_text().replace("  name: ds\n", "  name: ml\n", 1))
    plan = build_plan("dev", str(config), "localstack")
    settings = LocalStackSettings.for_plan(plan, wait_for_images=True)
    assert (settings.port, settings.project_root, settings.wait_for_images) == (4716, config.parent.resolve(), True)
    assert dict(settings.image_sources) == {image.repository: image.source for image in plan.images}
    assert settings.image_sources and all(name.startswith("ml-") for name in settings.image_sources)
