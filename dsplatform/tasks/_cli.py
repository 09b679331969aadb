"""What every task shares: turning a DsPlatformError into a one-line message and a non-zero exit."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from invoke.exceptions import Exit

from dsplatform.errors import DsPlatformError

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


def env_names(env: str) -> list[str]:
    """Split ``--env dev,stg`` (or ``all`` later resolved by the caller) into names."""
    return [name.strip() for name in env.split(",") if name.strip()]
