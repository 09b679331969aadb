"""Benchmark: `invoke synth` for all three environments and a bare `import blueprints`, as whole processes.

Prints medians of N runs and their ratio to the interpreter's own start-up measured in the same run (the
floor no Python command can beat), plus cfn-lint of one environment cold vs from the cache.
Run: ``.venv/bin/python bench/synth_bench.py [--runs 7]``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def median_of(cmd: list[str], runs: int, before=None) -> float:
    samples = []
    for _ in range(runs):
        if before:
            before()
        samples.append(timed(cmd))
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    py, invoke = sys.executable, str(BIN / "invoke")
    timed([invoke, "synth", "--env", "all", "-q"])  # warm the file cache once
    rows = {
        "python -c pass (floor)": median_of([py, "-c", "pass"], args.runs),
        "import blueprints": median_of([py, "-c", "import blueprints"], args.runs),
        "invoke synth --env all": median_of([invoke, "synth", "--env", "all", "-q"], args.runs),
    }
    cache = ROOT / "build" / ".lint-cache"
    rows["invoke lint --env dev (cold cache)"] = median_of(
        [invoke, "lint", "--env", "dev"], max(3, args.runs // 2), before=lambda: shutil.rmtree(cache, True))
    rows["invoke lint --env dev (cached)"] = median_of([invoke, "lint", "--env", "dev"], args.runs)
    floor = rows["python -c pass (floor)"]
    print(f"{'command':40} {'median s':>9} {'x floor':>8}")
    for name, value in rows.items():
        print(f"{name:40} {value:9.3f} {value / floor:8.1f}")
    target = rows["invoke synth --env all"]
    verdict = "met" if target <= 1.0 else "NOT met"
    print(f"target: synth of all environments <= 1.0 s median: {verdict} ({target:.3f} s)")


if __name__ == "__main__":
    main()
