"""What every task shares: turning a DsPlatformError into a one-line message and a non-zero exit."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from typing import Any, TypeVar

from invoke.exceptions import Exit, ParseError

from dsplatform.display import shown
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
    def fmt(bound: float) -> str:
        return f"{bound:g}" if kind is float else str(int(bound))

    bounds = ", ".join(p for p in (f">= {fmt(minimum)}" if minimum is not None else "",
                                   f"<= {fmt(maximum)}" if maximum is not None else "") if p)
    hint = f"give {what}{' ' + bounds if bounds else ''}" + (f", e.g. {flag} {example}" if example else "")
    text = str(value)
    try:
        # int() would take "1_000" and " 5"; a flag value is digits (and for floats, a plain decimal) only.
        if len(text) > 40 or not text.isascii() or text != text.strip() or "_" in text:
            raise ValueError(text)
        number = kind(text)
    except ValueError:
        raise UsageError(f"{flag} {shown(value)} is not {what}; {hint}") from None
    if not math.isfinite(number):
        raise UsageError(f"{flag} {shown(value)} is not a finite number; {hint}")
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise UsageError(f"{flag} {shown(value)} is out of range; {hint}")
    return number


def stack_list(stacks: str | None) -> list[str] | None:
    """``--stacks a,b`` as a list (None: every stack); an empty selection is a usage error."""
    if stacks is None:
        return None
    names = [name.strip() for name in stacks.split(",") if name.strip()]
    if not names:
        raise UsageError(f"--stacks: {shown(stacks)} names no stack; give stack or component names, e.g. --stacks "
                         f"storage,compute")
    return names


def plan_and_clients(env: str, config: str | None, target: str | None, *, verify: bool = True,
                     stacks: str | None = None) -> tuple[Any, Any]:
    """Render the environment's plan (``stacks``: a selection with dependencies) and make its client factory;
    check the account unless the caller's library function does (deploy, diff and destroy check it themselves)."""
    from dsplatform.deployer import ClientFactory
    from dsplatform.synth import build_plan

    plan = build_plan(env_flag(env), config, target, stack_list(stacks))
    clients = ClientFactory(plan.target)
    if verify:
        clients.verify_account()
    return plan, clients


def env_names(env: str, project: Any) -> list[str]:
    """``--env dev,stg`` as a list; ``--env all`` is every configured environment (sorted).

    Every name is checked before the caller acts on any, so a bad name changes nothing; an empty list is an
    error, not a silent no-op.
    """
    if env == "all":
        return sorted(project.environments)
    names = [name.strip() for name in str(env).split(",")]
    configured = ", ".join(sorted(project.environments))
    if not any(names):
        raise UsageError(f"--env {shown(env)} names no environment; give one of {configured}, a comma-separated "
                         f"list, or all")
    if not all(names):
        raise UsageError(f"--env {shown(env)} has an empty name between commas; e.g. --env dev,stg")
    for name in names:
        project.environment(name)  # ConfigError naming the unknown one
    return list(dict.fromkeys(names))


_ALLOW_REPLACE_RE = re.compile(r"([A-Za-z][A-Za-z0-9-]{0,127}/)?[A-Za-z0-9]{1,255}")


def allow_replace_flag(value: object) -> str:
    """One ``--allow-replace`` value: a logical id, or ``stack/LogicalId``."""
    text = str(value)
    if not _ALLOW_REPLACE_RE.fullmatch(text):
        raise UsageError(f"--allow-replace {shown(value)} is not a LogicalId or stack/LogicalId; e.g. "
                         f"--allow-replace ds-dev-storage/InputBucket")
    return text


def check_s3_key(flag: str, key: object) -> str:
    """An S3 object key given on the command line, checked like the config's keys."""
    from dsplatform.config.models import S3_KEY_RE

    text = str(key)
    if not S3_KEY_RE.fullmatch(text):
        raise UsageError(f"{flag} {shown(key)} is not an S3 object key; use letters, digits and ! _ . * ' ( ) / -, "
                         f"e.g. {flag} raw/monthly_data.csv")
    return text


def next_command(task_name: str, env: str, config: str | None = None, target: str | None = None,
                 **flags: object) -> str:
    """The `invoke` line a task's output suggests next, with the --config/--target this run was given.

    A hint without them would act on another file's (or target's) environment of the same name.
    """
    import shlex

    parts = ["invoke", task_name, "--env", env]
    for flag, value in (("config", config), ("target", target), *flags.items()):
        if value is not None:
            parts += [f"--{flag.replace('_', '-')}", str(value)]
    return shlex.join(parts)


def env_flag(env: object, flag: str = "--env") -> str:
    """A single environment flag value, checked for shape (the config says whether it exists)."""
    name = str(env)
    if not name.strip():
        raise UsageError(f"{flag} {shown(env)} names no environment; give one, e.g. {flag} dev")
    if "," in name or name != name.strip():
        raise UsageError(f"{flag} {shown(env)}: this command takes one environment name, e.g. {flag} dev")
    return name


def _parse_error_exits_2(parse_tasks: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(parse_tasks)
    def wrapper(self: Any) -> Any:
        try:
            return parse_tasks(self)
        except ParseError as err:
            text = " ".join(str(err).split())
            raise Exit(f"error: {shown_flag_error(text)}; see `invoke --help TASK`", code=2) from None

    wrapper.dsplatform = True  # type: ignore[attr-defined]
    return wrapper


def shown_flag_error(text: str) -> str:
    """invoke's parse message with flags spelled as typed (``--env``), bounded to one short line."""
    text = re.sub(r"<Argument: ([\w-]+)(?: \(\w\))?>",
                  lambda m: "--" + m.group(1).replace("_", "-").strip("-"), text)
    return text if len(text) <= 200 else text[:197] + "..."


def install_usage_exit_code() -> None:
    """Make invoke's own flag errors (unknown flag, missing --env) one line with exit code 2, like ours.

    invoke prints a ParseError and exits 1 from inside ``Program.run``; the collection is imported before task
    flags are parsed, so wrapping ``Program.parse_tasks`` here covers every task of this collection.
    """
    from invoke.program import Program

    if not getattr(Program.parse_tasks, "dsplatform", False):
        Program.parse_tasks = _parse_error_exits_2(Program.parse_tasks)  # type: ignore[method-assign]
