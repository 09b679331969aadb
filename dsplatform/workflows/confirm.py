"""The one confirmation prompt of the workflows that change an environment for good (promote, rollback)."""

from __future__ import annotations


def ask(question: str) -> bool:
    """Ask on the terminal; anything but y/yes, and no terminal at all (CI without --yes), is a no."""
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:  # no terminal: the safe answer
        return False
