"""The deployer's options and results: plain data handed between the engine, the reporters and the tasks."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dsplatform.deployer.errors import DeployFailedError

if TYPE_CHECKING:
    from dsplatform.deployer.changes import Change
    from dsplatform.deployer.events import StackEvent


class Outcome(enum.Enum):
    """What happened to one stack in a deploy or destroy."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"  # content hash equal: no change set made
    NO_CHANGES = "no_changes"  # a change set was made and CloudFormation found nothing to do
    FAILED = "failed"
    REFUSED = "refused"  # would replace or remove a stateful resource without --allow-replace
    BLOCKED = "blocked"  # a dependency failed, so this stack was not started
    DELETED = "deleted"
    ABSENT = "absent"  # destroy: nothing to delete

    @property
    def ok(self) -> bool:
        """True for outcomes that leave the stack as asked."""
        return self not in (Outcome.FAILED, Outcome.REFUSED, Outcome.BLOCKED)


@dataclass(frozen=True)
class DeployOptions:
    """How to deploy: stateful changes allowed, parallelism, output style, polling and lock settings.

    ``allow_replace`` holds logical ids (``Bucket``) or ``stack/LogicalId`` pairs whose replacement or
    removal is accepted. ``poll_delay`` None picks 0.1 s on LocalStack and 5 s on AWS.
    """

    allow_replace: tuple[str, ...] = ()
    concurrency: int = 4
    json: bool = False
    poll_delay: float | None = None
    max_wait_seconds: int = 3600
    lock_ttl_seconds: int = 3600
    break_lock: bool = False


@dataclass
class StackResult:
    """The result for one stack: outcome, final status, outputs, and the failing events if it failed."""

    name: str
    outcome: Outcome
    status: str | None
    outputs: dict[str, str] = field(default_factory=dict)
    events: tuple[StackEvent, ...] = ()
    reason: str = ""
    elapsed: float = 0.0
    changes: tuple[Change, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the outcome is a success."""
        return self.outcome.ok


@dataclass
class DeployResult:
    """The result of a whole deploy or destroy."""

    env: str
    stacks: dict[str, StackResult] = field(default_factory=dict)
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        """True when every stack succeeded."""
        return all(r.ok for r in self.stacks.values())

    @property
    def failures(self) -> list[StackResult]:
        """The stacks that failed or were refused (blocked ones follow from these)."""
        return [r for r in self.stacks.values() if r.outcome in (Outcome.FAILED, Outcome.REFUSED)]

    def raise_for_failure(self) -> None:
        """Raise DeployFailedError (with events and what to run next) unless every stack succeeded."""
        if self.ok:
            return
        failed = self.failures or [r for r in self.stacks.values() if not r.ok]
        raise DeployFailedError(self.env, [(r.name, r.status or r.outcome.value, r.reason, r.events) for r in failed])
