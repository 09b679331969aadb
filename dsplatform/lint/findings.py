"""A lint finding: which stack, which resource, which rule, what is wrong."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Finding:
    """One problem found in a template; ``level`` is error, warning or info."""

    stack: str
    resource: str
    rule: str
    message: str
    level: str = "error"

    def __str__(self) -> str:
        return f"{self.stack}: {self.resource}: [{self.rule}] {self.message}"

    def to_dict(self) -> dict[str, str]:
        """Plain dict for JSON output and the lint cache."""
        return asdict(self)
