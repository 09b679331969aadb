"""Run the platform's pytest scenarios (harness/scenarios) in a subprocess and read back what happened."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = REPO_ROOT / "harness" / "scenarios"


@dataclass
class ScenarioRun:
    """Outcome of one pytest run over the scenarios."""

    exit_code: int
    seconds: float
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    pipeline_seconds: float = 0.0
    scenarios: list[dict[str, Any]] = field(default_factory=list)
    output: str = ""

    @property
    def ok(self) -> bool:
        """True when pytest passed and at least one scenario ran."""
        return self.exit_code == 0 and bool(self.passed)


def plugin_args() -> list[str]:
    """``-p harness.plugin`` unless the installed ``dsplatform`` pytest11 entry point already loads it."""
    names = {ep.name for ep in importlib.metadata.entry_points(group="pytest11")}
    return [] if "dsplatform" in names else ["-p", "harness.plugin"]


def run_scenarios(
    env: str,
    target: str | None,
    config_path: str | None,
    reports_dir: Path,
    *,
    reuse: bool = True,
    keep: bool = True,
    markers: str | None = None,
    paths: list[str] | None = None,
    stream: bool = True,
) -> ScenarioRun:
    """Run pytest on the scenarios against ``env``; JUnit XML and the per-scenario JSON go to ``reports_dir``."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    junit, details = reports_dir / "junit.xml", reports_dir / "scenarios.json"
    details.unlink(missing_ok=True)
    junit.unlink(missing_ok=True)
    args = [sys.executable, "-m", "pytest", *(paths or [str(SCENARIOS)]), *plugin_args(),
            f"--ds-env={env}", f"--junitxml={junit}", f"--ds-report-json={details}", "-p", "no:cacheprovider",
            "-o", "addopts=", "-rA", "-q"]
    args += [f"--ds-target={target}"] if target else []
    args += [f"--ds-config={config_path}"] if config_path else []
    args += ["--ds-reuse"] if reuse else []
    args += ["--ds-keep"] if keep else []
    args += ["-m", markers] if markers else []
    environ = dict(os.environ)
    # The job's package is needed for sample data and the independent check, installed or not.
    extra = [str(REPO_ROOT), str(REPO_ROOT / "containers" / "preprocessing")]
    environ["PYTHONPATH"] = os.pathsep.join(extra + [p for p in [environ.get("PYTHONPATH", "")] if p])
    began = time.monotonic()
    proc = subprocess.run(args, cwd=REPO_ROOT, env=environ, text=True,
                          stdout=None if stream else subprocess.PIPE, stderr=subprocess.STDOUT if not stream else None)
    result = ScenarioRun(exit_code=proc.returncode, seconds=time.monotonic() - began, output=proc.stdout or "")
    if details.is_file():
        _read_details(result, json.loads(details.read_text()))
    return result


def _read_details(result: ScenarioRun, data: dict[str, Any]) -> None:
    from dsplatform.report.html import scenario_outcome

    result.scenarios = list(data.get("scenarios", []))
    for entry in result.scenarios:
        outcome = scenario_outcome(entry)
        bucket = {"passed": result.passed, "skipped": result.skipped}.get(outcome, result.failed)
        bucket.append(entry["nodeid"])
        result.pipeline_seconds += sum(float(ex.get("seconds", 0.0)) for ex in entry.get("executions", []))
