"""Benchmark `invoke e2e`: wall time warm (LocalStack running) and cold (LocalStack started), with stage shares.

    python bench/e2e_bench.py --runs 3                       # warm runs against $DSPLATFORM_LOCALSTACK_URL
    python bench/e2e_bench.py --runs 3 --cold --port 4569    # also cold runs: stops/starts the launcher's
                                                             # instance on that port (use a port you own)
    python bench/e2e_bench.py --runs 3 --no-baseline         # warm runs only (no --reuse baseline)

The baseline measured in the same session is a `--reuse` run (scenarios only, against stacks already
deployed): the full run's ratio to it is what deploy, image push and teardown cost. Targets: warm <= 30 s
(issue 17; it was 90 s before the schedule scenario stopped waiting for a `rate(1 minute)` firing), cold <= 150 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WARM_TARGET, COLD_TARGET = 30.0, 150.0
STAGES = ("localstack", "synth", "deploy", "image", "pipeline run", "checks", "record", "teardown", "report")


def one_run(env: str, reuse: bool = False, keep: bool = False) -> tuple[float, dict[str, float], bool]:
    """One e2e run: wall seconds, stage seconds, passed."""
    from dsplatform.workflows.e2e import run_e2e

    began = time.monotonic()
    result = run_e2e(env, "localstack", keep=keep, reuse=reuse, stream=False,
                     reports_dir=Path("build/reports/bench"))
    wall = time.monotonic() - began
    if not result.ok:
        print(f"  run failed: {result.failed or result.errors}", file=sys.stderr)
    return wall, dict(result.stages), result.ok


def summarize(label: str, runs: list[tuple[float, dict[str, float], bool]], target: float | None) -> float:
    """Print the median wall time, pass count, target ratio and median stage shares; return the median."""
    walls = [w for w, _, _ in runs]
    median = statistics.median(walls)
    passed = sum(ok for _, _, ok in runs)
    line = f"{label}: median {median:.1f}s over {len(runs)} runs ({passed} passed; all: "
    line += ", ".join(f"{w:.1f}" for w in walls) + ")"
    if target:
        line += f"; target {target:.0f}s -> ratio {median / target:.2f}"
    print(line)
    for stage in STAGES:
        values = [stages.get(stage, 0.0) for _, stages, _ in runs]
        med = statistics.median(values)
        if med > 0.05:
            print(f"    {stage:<13} {med:6.1f}s  {100 * med / median:4.0f}%")
    return median


def main() -> int:
    """Run the benchmark and print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--env", default="dev")
    parser.add_argument("--port", type=int, default=None, help="LocalStack port (default from the endpoint)")
    parser.add_argument("--endpoint-url", default=None, help="sets DSPLATFORM_LOCALSTACK_URL")
    parser.add_argument("--cold", action="store_true", help="also measure cold runs (stops the instance on --port)")
    parser.add_argument("--cold-runs", type=int, default=None, help="cold runs (default: --runs)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the --reuse baseline (saves 1 + runs runs)")
    args = parser.parse_args()
    if args.endpoint_url or args.port:
        os.environ["DSPLATFORM_LOCALSTACK_URL"] = args.endpoint_url or f"http://127.0.0.1:{args.port}"
    endpoint = os.environ.get("DSPLATFORM_LOCALSTACK_URL", "http://127.0.0.1:4566")
    port = args.port or int(endpoint.rsplit(":", 1)[-1].strip("/"))
    print(f"e2e bench: env {args.env}, LocalStack {endpoint}, {args.runs} run(s) each")

    warm = [one_run(args.env) for _ in range(args.runs)]
    warm_median = summarize("warm (LocalStack running)", warm, WARM_TARGET)

    if not args.no_baseline:  # baseline in the same session: deploy once and keep, then time scenario-only runs
        one_run(args.env, keep=True)
        reuse = [one_run(args.env, reuse=True) for _ in range(args.runs)]
        reuse_median = summarize("baseline: --reuse (scenarios only)", reuse, None)
        print(f"warm full run / scenarios-only baseline: {warm_median / reuse_median:.2f}x")

    if args.cold:
        from dsplatform.localstack import LocalStackSettings, stop

        cold = []
        for _ in range(args.cold_runs or args.runs):
            stop(LocalStackSettings(port=port))
            cold.append(one_run(args.env))
        cold_median = summarize("cold (LocalStack started by the run)", cold, COLD_TARGET)
        print(f"cold / warm: {cold_median / warm_median:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
