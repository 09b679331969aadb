"""Profile the job's streaming loop in one thread: where its CPU goes, by function (cProfile, CPU clock).

The job runs these stages on threads (read-ahead, parse, validate + model, CSV, Parquet, uploads), which
cProfile cannot follow; here they run one after another on the main thread over a local CSV, writing to null
sinks, with the job's own writers and settings (``process.TableSink``), so the profile is the job's CPU minus
S3. Example: ``python bench/job_profile.py --rows 1600000`` (about 100 MB), or ``--input FILE.csv``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

JOB_DIR = Path(__file__).resolve().parents[1] / "containers" / "preprocessing"
sys.path.insert(0, str(JOB_DIR))

from ds_preprocessing import model, process, reader, sample, validate  # noqa: E402


class _NullSink(io.RawIOBase):
    """A writable file that counts bytes and keeps none (stands in for a multipart upload)."""

    def __init__(self) -> None:
        super().__init__()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:  # type: ignore[override]
        size = memoryview(data).nbytes
        self.size += size
        return size

    def tell(self) -> int:
        return self.size

    def abort(self) -> None:
        """Nothing was uploaded, so nothing to abandon."""


def stream(path: Path, pipeline: Any) -> dict[str, int]:
    """Run the job's per-chunk stages over ``path`` in this thread; return the bytes written per output."""
    sinks: dict[str, _NullSink] = {}

    def open_sink(key: str, _content_type: str) -> Any:
        return sinks.setdefault(key, _NullSink())

    keys = process.OutputKeys.for_run("profile")
    tables = process.TableSink(open_sink, keys, process.csv_integer_columns(pipeline))
    tables.open(process.base_schema(pipeline))
    with path.open("rb") as source:
        for chunk in reader.iter_chunks(source, str(path)):
            valid = validate.split(chunk.batch).valid
            output = process.to_output(valid, pipeline)
            tables.write_parquet(output)
            tables.write_csv(output)
    tables.close(process.base_schema(pipeline))
    return {key: sink.size for key, sink in sinks.items()}


def main() -> int:
    """Parse arguments, generate an input if none is given, profile, print the top entries by own CPU time."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, help="a CSV with the job's columns (default: generate one)")
    parser.add_argument("--rows", type=int, default=1_600_000, help="rows to generate without --input")
    parser.add_argument("--top", type=int, default=15, help="entries to print")
    args = parser.parse_args()
    pipeline = model.train_on_sample()
    with tempfile.TemporaryDirectory() as work:
        path = args.input
        if path is None:
            path = Path(work) / "input.csv"
            with path.open("wb") as handle:
                for piece in sample.generate_csv_chunks(args.rows, seed=1, dirty_fraction=0.02):
                    handle.write(piece)
        profile = cProfile.Profile(time.process_time)
        started = time.process_time()
        written = profile.runcall(stream, path, pipeline)
        cpu = time.process_time() - started
        size = path.stat().st_size
    print(f"input {size / 1e6:.1f} MB, CPU {cpu:.2f} s ({cpu / size * 1e9:.1f} s per GB), written: "
          + ", ".join(f"{key} {value / 1e6:.1f} MB" for key, value in written.items()))
    pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
