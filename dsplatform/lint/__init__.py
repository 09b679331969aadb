"""Template checks: cfn-lint (cached by template hash) and the platform's own security policy rules."""

from dsplatform.lint.cfn import IGNORED_RULES, LintCache, cfn_lint
from dsplatform.lint.findings import Finding
from dsplatform.lint.policy import allowed_unscoped, check_policies

__all__ = ["IGNORED_RULES", "Finding", "LintCache", "allowed_unscoped", "cfn_lint", "check_policies"]
