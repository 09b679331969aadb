"""Errors the deployer raises; each builds its one-line message from structured fields."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from dsplatform.errors import DsPlatformError

if TYPE_CHECKING:
    from dsplatform.deployer.events import StackEvent


class DeployerError(DsPlatformError):
    """Root of the deployer's own errors."""


class AccountMismatchError(DeployerError):
    """The credentials in use belong to another account than the environment's."""

    exit_code = 2

    def __init__(self, env: str, expected: str, actual: str, arn: str) -> None:
        self.env, self.expected, self.actual, self.arn = env, expected, actual, arn
        super().__init__(
            f"environment {env!r} lives in account {expected} but the credentials in use are "
            f"{arn} (account {actual}); switch profile/role or pick the right --env"
        )


class EndpointUnreachableError(DeployerError):
    """The AWS (or LocalStack) endpoint did not answer, or no credentials were found."""

    exit_code = 3

    def __init__(self, env: str, endpoint: str, cause: str, localstack: bool) -> None:
        self.env, self.endpoint, self.cause = env, endpoint, cause
        port = (urlparse(endpoint).port or 4566) if localstack else None
        hint = (f"start it with `invoke localstack.start --port {port}` (and the same --config)" if localstack
                else "check the profile/role and the network")
        super().__init__(f"environment {env!r}: cannot reach {endpoint} ({cause}); {hint}, then run the command again")


class NoCredentialsFoundError(DeployerError):
    """No base AWS credentials (or the named profile does not exist): nothing was contacted."""

    exit_code = 2

    def __init__(self, env: str, profile: str | None, role_arn: str | None, *, profile_missing: bool = False) -> None:
        self.env, self.profile, self.role_arn = env, profile, role_arn
        what = (f"AWS profile {profile!r} does not exist" if profile_missing
                else f"no AWS credentials found{f' for profile {profile!r}' if profile else ''}")
        role = f" (they are used to assume {role_arn})" if role_arn else ""
        super().__init__(f"environment {env!r}: {what}{role}; run `aws configure` or `aws sso login`, or set "
                         f"AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or rehearse with "
                         f"--target localstack")


class ParameterResolutionError(DeployerError):
    """A template parameter has no literal value and not exactly one dependency exports it."""

    exit_code = 2

    def __init__(self, stack: str, parameter: str, dependencies: Sequence[str], found_in: Sequence[str]) -> None:
        self.stack, self.parameter = stack, parameter
        self.dependencies, self.found_in = tuple(dependencies), tuple(found_in)
        deps = ", ".join(self.dependencies) or "none"
        if found_in:
            what = f"is exported by several dependencies ({', '.join(found_in)})"
        else:
            what = "is not an output of any dependency"
        super().__init__(
            f"stack {stack}: parameter {parameter!r} {what} (dependencies: {deps}); "
            f"set it in StackSpec.parameters or make exactly one dependency output it"
        )


class LockHeldError(DeployerError):
    """Another deploy of the same environment holds the lock."""

    exit_code = 3

    def __init__(self, env: str, name: str, owner: str, host: str, pid: int, since: str, ttl: int) -> None:
        self.env, self.name, self.owner, self.host, self.pid = env, name, owner, host, pid
        self.since, self.ttl = since, ttl
        super().__init__(
            f"environment {env!r} is locked by {owner}@{host} (pid {pid}) since {since} "
            f"(expires after {ttl}s); wait for that run to finish, or if it is dead delete "
            f"SSM parameter {name} (or run with --break-lock)"
        )


class TemplateTooLargeError(DeployerError):
    """A template is over CloudFormation's inline TemplateBody limit."""

    exit_code = 2

    def __init__(self, stack: str, size: int, limit: int) -> None:
        self.stack, self.size, self.limit = stack, size, limit
        super().__init__(
            f"stack {stack}: template is {size} bytes, over the {limit}-byte inline limit; split the component"
        )


class PlanError(DeployerError):
    """The plan's dependency graph is not usable (unknown dependency or a cycle)."""

    exit_code = 2


class ProtectedTargetError(DeployerError):
    """A destructive command was aimed at a protected (production) environment."""

    exit_code = 2

    def __init__(self, env: str, action: str) -> None:
        self.env, self.action = env, action
        super().__init__(
            f"environment {env!r} is protected: {action} is refused by this tool; "
            f"remove stacks by hand in the console after turning off termination protection"
        )


class StackOperationError(DeployerError):
    """A single CloudFormation call on a stack failed in a way the deployer cannot repair."""

    def __init__(self, stack: str, status: str, reason: str, events: Sequence[StackEvent] = ()) -> None:
        self.stack, self.status, self.reason, self.events = stack, status, reason, tuple(events)
        super().__init__(f"stack {stack} is {status}: {reason}")


class DeployFailedError(DeployerError):
    """One or more stacks failed; the message lists the first failing events and what to run next."""

    exit_code = 1

    def __init__(self, env: str, failures: Sequence[tuple[str, str, str, Sequence[StackEvent]]]) -> None:
        self.env = env
        self.failures = tuple(failures)
        lines = []
        for stack, status, reason, events in self.failures:
            lines.append(f"stack {stack} failed ({status}): {reason}")
            lines.extend(f"  {ev.describe()}" for ev in events)
        names = ", ".join(f[0] for f in self.failures)
        lines.append(
            f"next: fix the cause above, then run `invoke deploy --env {env}` again "
            f"(it resumes: finished stacks are skipped); `invoke diff --env {env}` shows what would change"
        )
        self.summary = f"deploy of {env} failed in {names}"
        super().__init__(self.summary + "\n" + "\n".join(lines))
