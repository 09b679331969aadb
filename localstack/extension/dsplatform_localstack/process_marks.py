"""Markers for the process groups the extension starts (ECS tasks, Lambda environments, SageMaker replicas and
CodeBuild builds' commands).

The launcher kills every group recorded under ``$DSPLATFORM_STATE_DIR/tasks/`` when LocalStack dies without
running its shutdown hooks (a SIGKILL), so no local task, function, endpoint or build outlives it.
"""

from __future__ import annotations

import os
from pathlib import Path


def record(pid: int, what: str) -> Path | None:
    """Write a marker for process group ``pid`` naming ``what`` runs in it; None without a state folder."""
    state_dir = os.environ.get("DSPLATFORM_STATE_DIR")
    if not state_dir:
        return None
    folder = Path(state_dir) / "tasks"
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / str(pid)
    marker.write_text(what)
    return marker
