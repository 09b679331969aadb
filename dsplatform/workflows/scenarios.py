"""Run the platform's pytest scenarios (harness/scenarios) in a subprocess and read back what happened."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsplatform.errors import ComponentError
from dsplatform.stackspec import Plan


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


def scenario_paths(plan: Plan) -> list[str]:
    """Where the plan's components keep their scenarios: a folder under the project root, or a package's folder."""
    paths: list[str] = []
    for component, location in plan.scenarios:
        folder = plan.project_root / location
        if not folder.is_dir():
            spec = importlib.util.find_spec(location) if _importable(location) else None
            found = list(spec.submodule_search_locations or []) if spec else []
            if not found:
                raise ComponentError(component, f"scenarios {location!r} is neither a folder under "
                                                f"{plan.project_root} nor an importable package; fix its scenarios")
            folder = Path(found[0])
        if str(folder) not in paths:
            paths.append(str(folder))
    return paths


def _importable(name: str) -> bool:
    return all(part.isidentifier() for part in name.split("."))


def check_markers(markers: str | None) -> str | None:
    """A ``pytest -m`` expression checked before anything starts; UsageError naming the flag and the fix."""
    from _pytest.mark.expression import Expression

    from dsplatform.display import shown
    from dsplatform.errors import UsageError

    if markers is None:
        return None
    if not markers.strip():
        raise UsageError("--markers '' is empty; omit it to run every scenario, or give e.g. --markers smoke")
    try:
        Expression.compile(markers)
    except Exception as err:  # SyntaxError on pytest >= 8.4, ParseError before: both mean a bad expression
        why = str(err).split(" (<pytest match expression>")[0]
        raise UsageError(f"--markers {shown(markers)} is not a pytest -m expression ({why}); e.g. --markers "
                         f"'smoke and not ds_aws_only'") from None
    return markers


def run_scenarios(
    plan: Plan,
    config_path: str | None,
    reports_dir: Path,
    *,
    reuse: bool = True,
    keep: bool = True,
    markers: str | None = None,
    paths: list[str] | None = None,
    stream: bool = True,
) -> ScenarioRun:
    """Run pytest on the plan's scenarios; JUnit XML and the per-scenario JSON go to ``reports_dir``.

    pytest runs in the project root with the jobs' source folders importable (the pipeline's scenarios make
    sample data and a model with the job's own code, as the job's image has it).
    """
    check_markers(markers)
    reports_dir.mkdir(parents=True, exist_ok=True)
    junit, details = reports_dir / "junit.xml", reports_dir / "scenarios.json"
    details.unlink(missing_ok=True)
    junit.unlink(missing_ok=True)
    targets = paths or scenario_paths(plan)
    if not targets:
        raise ComponentError("(plan)", "no component of the plan declares scenarios; nothing to run")
    args = [sys.executable, "-m", "pytest", *targets, *plugin_args(),
            f"--ds-env={plan.target.env}", f"--ds-target={plan.target.kind}", f"--junitxml={junit}",
            f"--ds-report-json={details}", "-p", "no:cacheprovider", "-o", "addopts=", "-rA", "-q",
            f"--rootdir={plan.project_root}"]
    args += [f"--ds-config={config_path}"] if config_path else []
    args += [f"--ds-stacks={','.join(s.component for s in plan.stacks)}"] if plan.all_stacks != {
        s.name for s in plan.stacks} else []
    args += ["--ds-reuse"] if reuse else []
    args += ["--ds-keep"] if keep else []
    args += ["-m", markers] if markers else []
    environ = dict(os.environ)
    extra = [str(plan.project_root), *dict.fromkeys(str(image.source) for image in plan.images)]
    environ["PYTHONPATH"] = os.pathsep.join(extra + [p for p in [environ.get("PYTHONPATH", "")] if p])
    began = time.monotonic()
    proc = subprocess.run(args, cwd=plan.project_root, env=environ, text=True,
                          stdout=None if stream else subprocess.PIPE, stderr=subprocess.STDOUT if not stream else None)
    result = ScenarioRun(exit_code=proc.returncode, seconds=time.monotonic() - began, output=proc.stdout or "")
    if details.is_file():
        _read_details(result, json.loads(details.read_text()))
    return result


def _read_details(result: ScenarioRun, data: dict[str, Any]) -> None:
    from dsplatform.workflows.report.html import scenario_outcome

    result.scenarios = list(data.get("scenarios", []))
    for entry in result.scenarios:
        outcome = scenario_outcome(entry)
        bucket = {"passed": result.passed, "skipped": result.skipped}.get(outcome, result.failed)
        bucket.append(entry["nodeid"])
        result.pipeline_seconds += sum(float(ex.get("seconds", 0.0)) for ex in entry.get("executions", []))


def scenario_metrics(run: ScenarioRun) -> dict[str, float]:
    """The metrics passed scenarios recorded (``ds_metric``: notes ``metric <name>=<value>``), by name."""
    metrics: dict[str, float] = {}
    passed = set(run.passed)
    for entry in run.scenarios:
        if entry.get("nodeid") not in passed:
            continue
        for note in entry.get("notes", []):
            name, sep, value = str(note).removeprefix("metric ").partition("=")
            if str(note).startswith("metric ") and sep:
                try:
                    metrics[name] = float(value)
                except ValueError:
                    continue  # a malformed note is not a measurement
    return metrics
