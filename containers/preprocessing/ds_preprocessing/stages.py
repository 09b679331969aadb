"""Overlap the job's stages on threads: read and parse ahead, write and upload behind, validate in between.

pyarrow's parsing, compute and file writers and the socket I/O of S3 requests release the GIL, so on two
cores reading chunk N+1 and uploading chunk N-1 run while chunk N is validated and transformed. Queues are
bounded (a chunk or two each), so memory stays a few chunks' worth; an exception in a stage thread is raised
in the caller, in order, so exit codes and "nothing committed" behave as on one thread.
"""

from __future__ import annotations

import ctypes
import io
import queue
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
_DONE = object()


def _load_setname() -> Any:
    try:
        return ctypes.CDLL("libc.so.6").pthread_setname_np
    except (OSError, AttributeError):  # not glibc: threads keep the process's name
        return None


_SETNAME = _load_setname()


def name_os_thread() -> None:
    """Give the calling thread its Python name in the OS too (15 bytes), so top -H, py-spy and the bench see it."""
    if _SETNAME is not None:
        _SETNAME(ctypes.c_ulong(threading.get_ident()), threading.current_thread().name.encode()[:15])


def prefetch(items: Iterator[T], depth: int = 2, name: str = "ds-prefetch") -> Generator[T, None, None]:
    """Yield ``items`` while a thread computes up to ``depth`` of them ahead; its exception is raised here."""
    slots: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        name_os_thread()
        try:
            for item in items:
                if stop.is_set():
                    return
                slots.put(item)
            slots.put(_DONE)
        except BaseException as exc:  # handed to the consumer, which raises it where the loop is
            slots.put(_Failure(exc))

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item = slots.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue, then let it finish
            try:
                slots.get_nowait()
            except queue.Empty:
                thread.join(timeout=0.05)


class ReadAhead(io.RawIOBase):
    """A read-only file whose ``source`` is read ``piece`` bytes at a time on a thread, ``depth`` pieces ahead.

    The input's ranged GETs then wait on S3 while the previous bytes are cut into records and parsed, instead
    of before; an error of ``source`` is raised by the ``read`` that reaches it, as it would be without this.
    """

    def __init__(self, source: Any, piece: int, depth: int = 2) -> None:
        super().__init__()
        self._pieces = prefetch(iter(lambda: source.read(piece), b""), depth=depth, name="ds-read-ahead")
        self._buffer = b""
        self._offset = 0

    def readable(self) -> bool:
        """Always True: this is a read-only file."""
        return True

    def read(self, size: int | None = -1) -> bytes:
        """Return up to ``size`` bytes (all remaining if negative); b"" at the end."""
        if size is None or size < 0:
            rest = self._buffer[self._offset:]
            self._buffer, self._offset = b"", 0
            return rest + b"".join(self._pieces)
        if self._offset >= len(self._buffer):
            self._buffer, self._offset = next(self._pieces, b""), 0
        data = self._buffer[self._offset:self._offset + size]
        self._offset += len(data)
        return data

    def close(self) -> None:
        """Stop the reading thread (it finishes the piece under way)."""
        self._pieces.close()
        super().close()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class Behind:
    """Run submitted calls one at a time, in order, on one thread; ``submit`` waits while ``depth`` are pending."""

    def __init__(self, depth: int = 1, name: str = "ds-write-behind") -> None:
        self._tasks: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def _work(self) -> None:
        name_os_thread()
        while True:
            task = self._tasks.get()
            try:
                if task is _DONE:
                    return
                if self._error is None:
                    task()
            except BaseException as exc:  # kept, raised in the submitting thread
                self._error = exc
            finally:
                self._tasks.task_done()

    def submit(self, task: Callable[[], None]) -> None:
        """Queue ``task``; first raise the error of an earlier task, if any."""
        self._raise()
        self._tasks.put(task)

    def finish(self) -> None:
        """Wait for every queued task and stop the thread; raise the first error a task had."""
        self._stop()
        self._raise()

    def cancel(self) -> None:
        """Stop after the task under way (on a failure elsewhere), so nothing writes while sinks are aborted."""
        if self._error is None:
            self._error = _Cancelled()
        self._stop()

    def _stop(self) -> None:
        if self._thread.is_alive():
            self._tasks.put(_DONE)
            self._thread.join()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error


class _Cancelled(Exception):
    """Marks tasks skipped after ``Behind.cancel``."""
