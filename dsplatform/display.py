"""Bounded display of user-given values in one-line error messages (a value is never shown unbounded)."""

from __future__ import annotations

import reprlib
from typing import Any

SHOWN_CHARS = 80

_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = SHOWN_CHARS
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 5
_repr.maxlevel = 3


def shown(value: Any) -> str:
    """``repr(value)`` bounded to 80 characters, safe on huge or deeply nested values."""
    text = _repr.repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."


def shown_text(text: str) -> str:
    """Plain text (a key, a path segment) bounded to 80 characters and kept on one line."""
    text = " ".join(text.split()) if ("\n" in text or "\r" in text) else text
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."
