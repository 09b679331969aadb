"""checkov, the IaC security scanner, over a plan's templates: in its own cached venv, results cached by template.

checkov pins boto3 and networkx older than the project's, so it is installed (once, from a pinned
constraints file shipped beside this module) into ``<cache>/checkov/venv-<pins hash>`` and run as a
process on a folder of templates, one process for every template not already in the result cache.
It runs offline (``--skip-download``). Suppressions come from ``dsplatform.lint.suppressions`` only.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from dsplatform.errors import DsPlatformError
from dsplatform.lint.cfn import LintCache
from dsplatform.lint.findings import Finding
from dsplatform.lint.suppressions import CHECKOV_SKIPS
from dsplatform.procs import run_logged

CHECKOV_VERSION = "3.3.30"
_FRAMEWORK = "cloudformation"


class CheckovError(DsPlatformError):
    """checkov could not be installed or could not scan (never a silent pass)."""

    exit_code = 1


def constraints_text() -> str:
    """The pinned constraints checkov's venv is built from (shipped in the package)."""
    return resources.files("dsplatform.lint").joinpath("checkov-constraints.txt").read_text(encoding="utf-8")


def venv_dir(cache_root: Path) -> Path:
    """Where checkov's venv for these pins lives."""
    key = hashlib.sha256((constraints_text() + CHECKOV_VERSION).encode()).hexdigest()[:16]
    return cache_root / "checkov" / f"venv-{key}"


def _run(argv: list[str], log: Path, what: str) -> None:
    run_logged(argv, log, what, CheckovError)

def ensure_checkov(cache_root: Path) -> Path:
    """The checkov executable, installing its venv first if needed (about 2 minutes, once per pin file)."""
    venv = venv_dir(cache_root)
    venv.parent.mkdir(parents=True, exist_ok=True)
    executable = venv / "bin" / "checkov"
    # Several lint runs (other worktrees, parallel tests) may build at once: a file lock serialises them.
    with open(venv.parent / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (venv / ".ready").exists():
            return executable
        shutil.rmtree(venv, ignore_errors=True)
        log = venv.parent / f"{venv.name}.install.log"
        log.write_text("")
        constraints = venv.parent / f"{venv.name}.constraints.txt"
        constraints.write_text(constraints_text(), encoding="utf-8")
        _run([sys.executable, "-m", "venv", str(venv)], log, "creating checkov's venv")
        _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-c", str(constraints),
              f"checkov=={CHECKOV_VERSION}"], log, "installing checkov")
        (venv / ".ready").write_text(CHECKOV_VERSION)
    return executable


class CheckovCache(LintCache):
    """Per-template checkov results; the key covers the template, checkov's version and the suppressions."""

    def key(self, text: str, regions: list[str] | None = None) -> str:
        """Content hash of everything that changes a checkov result."""
        material = json.dumps([text, "checkov", CHECKOV_VERSION, sorted(CHECKOV_SKIPS)])
        return hashlib.sha256(material.encode()).hexdigest()


def _template_text(template: Mapping[str, Any]) -> str:
    return json.dumps(template, sort_keys=True, indent=2)


def parse_report(raw: str, stacks: set[str]) -> dict[str, list[Finding]]:
    """Findings per stack from checkov's JSON report (files are named ``<stack>.json``)."""
    found: dict[str, list[Finding]] = {stack: [] for stack in stacks}
    if not raw.strip():
        return found
    data = json.loads(raw)
    reports = data if isinstance(data, list) else [data]
    for report in reports:
        if not isinstance(report, dict) or report.get("check_type") != _FRAMEWORK:
            continue
        if report.get("summary", {}).get("parsing_errors"):
            raise CheckovError(f"checkov could not parse some templates: {report['results'].get('parsing_errors')}")
        for item in report.get("results", {}).get("failed_checks", []):
            stack = Path(item["file_path"]).stem
            logical = str(item.get("resource", "")).rsplit(".", 1)[-1] or "template"
            found.setdefault(stack, []).append(
                Finding(stack=stack, resource=logical, rule=item["check_id"], message=item["check_name"]))
    return found


def scan(executable: Path, templates: Mapping[str, Mapping[str, Any]],
         skips: Mapping[str, str] = CHECKOV_SKIPS) -> dict[str, list[Finding]]:
    """Run checkov once over these templates (stack name -> template) and return findings per stack."""
    with tempfile.TemporaryDirectory(prefix="dsplatform-checkov-") as folder:
        for stack, template in templates.items():
            (Path(folder) / f"{stack}.json").write_text(_template_text(template), encoding="utf-8")
        argv = [str(executable), "--directory", folder, "--framework", _FRAMEWORK, "--output", "json",
                "--quiet", "--compact", "--skip-download"]
        if skips:
            argv += ["--skip-check", ",".join(sorted(skips))]
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
    # checkov exits 1 when a check failed, 0 when none did; anything else is checkov failing.
    if result.returncode not in (0, 1):
        tail = " | ".join(result.stderr.strip().splitlines()[-3:])
        raise CheckovError(f"checkov failed (exit {result.returncode}): {tail}")
    try:
        return parse_report(result.stdout, set(templates))
    except (ValueError, KeyError) as err:
        raise CheckovError(f"checkov's report could not be read ({err}): {result.stdout[:200]!r}") from err


def checkov_findings(templates: Mapping[str, Mapping[str, Any]], cache_root: Path,
                     cache: CheckovCache | None = None) -> tuple[list[Finding], int]:
    """checkov findings for every template (stack name -> template), and how many came from the cache."""
    results: dict[str, list[Finding]] = {}
    todo: dict[str, Mapping[str, Any]] = {}
    for stack, template in templates.items():
        hit = cache.get(cache.key(_template_text(template))) if cache else None
        if hit is None:
            todo[stack] = template
        else:
            results[stack] = hit
    if todo:
        fresh = scan(ensure_checkov(cache_root), todo)
        for stack, template in todo.items():
            results[stack] = fresh.get(stack, [])
            if cache is not None:
                cache.put(cache.key(_template_text(template)), results[stack])
    return [f for stack in templates for f in results[stack]], len(templates) - len(todo)
