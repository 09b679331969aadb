"""Fixtures for blueprint tests: rendered plans of the repository's environments."""

from __future__ import annotations

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
