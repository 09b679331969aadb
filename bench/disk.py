"""Refuse a benchmark up front when LocalStack's S3 would run this machine's disk full half-way through it."""

from __future__ import annotations

import shutil
import tempfile

# Bytes on disk per input byte at the worst moment of one run, with LocalStack (host mode) on this machine: the
# input object (1), the outputs (data.csv ~2.0 and Parquet ~0.3), and a margin for the parts of uploads in
# flight and the run's logs. (Before the extension's s3_multipart, completing an upload held its parts and the
# object at once: ~5.5.)
PEAK_BYTES_PER_INPUT_BYTE = 3.6


def require_free_disk(input_bytes: int, where: str | None = None) -> None:
    """Exit with one line naming the shortfall when the disk holding LocalStack's temporary files is too full."""
    folder = where or tempfile.gettempdir()
    free = shutil.disk_usage(folder).free
    needed = int(input_bytes * PEAK_BYTES_PER_INPUT_BYTE)
    if free < needed:
        raise SystemExit(
            f"bench: a {input_bytes / 1e9:.1f} GB input needs about {needed / 1e9:.0f} GB free in {folder} for "
            f"LocalStack's S3 (input, outputs, parts in flight) but {free / 1e9:.0f} GB are free; use a smaller "
            f"--size-mb or free disk space"
        )
