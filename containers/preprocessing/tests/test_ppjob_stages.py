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


class _Source:
    """A file of ``data`` whose reads are recorded and that can fail once ``fail_at`` bytes were read."""

    def __init__(self, data: bytes, fail_at: int = -1) -> None:
        self.data, self.position, self.fail_at, self.reads = data, 0, fail_at, 0

    def read(self, size: int) -> bytes:
        if 0 <= self.fail_at <= self.position:
            raise OSError(f"connection reset at byte {self.position}")
        self.reads += 1
        piece = self.data[self.position:self.position + size]
        self.position += len(piece)
        return piece


def test_read_ahead_returns_the_same_bytes_in_any_read_sizes() -> None:
    data = bytes(range(256)) * 400
    ahead = stages.ReadAhead(_Source(data), piece=7_000)
    pieces = [ahead.read(size) for size in (1, 6_999, 3_000, 10_000)]
    assert max(len(p) for p in pieces) <= 10_000
    rest = ahead.read()
    assert b"".join(pieces) + rest == data and ahead.read(5) == b""


def test_read_ahead_reads_before_being_asked_and_at_most_depth_pieces() -> None:
    source = _Source(b"x" * 100_000)
    ahead = stages.ReadAhead(source, piece=1_000, depth=2)
    assert ahead.read(10) == b"x" * 10  # the thread starts with the first read
    deadline = time.monotonic() + 5
    # The piece handed out, two queued, and one read that waits for room in the queue.
    while source.reads < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    assert source.reads == 4
    ahead.close()


def test_read_ahead_raises_the_sources_error_where_the_bytes_end() -> None:
    ahead = stages.ReadAhead(_Source(b"y" * 5_000, fail_at=3_000), piece=1_000)
    assert ahead.read(1_000) + ahead.read(1_000) + ahead.read(1_000) == b"y" * 3_000
    with pytest.raises(OSError, match="reset at byte 3000"):
        ahead.read(1_000)
