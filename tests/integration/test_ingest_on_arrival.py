"""The ingest scenarios that need ``schedule.trigger: on_arrival`` (skipped, with their reason, in the repository's
environments, whose trigger is ``schedule``), run by the harness on a fresh on_arrival environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from dsplatform.localstack import LocalStackSettings, register_image_sources
from dsplatform.localstack.imagesources import plan_image_sources
from dsplatform.synth import build_plan
from tests.integration.conftest import unique_env

pytestmark = pytest.mark.localstack
REPO = Path(__file__).resolve().parents[2]


def test_on_arrival_scenarios_pass(localstack: Any, tmp_path: Path) -> None:
    name, account = unique_env()
    base = yaml.safe_load((REPO / "dsplatform.yml").read_text())
    doc = {k: v for k, v in base.items() if k != "environments"}
    doc["localstack"] = {"endpoint_url": localstack.endpoint_url}
    doc["environments"] = {name: {"account_id": account, "region": "us-east-1", "target": "localstack",
                                  "settings": {"compute": {"cpu": 1024, "memory": 2048},
                                               "schedule": {"trigger": "on_arrival"}}}}
    config = tmp_path / "dsplatform.yml"
    config.write_text(yaml.safe_dump(doc))
    # The stock job's image: the shipped source (this config's folder has none), registered on the session's
    # instance, which belongs to the repository's project root.
    url = urlparse(localstack.endpoint_url)
    settings = LocalStackSettings(host=url.hostname or "127.0.0.1", port=url.port or 4566, project_root=REPO)
    register_image_sources(settings, plan_image_sources(build_plan(name, str(config))))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "harness/scenarios/ingest", "-k", "on_arrival", "-q", "-rs", "-p",
         "no:cacheprovider", "--ds-env", name, "--ds-config", str(config)],
        cwd=REPO, capture_output=True, text=True, timeout=900,
        env={**os.environ, "DSPLATFORM_LOCALSTACK_URL": localstack.endpoint_url},
    )
    tail = run.stdout[-3000:] + run.stderr[-2000:]
    assert run.returncode == 0, tail
    assert "2 passed" in run.stdout and "skipped" not in run.stdout, tail
