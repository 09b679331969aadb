"""Lint a whole plan: cfn-lint (cached) and the policy rules over every stack, in one report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dsplatform.lint.cfn import LintCache, cfn_lint
from dsplatform.lint.findings import Finding
from dsplatform.lint.policy import allowed_unscoped, check_policies
from dsplatform.stackspec import Plan


@dataclass
class LintReport:
    """Findings of one environment; ``ok`` when there is no error or warning."""

    env: str
    findings: list[Finding] = field(default_factory=list)
    accepted: list[Finding] = field(default_factory=list)
    cached: int = 0
    linted: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing but info-level findings remain."""
        return not any(f.level in ("error", "warning") for f in self.findings)


def lint_plan(plan: Plan, cache_dir: Path | None) -> LintReport:
    """Run cfn-lint and the policy rules on every stack of the plan."""
    report = LintReport(env=plan.target.env)
    cache = LintCache(cache_dir) if cache_dir else None
    for spec in plan.stacks:
        found, from_cache = cfn_lint(spec.name, spec.template, [plan.target.region], cache)
        report.findings += found
        report.cached += from_cache
        report.linted += not from_cache
        report.findings += check_policies(spec.name, spec.template)
        report.accepted += allowed_unscoped(spec.name, spec.template)
    return report
