"""Shared pieces of the platform's scenarios: the image push after a plugin deploy, sample data, the model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def pytest_ds_after_deploy(plan: Any, clients: Any, platform: Any) -> None:
    """After the plugin deployed the platform, push the job image its task definition names."""
    from dsplatform.jobimage import push_job_image

    push_job_image(clients, platform.task_definition_arn, platform.container_name, REPO_ROOT)


@pytest.fixture(scope="session")
def trained_model() -> Any:
    """A preprocessing model fitted on generated sample rows (the same for every scenario)."""
    from ds_preprocessing.model import train_on_sample

    return train_on_sample(rows=1000, seed=11)


@pytest.fixture(scope="session")
def sample_input() -> bytes:
    """Generated input with about 10% dirty rows of every kind."""
    from ds_preprocessing.sample import generate_csv

    return generate_csv(300, seed=5, dirty_fraction=0.1)
