"""Loopback ports for tests that start a server of their own."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A loopback port nothing listens on now: a fixed one can be taken by another run on a shared machine."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
