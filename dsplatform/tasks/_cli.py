"""What every task shares: turning a DsPlatformError into a one-line message and a non-zero exit."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from invoke.exceptions import Exit

from dsplatform.errors import DsPlatformError, UsageError

F = TypeVar("F", bound=Callable[..., Any])


def user_errors(func: F) -> F:
    """Run a task body; a DsPlatformError becomes ``Exit(message, code)`` and Ctrl-C exit 130, no traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DsPlatformError as err:
            raise Exit(f"error: {err}", code=err.exit_code) from err
        except KeyboardInterrupt:
            # CloudFormation finishes what was started; a new run waits for it and converges.
            raise Exit("interrupted: work already started in AWS finishes on its own; run the command again to "
                       "converge", code=130) from None

    return wrapper  # type: ignore[return-value]


def number_flag(flag: str, value: object, kind: type[int] | type[float] = int, *, minimum: float | None = None,
                maximum: float | None = None, example: str = "") -> int | float:
    """Parse a numeric flag; bad text or a value out of range is a UsageError naming flag, value and fix.

    Tasks declare numeric flags with string defaults so that invoke hands over the raw text instead of
    failing with a traceback inside its parser.
    """
    what = "a whole number" if kind is int else "a number"
    bounds = ", ".join(p for p in (f">= {minimum:g}" if minimum is not None else "",
                                   f"<= {maximum:g}" if maximum is not None else "") if p)
    hint = f"give {what}{' ' + bounds if bounds else ''}" + (f", e.g. {flag} {example}" if example else "")
    try:
        number = kind(str(value))
    except ValueError:
        raise UsageError(f"{flag} {value!r} is not {what}; {hint}") from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise UsageError(f"{flag} {value!r} is out of range; {hint}")
    return number


def stack_list(stacks: str | None) -> list[str] | None:
    """``--stacks a,b`` as a list (None: every stack); an empty selection is a usage error."""
    if stacks is None:
        return None
    names = [name.strip() for name in stacks.split(",") if name.strip()]
    if not names:
        raise UsageError(f"--stacks: {stacks!r} names no stack; give stack or component names, e.g. --stacks "
                         f"storage,compute")
    return names


def plan_and_clients(env: str, config: str | None, target: str | None, *, verify: bool = True,
                     stacks: str | None = None) -> tuple[Any, Any]:
    """Render the environment's plan (``stacks``: a selection with dependencies) and make its client factory;
    check the account unless the caller's library function does (deploy, diff and destroy check it themselves)."""
    from dsplatform.deployer import ClientFactory
    from dsplatform.synth import build_plan

    plan = build_plan(env, config, target, stack_list(stacks))
    clients = ClientFactory(plan.target)
    if verify:
        clients.verify_account()
    return plan, clients


def env_names(env: str, project: Any) -> list[str]:
    """``--env dev,stg`` as a list; ``--env all`` is every configured environment (sorted)."""
    if env == "all":
        return sorted(project.environments)
    return [name.strip() for name in env.split(",") if name.strip()]
