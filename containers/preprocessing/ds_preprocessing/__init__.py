"""The preprocessing job the platform runs: S3 CSV in, model-transformed Parquet/CSV out, manifest last."""

from __future__ import annotations

__version__ = "0.1.0"
