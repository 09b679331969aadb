"""Loopback ports for tests that start a server of their own."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "localstack" / "extension"))

from dsplatform_localstack import ports  # stdlib only: loads in the project venv too


def free_port() -> int:
    """A loopback port nothing listens on now, below the kernel's ephemeral range (see the extension's ports.py).

    A fixed port can be taken by another run on a shared machine; one from bind(port 0) by any outgoing connection.
    """
    return ports.free_port()
