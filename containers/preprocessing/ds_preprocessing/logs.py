"""Structured logging: one JSON object per line on stdout, so CloudWatch Logs Insights can query fields."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from typing import Any, TextIO


def utc_now() -> str:
    """Return the current UTC time as an ISO-8601 string with milliseconds and a Z suffix."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonLogger:
    """Writes log events as JSON lines carrying the run id and the current stage."""

    def __init__(self, run_id: str = "", stream: TextIO | None = None) -> None:
        self.run_id = run_id
        self.stream = stream if stream is not None else sys.stdout
        self.stage = "start"

    def log(self, level: str, message: str, **fields: Any) -> None:
        """Emit one event; extra fields (counts, durations) are merged into the object."""
        event = {"ts": utc_now(), "level": level, "run_id": self.run_id, "stage": self.stage, "message": message}
        event.update(fields)
        # default=str keeps a stray non-JSON value (a Path, a numpy int) from killing the log line.
        self.stream.write(json.dumps(event, default=str, ensure_ascii=False) + "\n")
        self.stream.flush()

    def info(self, message: str, **fields: Any) -> None:
        """Emit an info event."""
        self.log("info", message, **fields)

    def warning(self, message: str, **fields: Any) -> None:
        """Emit a warning event."""
        self.log("warning", message, **fields)

    def error(self, message: str, **fields: Any) -> None:
        """Emit an error event."""
        self.log("error", message, **fields)


class StageTimer:
    """Records wall-clock durations of named stages, and sets the logger's current stage."""

    def __init__(self, logger: JsonLogger) -> None:
        self.logger = logger
        self.durations: dict[str, float] = {}
        self._started = time.perf_counter()

    def stage(self, name: str) -> _Stage:
        """Return a context manager that times the stage ``name``."""
        return _Stage(self, name)

    def total(self) -> float:
        """Seconds since the timer was created."""
        return round(time.perf_counter() - self._started, 3)


class _Stage:
    def __init__(self, timer: StageTimer, name: str) -> None:
        self.timer, self.name = timer, name

    def __enter__(self) -> _Stage:
        self.timer.logger.stage = self.name
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        elapsed = round(time.perf_counter() - self._t0, 3)
        # A stage may be entered more than once (input: head, then header); its durations add up.
        self.timer.durations[self.name] = round(self.timer.durations.get(self.name, 0.0) + elapsed, 3)
        if exc[0] is None:
            self.timer.logger.info(f"stage {self.name} done", duration_s=elapsed)
