"""Stage threads keep order and hand errors to the caller, as a single thread would."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from ds_preprocessing import stages


def test_prefetch_yields_in_order_and_raises_the_producers_error_in_place() -> None:
    def produce() -> Iterator[int]:
        yield from range(5)
        raise ValueError("bad input at 5")

    got = []
    with pytest.raises(ValueError, match="bad input at 5"):
        for item in stages.prefetch(produce()):
            got.append(item)
    assert got == [0, 1, 2, 3, 4]


def test_prefetch_stops_its_thread_when_the_consumer_fails() -> None:
    produced = []

    def produce() -> Iterator[int]:
        for item in range(1000):
            produced.append(item)
            yield item

    with pytest.raises(RuntimeError):
        for item in stages.prefetch(produce(), depth=2):
            if item == 3:
                raise RuntimeError("consumer failed")
    time.sleep(0.1)
    assert len(produced) < 10  # bounded read-ahead, then it stopped
    assert not [t for t in threading.enumerate() if t.name == "ds-prefetch"]


def test_behind_runs_tasks_in_order_and_raises_a_failure_on_the_next_submit() -> None:
    done: list[int] = []
    behind = stages.Behind(depth=1)
    for index in range(5):
        behind.submit(lambda index=index: done.append(index))
    behind.finish()
    assert done == [0, 1, 2, 3, 4]

    failing = stages.Behind(depth=1)
    failing.submit(lambda: (_ for _ in ()).throw(OSError("disk")))
    with pytest.raises(OSError, match="disk"):
        for _ in range(10):
            failing.submit(lambda: done.append(99))
            time.sleep(0.01)
        failing.finish()
    assert 99 not in done  # nothing runs after a failure


def test_behind_cancel_skips_what_is_queued() -> None:
    done: list[int] = []
    gate = threading.Event()
    behind = stages.Behind(depth=2)
    behind.submit(gate.wait)
    behind.submit(lambda: done.append(1))
    threading.Timer(0.05, gate.set).start()
    behind.cancel()
    assert done == []
