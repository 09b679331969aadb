"""cfn-lint through its Python API, with results cached by template hash (cfn-lint takes seconds a template)."""

from __future__ import annotations

import hashlib
import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

from dsplatform.lint.findings import Finding
from dsplatform.lint.suppressions import CFN_LINT_IGNORED

# Rules switched off for every template, each with its reason: listed in dsplatform.lint.suppressions only.
IGNORED_RULES: dict[str, str] = CFN_LINT_IGNORED


class LintCache:
    """A folder of ``<sha256>.json`` results; the key covers template, regions, cfn-lint version and ignores."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def key(self, text: str, regions: list[str]) -> str:
        """Content hash of everything that changes a lint result."""
        material = json.dumps([text, sorted(regions), version("cfn-lint"), sorted(IGNORED_RULES)])
        return hashlib.sha256(material.encode()).hexdigest()

    def get(self, key: str) -> list[Finding] | None:
        """Cached findings, or None when this content was never linted."""
        path = self.folder / f"{key}.json"
        if not path.is_file():
            return None
        return [Finding(**item) for item in json.loads(path.read_text(encoding="utf-8"))]

    def put(self, key: str, findings: list[Finding]) -> None:
        """Remember findings for this content."""
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f"{key}.tmp"
        tmp.write_text(json.dumps([f.to_dict() for f in findings]), encoding="utf-8")
        tmp.replace(self.folder / f"{key}.json")


def _level(rule_id: str) -> str:
    return {"E": "error", "W": "warning"}.get(rule_id[:1], "info")


def cfn_lint(stack: str, template: dict[str, Any] | str, regions: list[str],
             cache: LintCache | None = None) -> tuple[list[Finding], bool]:
    """Lint one template; return (findings, whether the result came from the cache)."""
    text = template if isinstance(template, str) else json.dumps(template, sort_keys=True, indent=2)
    key = cache.key(text, regions) if cache else ""
    if cache is not None and (hit := cache.get(key)) is not None:
        return hit, True
    # Imported here: cfn-lint's import alone costs about a second, and cached runs never need it.
    from cfnlint.api import ManualArgs, lint

    matches = lint(text, config=ManualArgs(regions=regions, ignore_checks=list(IGNORED_RULES)))
    findings = [Finding(stack=stack, resource="/".join(str(p) for p in m.path[:2]) if m.path else "template",
                        rule=m.rule.id, message=m.message, level=_level(m.rule.id)) for m in matches]
    if cache is not None:
        cache.put(key, findings)
    return findings, False
