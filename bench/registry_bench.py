"""Benchmark: the local MLflow registry's start time (cold install, cold start, warm start).

- cold install (only with --cold-install): the registry venv built into an empty cache folder, vs creating a
  bare venv with the same interpreter (the floor: no packages).
- cold start: the server started on a spare port with its venv ready and an empty database, to a healthy
  /health; vs importing mlflow's server module in that venv (the floor: imports, no server).
- warm start: `start()` when the server on that port is already healthy (reused by its recorded PID).
Medians of N runs. Artifacts go to a local folder (the S3 path is exercised by the LocalStack tests).
Run: ``.venv/bin/python bench/registry_bench.py [--runs 3] [--cold-install]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dsplatform.registry import RegistrySettings, start, stop  # noqa: E402
from dsplatform.registry.venv import ensure_venv, interpreter  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _settings(cache: Path | None, artifacts: Path) -> RegistrySettings:
    return RegistrySettings(artifacts_destination=str(artifacts), port=_free_port(), cache=cache)


def bench_cold_install() -> tuple[float, float]:
    """Seconds to build the registry venv in an empty cache, and to create a bare venv (baseline)."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = _settings(Path(tmp), Path(tmp) / "artifacts")
        began = time.perf_counter()
        subprocess.run([interpreter(settings), "-m", "venv", str(Path(tmp) / "bare")], check=True)
        bare = time.perf_counter() - began
        began = time.perf_counter()
        ensure_venv(settings)
        return time.perf_counter() - began, bare


def bench_starts(runs: int) -> dict[str, float]:
    """Median cold start, warm start (reuse) and the import floor, over ``runs`` fresh servers."""
    cold, warm, imports = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(runs):
            settings = _settings(None, Path(tmp) / f"artifacts-{index}")
            python = ensure_venv(settings) / "bin" / "python"
            began = time.perf_counter()
            subprocess.run([str(python), "-c", "import mlflow.server"], check=True, cwd=tmp)
            imports.append(time.perf_counter() - began)
            shutil.rmtree(settings.state_dir, ignore_errors=True)  # an empty database: the migrations run
            began = time.perf_counter()
            server = start(settings)
            cold.append(time.perf_counter() - began)
            assert not server.reused
            try:
                began = time.perf_counter()
                assert start(settings).reused
                warm.append(time.perf_counter() - began)
            finally:
                stop(settings)
                shutil.rmtree(settings.state_dir, ignore_errors=True)
    return {"cold_start_s": statistics.median(cold), "warm_start_s": statistics.median(warm),
            "import_floor_s": statistics.median(imports)}


def main() -> None:
    """Print the medians as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cold-install", action="store_true")
    args = parser.parse_args()
    result: dict[str, float | int] = {"runs": args.runs}
    if args.cold_install:
        install, bare = bench_cold_install()
        result.update({"cold_install_s": install, "bare_venv_s": bare})
    result.update(bench_starts(args.runs))
    result["cold_start_vs_import_floor"] = result["cold_start_s"] / result["import_floor_s"]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
