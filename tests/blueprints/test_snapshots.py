"""Snapshot of every stack of every environment: a diff on mismatch; update with DSPLATFORM_UPDATE_SNAPSHOTS=1."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from dsplatform.config import load_config
from dsplatform.synth import plan_from_config, template_json

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("DSPLATFORM_UPDATE_SNAPSHOTS") == "1"
PROJECT = load_config(Path(__file__).parents[2] / "dsplatform.yml")
CASES = [(env, spec) for env in sorted(PROJECT.environments) for spec in plan_from_config(PROJECT, env).stacks]


@pytest.mark.parametrize(("env", "spec"), CASES, ids=[spec.name for _, spec in CASES])
def test_template_matches_snapshot(env, spec):
    path = SNAPSHOTS / env / f"{spec.name}.json"
    actual = template_json(spec.template)
    expected = path.read_text(encoding="utf-8") if path.exists() else None
    if actual == expected:
        return
    # Compared first, written second: a run that had to update a snapshot never reports a pass.
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        pytest.fail(f"{spec.name}: snapshot {'created' if expected is None else 'updated'}; review it with "
                    f"`git diff {path.relative_to(SNAPSHOTS.parents[2])}` and run again without the flag")
    assert expected is not None, f"no snapshot {path}; run with DSPLATFORM_UPDATE_SNAPSHOTS=1 to create it"
    diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True), str(path), "rendered", n=2))
    pytest.fail(f"{spec.name} differs from its snapshot (DSPLATFORM_UPDATE_SNAPSHOTS=1 to accept):\n{diff}")


def test_no_orphan_snapshots():
    expected = {f"{env}/{spec.name}.json" for env, spec in CASES}
    present = {str(p.relative_to(SNAPSHOTS)) for p in SNAPSHOTS.glob("*/*.json")}
    assert present == expected
