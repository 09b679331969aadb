"""Lint a whole plan: cfn-lint and checkov (both cached) and the policy rules over every stack, in one report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dsplatform.lint.cfn import LintCache, cfn_lint
from dsplatform.lint.checkov import CheckovCache, checkov_findings
from dsplatform.lint.findings import Finding
from dsplatform.lint.policy import allowed_unscoped, check_policies
from dsplatform.lint.suppressions import CHECKOV_SKIPS, template_skips
from dsplatform.localstack.settings import cache_dir as project_cache_dir
from dsplatform.stackspec import Plan


@dataclass
class LintReport:
    """Findings of one environment; ``ok`` when there is no error or warning."""

    env: str
    findings: list[Finding] = field(default_factory=list)
    accepted: list[Finding] = field(default_factory=list)
    suppressed: dict[str, str] = field(default_factory=dict)
    cached: int = 0
    linted: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing but info-level findings remain."""
        return not any(f.level in ("error", "warning") for f in self.findings)


def lint_plan(plan: Plan, cache_dir: Path | None, *, checkov: bool = True, tools_dir: Path | None = None) -> LintReport:
    """Run cfn-lint, checkov and the policy rules on every stack of the plan.

    ``tools_dir`` holds checkov's venv (default: the project cache, $DSPLATFORM_CACHE_DIR).
    """
    report = LintReport(env=plan.target.env)
    cache = LintCache(cache_dir) if cache_dir else None
    for spec in plan.stacks:
        found, from_cache = cfn_lint(spec.name, spec.template, [plan.target.region], cache)
        report.findings += found
        report.cached += from_cache
        report.linted += not from_cache
        report.findings += check_policies(spec.name, spec.template)
        report.accepted += allowed_unscoped(spec.name, spec.template)
    if checkov:
        cache = CheckovCache(cache_dir / "checkov") if cache_dir else None
        found, _ = checkov_findings({s.name: s.template for s in plan.stacks}, tools_dir or project_cache_dir(), cache)
        report.findings += found
        report.suppressed = dict(CHECKOV_SKIPS)
        for spec in plan.stacks:
            report.suppressed.update(template_skips(spec.name, spec.template))
    return report
