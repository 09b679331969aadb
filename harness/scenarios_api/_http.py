"""Small HTTP helpers for the api scenarios: JSON calls and a bounded constant-rate load."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any


def call(url: str, body: Any = None, timeout: float = 30) -> tuple[int, Any]:
    """GET (or POST ``body`` as JSON): (status, parsed JSON or {}); connection errors are status 0.

    A body that is not JSON (a load balancer's own ``502 Bad Gateway`` page) comes back as ``{"error": text}``:
    the answer is still recorded with its status, never lost to a parse error (which would end a Load's thread).
    """
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json"}, method="POST" if data is not None else "GET"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, _parsed(response.read())
    except urllib.error.HTTPError as err:
        return err.code, _parsed(err.read())
    except OSError as err:
        return 0, {"error": str(err)}


def _parsed(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"{}")
    except ValueError:
        return {"error": f"not JSON: {raw[:200].decode(errors='replace')!r}"}


@dataclass
class Load:
    """GET ``url`` at ``rate`` requests/s in a thread until stopped (at most ``limit`` requests).

    Each answer is recorded as (status, the body's ``label`` field, else its error); a connection error is
    status 0, anything else that goes wrong -1 (never the end of the thread). Also used by the extension's own
    load-balancer tests (tests/localstack).
    """

    url: str
    rate: float = 25.0
    limit: int = 20_000
    label: str = "release"  # the body field that says which version answered
    results: list[tuple[int, str]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set() and len(self.results) < self.limit:
            began = time.monotonic()
            try:
                status, body = call(self.url, timeout=10)
                self.results.append((status, str(body.get(self.label) or body.get("error", ""))))
            except Exception as exc:  # recorded as a failed request: a dead thread would hide every later one
                self.results.append((-1, repr(exc)[:200]))
            time.sleep(max(0.0, 1 / self.rate - (time.monotonic() - began)))

    def stop(self) -> list[tuple[int, str]]:
        """Stop; (status, label) per request."""
        self._stop.set()
        self._thread.join(timeout=15)
        return list(self.results)

    def failures(self) -> list[tuple[int, str]]:
        """Requests that did not answer 200."""
        return [r for r in self.results if r[0] != 200]
