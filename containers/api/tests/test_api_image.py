"""The API image's contract: the job's pins unchanged, slim base, non-root, uvicorn on 0.0.0.0:8080."""

from __future__ import annotations

from pathlib import Path

API = Path(__file__).resolve().parents[1]
JOB = API.parent / "preprocessing"


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"{path}: {line!r} is not pinned with =="
            pins[name.lower()] = version
    return pins


def test_the_api_pins_every_job_dependency_at_the_job_version() -> None:
    api, job = _pins(API / "requirements.txt"), _pins(JOB / "requirements.txt")
    assert {name: api.get(name) for name in job} == job
    assert {"fastapi", "uvicorn"} <= set(api)


def test_the_api_runs_the_jobs_own_package_not_a_copy() -> None:
    link = API / "ds_preprocessing"
    assert link.is_symlink() and link.resolve() == (JOB / "ds_preprocessing").resolve()
    dockerfile = (API / "Dockerfile").read_text()
    assert "COPY preprocessing/ds_preprocessing ./ds_preprocessing" in dockerfile


def test_the_image_is_slim_non_root_and_serves_with_uvicorn() -> None:
    lines = [line.strip() for line in (API / "Dockerfile").read_text().splitlines()]
    assert [line for line in lines if line.startswith("FROM")] == ["FROM python:3.11-slim"]
    assert "USER 10001" in lines
    cmd = next(line for line in lines if line.startswith("CMD"))
    assert '"uvicorn"' in cmd and '"0.0.0.0"' in cmd and '"8080"' in cmd
