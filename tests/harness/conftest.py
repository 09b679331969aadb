"""Tests of the harness itself: pytester, and an in-process moto platform for the plugin's fixtures."""

from __future__ import annotations

import sys
from pathlib import Path

# pytester itself is loaded by tests/conftest.py (pytest_plugins only counts in the top-level conftest).

# The job's package provides sample data, the model and the real job the fake platform runs.
_JOB = Path(__file__).resolve().parents[2] / "containers" / "preprocessing"
if str(_JOB) not in sys.path:
    sys.path.insert(0, str(_JOB))

# Imported here, once, so pytester's in-process runs share one moto/botocore (it restores sys.modules after
# each run; a second fresh moto import would not intercept a botocore that outlived the first).
import boto3  # noqa: E402, F401
import moto  # noqa: E402, F401
