"""Small HTTP helpers for the api scenarios: JSON calls and a bounded constant-rate load."""

from __future__ import annotations

import itertools
import json
import math
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
    status 0, anything else that goes wrong -1 (never the end of the thread). The time each request was sent is
    kept too, so a test can prove the load ran through a change (:meth:`longest_gap`) rather than count requests,
    which measures the load generator's own speed on a busy machine. Also used by the extension's own
    load-balancer tests (tests/localstack).
    """

    url: str
    rate: float = 25.0
    limit: int = 20_000
    label: str = "release"  # the body field that says which version answered
    results: list[tuple[int, str]] = field(default_factory=list)
    sent: list[float] = field(default_factory=list)  # time.monotonic() when each request was sent
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set() and len(self.results) < self.limit:
            began = time.monotonic()
            self.sent.append(began)
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

    def longest_gap(self, began: float, ended: float) -> float:
        """The longest time (s) without a request sent across ``began``..``ended`` (``time.monotonic()`` values).

        Counted from the last request sent before ``began`` to the first sent after ``ended``, so a load that
        started late, stalled, or was stopped before the change ended is infinite or long: a request fails
        only if one is sent, and this proves one was sent throughout.
        """
        before = [t for t in self.sent if t <= began]
        after = [t for t in self.sent if t >= ended]
        if not before or not after:
            return math.inf
        points = [before[-1], *(t for t in self.sent if began < t < ended), after[0]]
        return max(b - a for a, b in itertools.pairwise(points))

    def failures(self) -> list[tuple[int, str]]:
        """Requests that did not answer 200."""
        return [r for r in self.results if r[0] != 200]
