"""Task ``check``: the code's own quality gates (ruff, mypy, the import-layer contracts)."""

from __future__ import annotations

import sys
from pathlib import Path

from invoke import task
from invoke.exceptions import Exit

GATES = (
    ("ruff", [sys.executable, "-m", "ruff", "check", "."]),
    ("mypy", [sys.executable, "-m", "mypy"]),
    # The console script beside this interpreter: the venv need not be activated.
    ("import contracts", [str(Path(sys.executable).with_name("lint-imports"))]),
)


@task(help={"only": "run one gate: ruff, mypy or imports"})
def check(c, only=None):
    """Run ruff, mypy and import-linter (config -> blueprint -> deployer -> harness layering); fail on any."""
    failed = []
    for name, cmd in GATES:
        if only and not name.startswith(only):
            continue
        print(f"== {name}")
        if not c.run(" ".join(cmd), warn=True, pty=False).ok:
            failed.append(name)
    if failed:
        raise Exit(f"error: {', '.join(failed)} failed; fix the findings above", code=1)
