"""`invoke pipeline`: the delivery stages in order on this machine, on a real LocalStack; a failed stage stops
the ones after it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from dsplatform.workflows.pipeline import STAGES, run_pipeline
from tests.integration.conftest import unique_env

ROOT = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path, url: str) -> tuple[str, str]:
    name, account = unique_env()
    doc = yaml.safe_load((ROOT / "dsplatform.yml").read_text())
    doc["localstack"] = {"endpoint_url": url}
    doc["environments"] = {name: {"account_id": account, "target": "localstack"}}
    doc["delivery"] = {}
    path = tmp_path / f"{name}.yml"
    path.write_text(yaml.safe_dump(doc))
    return str(path), name


def test_a_failed_stage_stops_the_ones_after_it(tmp_path: Path) -> None:
    path, env = _config(tmp_path, "http://127.0.0.1:9")  # nothing listens: no stage after tests may touch it
    result = run_pipeline(env, path, test_command=f"{sys.executable} -c 'raise SystemExit(3)'")
    assert [(s.name, s.outcome) for s in result.stages] == [
        ("tests", "failed"), ("images", "skipped"), ("deploy", "skipped"), ("e2e", "skipped"),
        ("evidence", "skipped")]
    assert not result.ok and "FAILED" in result.summary()


@pytest.mark.localstack
def test_pipeline_deploy_only_on_localstack(localstack: Any, tmp_path: Path) -> None:
    path, env = _config(tmp_path, localstack.endpoint_url)
    out = subprocess.run([sys.executable, "-m", "invoke", "pipeline", "--env", env, "--deploy-only", "--stacks",
                          "storage", "--config", path], cwd=ROOT, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "DSPLATFORM_LOCALSTACK_URL": localstack.endpoint_url})
    assert out.returncode == 0, out.stdout + out.stderr
    rows = [line.split()[:2] for line in out.stdout.splitlines() if line.startswith("  ")]
    assert [name for name, _ in rows] == list(STAGES)
    assert dict(rows) == {"tests": "skipped", "images": "skipped", "deploy": "passed", "e2e": "skipped",
                          "evidence": "passed"}
    evidence = json.loads((tmp_path / "build" / "pipeline" / f"{env}.json").read_text())
    assert list(evidence["templates"]) == [f"ds-{env}-storage"]
    cfn = localstack.client("cloudformation", account_id=evidence["templates"] and yaml.safe_load(
        Path(path).read_text())["environments"][env]["account_id"])
    status = cfn.describe_stacks(StackName=f"ds-{env}-storage")["Stacks"][0]["StackStatus"]
    assert status == "CREATE_COMPLETE"
