"""The harness's one waiting helper: a timeout, a poll interval, and the last state seen on failure."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import WaiterError
from botocore.waiter import WaiterModel, create_waiter_with_client

from dsplatform.errors import DsPlatformError

T = TypeVar("T")


class WaitTimeout(DsPlatformError):
    """A wait ran out of time; the message names what was awaited and the last state seen."""

    def __init__(self, what: str, timeout: float, last_state: object) -> None:
        self.what, self.timeout, self.last_state = what, timeout, last_state
        super().__init__(f"timed out after {timeout:g}s waiting for {what}; last state seen: {_short(last_state)}")


class WaitFailed(DsPlatformError):
    """A wait reached a state that can never become the awaited one (e.g. an execution that FAILED)."""

    def __init__(self, what: str, last_state: object) -> None:
        self.what, self.last_state = what, last_state
        super().__init__(f"gave up waiting for {what}: reached a failure state: {_short(last_state)}")


def _short(state: object, limit: int = 600) -> str:
    text = repr(state)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class Waiter:
    """Waits with one default timeout/interval; ``until`` for local probes, ``aws`` for AWS operations."""

    timeout: float = 300.0
    interval: float = 1.0

    def until(
        self,
        probe: Callable[[], T],
        done: Callable[[T], bool],
        *,
        what: str,
        timeout: float | None = None,
        interval: float | None = None,
    ) -> T:
        """Call ``probe`` until ``done(state)``; return that state or raise WaitTimeout with the last one.

        Only for probes that are not a single AWS call (those go through ``aws``, a botocore waiter).
        """
        limit = self.timeout if timeout is None else timeout
        pause = self.interval if interval is None else interval
        deadline = time.monotonic() + limit
        while True:
            state = probe()
            if done(state):
                return state
            if time.monotonic() + pause > deadline:
                raise WaitTimeout(what, limit, state)
            time.sleep(pause)

    def aws(
        self,
        client: Any,
        operation: str,
        *,
        success_path: str,
        success: object,
        failure_path: str | None = None,
        failure: tuple[object, ...] = (),
        what: str,
        timeout: float | None = None,
        interval: float | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Wait on an AWS read operation with a botocore waiter built for it; return the last response.

        ``success_path`` is a JMESPath over the response that must equal ``success``; any value of
        ``failure_path`` in ``failure`` stops the wait at once with WaitFailed.
        """
        limit = self.timeout if timeout is None else timeout
        # botocore sleeps ``Delay`` seconds between attempts; fractions work and keep fast targets fast.
        delay = max(self.interval if interval is None else interval, 0.2)
        attempts = max(math.ceil(limit / delay), 1)
        acceptors: list[dict[str, Any]] = [
            {"matcher": "path", "argument": success_path, "expected": success, "state": "success"}
        ]
        for value in failure:
            acceptors.append({"matcher": "path", "argument": failure_path, "expected": value, "state": "failure"})
        model = WaiterModel(
            {
                "version": 2,
                "waiters": {
                    "DsWait": {
                        "operation": operation,
                        "delay": delay,
                        "maxAttempts": attempts,
                        "acceptors": acceptors,
                    }
                },
            }
        )
        waiter = create_waiter_with_client("DsWait", model, client)
        try:
            waiter.wait(WaiterConfig={"Delay": delay, "MaxAttempts": attempts}, **kwargs)
        except WaiterError as err:
            last = _strip_metadata(err.last_response)
            if "Max attempts exceeded" in str(err):
                raise WaitTimeout(what, limit, last) from None
            raise WaitFailed(what, last) from None
        # The waiter does not hand back its final response; one more read returns the settled state.
        return _strip_metadata(getattr(client, _snake(operation))(**kwargs))


def _strip_metadata(response: Any) -> Any:
    if isinstance(response, dict):
        return {k: v for k, v in response.items() if k != "ResponseMetadata"}
    return response


def _snake(operation: str) -> str:
    out = []
    for i, ch in enumerate(operation):
        if ch.isupper() and i:
            out.append("_")
        out.append(ch.lower())
    return "".join(out)
