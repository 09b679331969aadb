"""The one exception hierarchy of dsplatform: every user-facing failure is a DsPlatformError."""

from __future__ import annotations


class DsPlatformError(Exception):
    """Root of every error dsplatform raises on purpose; its message is one line a user can act on."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(DsPlatformError):
    """The configuration file (or a CLI override) is invalid; carries every problem found at once."""

    exit_code = 2

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class NamingError(DsPlatformError):
    """A physical name breaks an AWS naming rule."""

    exit_code = 2

    def __init__(self, kind: str, name: str, rule: str) -> None:
        self.kind, self.name, self.rule = kind, name, rule
        super().__init__(f"{kind} name {name!r} is invalid: {rule}")


class UsageError(DsPlatformError):
    """A command was called with a bad flag or value."""

    exit_code = 2


class ComponentError(DsPlatformError):
    """A component (stock or a consumer's plug-in) cannot be loaded or is inconsistent."""

    exit_code = 2

    def __init__(self, component: str, problem: str) -> None:
        self.component, self.problem = component, problem
        super().__init__(f"component {component!r}: {problem}")
