"""The one table of GitHub Actions the generated workflows use, each pinned to a full commit SHA.

A tag can be moved to other code; a commit SHA cannot, so workflows name the SHA and keep the tag as a comment.
The SHAs were read from the actions' own repositories (the commit each release tag points at) in public
snapshots, not from GitHub's API, which this project's machines cannot reach. To update a pin: look up the new
release tag's commit in the action's repository, change its row, bump ``PINS_VERSION`` and regenerate the
workflows (`invoke ci.github`); the tests check every row's shape and that every generated ``uses:`` is a row.
"""

from __future__ import annotations

from dataclasses import dataclass

PINS_VERSION = "2026-11-30"


@dataclass(frozen=True)
class ActionPin:
    """One action: the release tag the SHA stands for, the commit SHA, and the date of that commit."""

    action: str
    tag: str
    sha: str
    committed: str

    @property
    def uses(self) -> str:
        """The ``uses:`` value, ``owner/name@<sha>``."""
        return f"{self.action}@{self.sha}"


ACTION_PINS: dict[str, ActionPin] = {
    pin.action: pin
    for pin in (
        ActionPin("actions/checkout", "v7.0.1", "3d3c42e5aac5ba805825da76410c181273ba90b1", "2026-07-17"),
        ActionPin("actions/setup-python", "v7.0.0", "5fda3b95a4ea91299a34e894583c3862153e4b97", "2026-07-19"),
        ActionPin("actions/upload-artifact", "v7.0.0", "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "2026-02-25"),
        ActionPin("aws-actions/configure-aws-credentials", "v6.2.3", "e6de054238d6b7531b4efff3b6587d9aade6a06c",
                  "2026-07-22"),
    )
}


def pinned(action: str) -> ActionPin:
    """The pin of ``action``; KeyError names the table to extend."""
    try:
        return ACTION_PINS[action]
    except KeyError:
        raise KeyError(f"{action} has no pin; add its release tag and commit SHA to dsplatform/delivery/pins.py") \
            from None
