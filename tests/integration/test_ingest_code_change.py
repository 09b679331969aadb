"""Deploying changed ingest code publishes a version and moves `live` to it; the previous version stays."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from dsplatform.deployer import ClientFactory, Outcome, deploy, destroy
from dsplatform.synth import build_plan
from tests.integration.conftest import unique_env

pytestmark = pytest.mark.localstack
REPO = Path(__file__).resolve().parents[2]


def test_changed_code_moves_live_and_keeps_the_previous_version(localstack: Any, tmp_path: Path) -> None:
    name, account = unique_env()
    base = yaml.safe_load((REPO / "dsplatform.yml").read_text())
    doc = {k: v for k, v in base.items() if k != "environments"}
    doc["localstack"] = {"endpoint_url": localstack.endpoint_url}
    doc["environments"] = {name: {"account_id": account, "region": "us-east-1", "target": "localstack"}}
    (tmp_path / "dsplatform.yml").write_text(yaml.safe_dump(doc))
    # The project's own copy of the function overrides the shipped one; changing it is a code change.
    code = tmp_path / "functions" / "ingest"
    shutil.copytree(REPO / "functions" / "ingest", code, ignore=shutil.ignore_patterns("__pycache__"))
    plan = build_plan(name, str(tmp_path / "dsplatform.yml"), stacks=["ingest"])
    clients = ClientFactory(plan.target)
    lam = clients.client("lambda")
    stack = f"ds-{name}-ingest"
    try:
        first = deploy(plan, clients)
        assert first.ok, [(r.name, r.reason) for r in first.failures]
        outputs = first.stacks[stack].outputs
        before = lam.get_alias(FunctionName=outputs["FunctionName"], Name="live")["FunctionVersion"]

        handler = code / "ds_ingest" / "handler.py"
        handler.write_text(handler.read_text() + "\n# a change of code\n")
        second = deploy(build_plan(name, str(tmp_path / "dsplatform.yml"), stacks=["ingest"]), clients)
        assert second.stacks[stack].outcome is Outcome.UPDATED, second.stacks[stack].reason
        after = lam.get_alias(FunctionName=outputs["FunctionName"], Name="live")["FunctionVersion"]
        assert after != before and second.stacks[stack].outputs["FunctionVersion"] == after
        versions = {
            v["Version"] for v in lam.list_versions_by_function(FunctionName=outputs["FunctionName"])["Versions"]
        }
        assert {before, after} <= versions
        event = {"detail": {"stateMachineArn": "arn:aws:states:us-east-1:1:stateMachine:other", "input": "{}"}}
        reply = lam.invoke(FunctionName=outputs["FunctionAliasArn"], Payload=json.dumps(event).encode())
        assert "FunctionError" not in reply, reply["Payload"].read()
    finally:
        destroy(plan, clients, purge_data=True)
