"""What the plugin keeps in ``config.stash`` and ``item.stash``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest


@dataclass(frozen=True)
class Settings:
    """The parsed ``dsplatform`` options."""

    env: str = "dev"
    target: str | None = None
    config_path: str | None = None
    keep: bool = False
    reuse: bool = False
    timeout: float = 300.0
    report_json: str | None = None
    stacks: tuple[str, ...] = ()  # only these stacks (components) and their dependencies; () = all


@dataclass
class SessionState:
    """Session facts: the plan (built once), stacks this session created, whether it tore them down."""

    plan: Any = None
    created_stacks: set[str] = field(default_factory=set)
    torn_down: bool = False


@dataclass
class Recorded:
    """What one scenario recorded for the report: its executions and free-form notes."""

    executions: list[Any] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


SETTINGS_KEY = pytest.StashKey[Settings]()
STATE_KEY = pytest.StashKey[SessionState]()
REPORT_KEY = pytest.StashKey[dict[str, Any]]()
RECORD_KEY = pytest.StashKey[Recorded]()
