"""Loopback ports for the servers the extension starts: load-balancer listeners and SageMaker endpoint replicas."""

from __future__ import annotations

import collections
import random
import socket
import threading
from pathlib import Path

_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LOWEST = 20_000  # below this sit well-known services' ports; between it and the ephemeral range, servers only
_LOCK = threading.Lock()
_RECENT: collections.deque[int] = collections.deque(maxlen=2048)  # handed out lately: never twice in a row


def ephemeral_range(path: Path = _RANGE_FILE) -> tuple[int, int]:
    """The kernel's range for outgoing connections' local ports (Linux's default when it cannot be read)."""
    try:
        low, high = (int(part) for part in path.read_text().split())
        return low, high
    except (OSError, ValueError):
        return 32_768, 60_999


def free_port(host: str = "127.0.0.1", path: Path = _RANGE_FILE) -> int:
    """A port nothing listens on now, below the ephemeral range, not handed out lately by this process.

    Why not bind to port 0: the kernel draws that port from the same range as every outgoing connection's local
    port, and between this probe and the server's own bind one of the many loopback clients here (boto3, the
    listeners' proxies, health checks) can take it; an endpoint replica failed with EADDRINUSE that way on a
    busy machine. Below the range only another server can take it. Falls back to port 0 when the range starts too
    low to leave room.
    """
    low, _ = ephemeral_range(path)
    with _LOCK:
        if low - _LOWEST >= 1_000:
            for _ in range(256):
                port = random.randrange(_LOWEST, low)
                if port not in _RECENT and _bindable(host, port):
                    _RECENT.append(port)
                    return port
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        _RECENT.append(port)
        return port


def _bindable(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True
