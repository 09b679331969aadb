"""Promotion evidence covers a function's code: the deployer fills its asset parameters only at deploy time."""

from __future__ import annotations

from pathlib import Path

from dsplatform.hashing import sha256_json
from dsplatform.stackspec import CodeAsset, Plan, StackSpec, Target
from dsplatform.workflows.promotion.record import render

TARGET = Target(env="stg", account_id="222222222222", region="us-east-1", kind="aws")


def _plan(source: Path | None) -> Plan:
    assets = (CodeAsset("ingest", source, "CodeBucket", "CodeKey", "CodeSha256"),) if source else ()
    return Plan(TARGET, (StackSpec(name="ds-stg-ingest", component="ingest", template={"Resources": {}},
                                   parameters={"A": "1"}, assets=assets),))


def test_a_code_change_changes_the_evidence_and_stacks_without_code_keep_their_hash(tmp_path: Path) -> None:
    (tmp_path / "handler.py").write_text("x = 1\n")
    before = render(_plan(tmp_path)).stacks["ingest"].parameters_sha256
    (tmp_path / "handler.py").write_text("x = 2\n")
    after = render(_plan(tmp_path)).stacks["ingest"].parameters_sha256
    assert before != after
    assert render(_plan(None)).stacks["ingest"].parameters_sha256 == sha256_json({"A": "1"})
