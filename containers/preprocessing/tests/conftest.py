"""Fixtures for the preprocessing job tests (definitions live in ppjob_support, a uniquely named module)."""

from __future__ import annotations

import sys
from pathlib import Path

# The job folder plays /app (as in the image), so the tests run from the repo root without an install too.
_JOB_ROOT = str(Path(__file__).resolve().parents[1])
if _JOB_ROOT not in sys.path:
    sys.path.insert(0, _JOB_ROOT)

from ppjob_support import aws, platform, run_job, trained  # noqa: E402

__all__ = ["aws", "platform", "run_job", "trained"]
