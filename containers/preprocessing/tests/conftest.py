"""Fixtures for the preprocessing job tests (definitions live in ppjob_support, a uniquely named module)."""

from __future__ import annotations

from ppjob_support import aws, platform, run_job, trained

__all__ = ["aws", "platform", "run_job", "trained"]
