"""Progress reporters: a live rich table on a terminal, plain lines otherwise, JSON lines for CI."""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TextIO

if TYPE_CHECKING:
    from dsplatform.deployer.models import DeployResult, StackResult


class Reporter(Protocol):
    """What the engine tells about a run; every method must be thread-safe."""

    def started(self, action: str, env: str, stacks: list[str]) -> None:
        """A deploy/destroy of ``stacks`` begins."""

    def stack_phase(self, stack: str, phase: str, total: int | None = None) -> None:
        """A stack entered a step (``total``: resources the step touches, when known)."""

    def stack_status(self, stack: str, status: str, done: int | None = None) -> None:
        """CloudFormation reported a status (and ``done`` resources finished, when counted)."""

    def stack_finished(self, result: StackResult) -> None:
        """A stack reached its outcome."""

    def finished(self, result: DeployResult) -> None:
        """The whole run ended."""


class NullReporter:
    """Reports nothing (library use, tests)."""

    def started(self, action: str, env: str, stacks: list[str]) -> None:
        """Ignore."""

    def stack_phase(self, stack: str, phase: str, total: int | None = None) -> None:
        """Ignore."""

    def stack_status(self, stack: str, status: str, done: int | None = None) -> None:
        """Ignore."""

    def stack_finished(self, result: StackResult) -> None:
        """Ignore."""

    def finished(self, result: DeployResult) -> None:
        """Ignore."""


@dataclass
class _Row:
    state: str = "waiting"
    done: int | None = None
    total: int | None = None
    started: float | None = None
    ended: float | None = None

    def elapsed(self) -> str:
        if self.started is None:
            return ""
        return f"{(self.ended or time.monotonic()) - self.started:.1f}s"


@dataclass
class _Base:
    """Shared bookkeeping: one row per stack, guarded by a lock."""

    stream: TextIO = field(default_factory=lambda: sys.stdout)
    rows: dict[str, _Row] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    t0: float = field(default_factory=time.monotonic)

    def _row(self, stack: str) -> _Row:
        row = self.rows.setdefault(stack, _Row())
        if row.started is None:
            row.started = time.monotonic()
        return row


class PlainReporter(_Base):
    """One line per change of phase or status; for logs and pipes."""

    def _line(self, text: str) -> None:
        self.stream.write(f"[{time.monotonic() - self.t0:6.1f}s] {text}\n")
        self.stream.flush()

    def started(self, action: str, env: str, stacks: list[str]) -> None:
        """Print the plan."""
        with self.lock:
            self._line(f"{action} {env}: {len(stacks)} stacks ({', '.join(stacks)})")

    def stack_phase(self, stack: str, phase: str, total: int | None = None) -> None:
        """Print the phase."""
        with self.lock:
            self._row(stack).state = phase
            self._line(f"{stack}: {phase}")

    def stack_status(self, stack: str, status: str, done: int | None = None) -> None:
        """Print a status once per change."""
        with self.lock:
            row = self._row(stack)
            if row.state != status:
                row.state = status
                self._line(f"{stack}: {status}" + (f" ({done} resources done)" if done is not None else ""))

    def stack_finished(self, result: StackResult) -> None:
        """Print the outcome, with the failing events."""
        with self.lock:
            tail = f" - {result.reason}" if result.reason else ""
            self._line(f"{result.name}: {result.outcome.value} ({result.status or '-'}, {result.elapsed:.1f}s){tail}")
            for ev in result.events:
                self._line(f"{result.name}:   {ev.describe()}")

    def finished(self, result: DeployResult) -> None:
        """Print a summary line."""
        with self.lock:
            counts: dict[str, int] = {}
            for r in result.stacks.values():
                counts[r.outcome.value] = counts.get(r.outcome.value, 0) + 1
            summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
            self._line(f"{'ok' if result.ok else 'FAILED'} in {result.elapsed:.1f}s: {summary}")


class JsonReporter(_Base):
    """One JSON object per line (``event`` field first), for CI."""

    def _emit(self, event: str, **fields: Any) -> None:
        with self.lock:
            self.stream.write(json.dumps({"event": event, "t": round(time.monotonic() - self.t0, 3), **fields}) + "\n")
            self.stream.flush()

    def started(self, action: str, env: str, stacks: list[str]) -> None:
        """Emit ``started``."""
        self._emit("started", action=action, env=env, stacks=stacks)

    def stack_phase(self, stack: str, phase: str, total: int | None = None) -> None:
        """Emit ``phase``."""
        self._emit("phase", stack=stack, phase=phase, total=total)

    def stack_status(self, stack: str, status: str, done: int | None = None) -> None:
        """Emit ``status`` once per change."""
        with self.lock:
            row = self._row(stack)
            changed = row.state != status
            row.state = status
        if changed:
            self._emit("status", stack=stack, status=status, done=done)

    def stack_finished(self, result: StackResult) -> None:
        """Emit ``stack`` with outcome, outputs and events."""
        self._emit(
            "stack",
            stack=result.name,
            outcome=result.outcome.value,
            status=result.status,
            elapsed=round(result.elapsed, 3),
            reason=result.reason,
            outputs=result.outputs,
            events=[e.to_json() for e in result.events],
        )

    def finished(self, result: DeployResult) -> None:
        """Emit ``finished``."""
        self._emit("finished", ok=result.ok, elapsed=round(result.elapsed, 3))


class RichReporter(_Base):
    """A live table (stack, state, resources done/total, elapsed) redrawn while the run goes on."""

    wants_resource_counts = True

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream=stream or sys.stdout)
        from rich.console import Console

        self.console = Console(file=self.stream)
        self.live: Any = None
        self.title = ""

    def _table(self) -> Any:
        from rich.table import Table

        table = Table(title=self.title, expand=False)
        for col in ("stack", "state", "resources", "elapsed"):
            table.add_column(col)
        with self.lock:
            for name, row in self.rows.items():
                res = f"{row.done if row.done is not None else '-'}/{row.total if row.total is not None else '-'}"
                style = "red" if any(w in row.state for w in ("FAILED", "failed", "refused", "ROLLBACK")) else ""
                table.add_row(name, row.state, res, row.elapsed(), style=style)
        return table

    def started(self, action: str, env: str, stacks: list[str]) -> None:
        """Start the live table."""
        from rich.live import Live

        self.title = f"{action} {env}"
        with self.lock:
            for s in stacks:
                self.rows.setdefault(s, _Row())
        self.live = Live(get_renderable=self._table, console=self.console, refresh_per_second=4)
        self.live.start()

    def stack_phase(self, stack: str, phase: str, total: int | None = None) -> None:
        """Update the row."""
        with self.lock:
            row = self._row(stack)
            row.state = phase
            if total is not None:
                row.total = total

    def stack_status(self, stack: str, status: str, done: int | None = None) -> None:
        """Update the row."""
        with self.lock:
            row = self._row(stack)
            row.state = status
            if done is not None:
                row.done = done

    def stack_finished(self, result: StackResult) -> None:
        """Freeze the row with the outcome."""
        with self.lock:
            row = self._row(result.name)
            row.state = result.outcome.value + (f": {result.reason}" if result.reason and not result.ok else "")
            row.ended = time.monotonic()
            if row.total is not None and result.ok:
                row.done = row.total

    def finished(self, result: DeployResult) -> None:
        """Stop the table and print failing events below it."""
        if self.live is not None:
            self.live.stop()
        for r in result.stacks.values():
            for ev in r.events:
                self.console.print(f"[red]{r.name}[/red] {ev.describe()}", markup=True, highlight=False)
        self.console.print(f"{'ok' if result.ok else '[red]FAILED[/red]'} in {result.elapsed:.1f}s")


def make_reporter(json_lines: bool = False, stream: TextIO | None = None) -> Reporter:
    """JSON lines when asked, a live table on a terminal, plain lines otherwise."""
    out = stream or sys.stdout
    if json_lines:
        return JsonReporter(stream=out)
    if out.isatty():
        return RichReporter(out)
    return PlainReporter(stream=out)
