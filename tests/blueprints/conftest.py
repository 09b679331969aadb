"""Fixtures for blueprint tests: rendered plans of the repository's environments."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from dsplatform.config import load_config
from dsplatform.synth import plan_from_config

CONFIG = Path(__file__).parents[2] / "dsplatform.yml"


@pytest.fixture(scope="session")
def project():
    """The repository's configuration."""
    return load_config(CONFIG)


@pytest.fixture(scope="session")
def plans(project):
    """Environment name -> Plan of the repository's configuration."""
    return {env: plan_from_config(project, env) for env in project.environments}


def resources_of(template, kind):
    """Logical id -> resource for every resource of one type."""
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def assert_matches_snapshot(path: Path, actual: str, label: str) -> None:
    """Fail with a diff when ``actual`` differs from the snapshot at ``path``.

    With DSPLATFORM_UPDATE_SNAPSHOTS=1 a differing snapshot is written and the test still fails: compared first,
    written second, so a run that had to update a snapshot never reports a pass.
    """
    expected = path.read_text(encoding="utf-8") if path.exists() else None
    if actual == expected:
        return
    if os.environ.get("DSPLATFORM_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        pytest.fail(f"{label}: snapshot {'created' if expected is None else 'updated'} at {path}; review it with "
                    f"`git diff` and run again without the flag")
    assert expected is not None, f"no snapshot {path}; run with DSPLATFORM_UPDATE_SNAPSHOTS=1 to create it"
    diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True), str(path), "rendered", n=2))
    pytest.fail(f"{label} differs from its snapshot (DSPLATFORM_UPDATE_SNAPSHOTS=1 to accept):\n{diff}")
