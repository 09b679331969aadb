"""checkov in ``invoke lint``: a bad property is found, the platform's templates pass, each suppression is needed."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import pytest

from dsplatform.config import load_config
from dsplatform.lint.checkov import CheckovCache, checkov_findings, ensure_checkov, parse_report, scan
from dsplatform.lint.run import lint_plan
from dsplatform.lint.suppressions import CHECKOV_SKIPS
from dsplatform.localstack.settings import cache_dir
from dsplatform.stackspec import Plan
from dsplatform.synth import plan_from_config

PROJECT = load_config(Path(__file__).parents[2] / "dsplatform.yml")


def _plan(env: str = "dev") -> Plan:
    return plan_from_config(PROJECT, env)


def _with_template(plan: Plan, component: str, mutate) -> Plan:
    stacks = []
    for spec in plan.stacks:
        if spec.component == component:
            template = copy.deepcopy(spec.template)
            mutate(template)
            spec = dataclasses.replace(spec, template=template)
        stacks.append(spec)
    return Plan(plan.target, tuple(stacks))


def test_report_is_mapped_to_stacks_and_logical_ids():
    raw = json.dumps({"check_type": "cloudformation", "summary": {"parsing_errors": 0}, "results": {
        "failed_checks": [{"check_id": "CKV_AWS_26", "check_name": "Ensure SNS topic encryption",
                           "file_path": "/ds-dev-alerts.json", "resource": "AWS::SNS::Topic.AlertTopic"}]}})
    found = parse_report(raw, {"ds-dev-alerts", "ds-dev-storage"})
    assert found["ds-dev-storage"] == []
    [finding] = found["ds-dev-alerts"]
    assert (finding.stack, finding.resource, finding.rule, finding.level) == (
        "ds-dev-alerts", "AlertTopic", "CKV_AWS_26", "error")


@pytest.fixture(scope="module")
def unsuppressed() -> dict[str, list]:
    """checkov over every stack of every environment with no suppression at all (one process: it is slow)."""
    templates = {s.name: s.template for env in sorted(PROJECT.environments) for s in _plan(env).stacks}
    return scan(ensure_checkov(cache_dir()), templates, skips={})


def test_platform_templates_pass_checkov_but_for_the_listed_suppressions(unsuppressed):
    left = [str(f) for findings in unsuppressed.values() for f in findings if f.rule not in CHECKOV_SKIPS]
    assert left == []


def test_every_suppression_is_still_needed(unsuppressed):
    """Without the skips checkov finds every suppressed check somewhere (a stale suppression fails here)."""
    assert {f.rule for findings in unsuppressed.values() for f in findings} >= set(CHECKOV_SKIPS)


def test_a_known_bad_property_fails_lint_with_a_checkov_finding_and_results_are_cached(tmp_path):
    bad = _with_template(_plan(), "alerts",
                         lambda t: t["Resources"]["AlertTopic"]["Properties"].pop("KmsMasterKeyId"))
    report = lint_plan(bad, tmp_path)
    checkov = [(f.stack, f.resource, f.rule) for f in report.findings if f.rule.startswith("CKV")]
    assert checkov == [("ds-dev-alerts", "AlertTopic", "CKV_AWS_26")]
    assert not report.ok and report.suppressed == CHECKOV_SKIPS
    templates = {s.name: s.template for s in bad.stacks}
    again, from_cache = checkov_findings(templates, cache_dir(), CheckovCache(tmp_path / "checkov"))
    assert from_cache == len(templates) and [f.rule for f in again] == ["CKV_AWS_26"]
