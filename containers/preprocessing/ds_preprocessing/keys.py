"""Where a run's outputs live in the output bucket (apart from ``process``: the plan and commit steps need it light)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OutputKeys:
    """Where one run's outputs live in the output bucket."""

    parquet: str
    csv: str
    rejected: str
    manifest: str

    @classmethod
    def for_run(cls, run_id: str) -> OutputKeys:
        """Return the contract's keys for ``run_id``."""
        return cls(
            parquet=f"processed/{run_id}/data.parquet", csv=f"processed/{run_id}/data.csv",
            rejected=f"rejected/{run_id}/rejected.csv", manifest=f"processed/{run_id}/_manifest.json",
        )
