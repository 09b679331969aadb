"""Snapshot of every stack of every environment: a diff on mismatch; update with DSPLATFORM_UPDATE_SNAPSHOTS=1."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsplatform.config import load_config
from dsplatform.synth import plan_from_config, template_json
from tests.blueprints.conftest import assert_matches_snapshot

SNAPSHOTS = Path(__file__).parent / "snapshots"
PROJECT = load_config(Path(__file__).parents[2] / "dsplatform.yml")
CASES = [(env, spec) for env in sorted(PROJECT.environments) for spec in plan_from_config(PROJECT, env).stacks]


@pytest.mark.parametrize(("env", "spec"), CASES, ids=[spec.name for _, spec in CASES])
def test_template_matches_snapshot(env, spec):
    path = SNAPSHOTS / env / f"{spec.name}.json"
    actual = template_json(spec.template)
    assert_matches_snapshot(path, actual, spec.name)


def test_no_orphan_snapshots():
    expected = {f"{env}/{spec.name}.json" for env, spec in CASES}
    present = {str(p.relative_to(SNAPSHOTS)) for p in SNAPSHOTS.glob("*/*.json")}
    assert present == expected
