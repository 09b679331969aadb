"""Ship a container's stdout/stderr to CloudWatch Logs as the awslogs driver does."""

from __future__ import annotations

import logging
import threading
import time
from typing import IO, Any

LOG = logging.getLogger(__name__)
_FLUSH_SECONDS = 0.3
_MAX_BATCH = 500


class AwsLogsError(Exception):
    """The log group is missing and awslogs-create-group is not true (the task fails to start, as on AWS)."""


class LogShipper:
    """Collects lines from a container's pipes and puts them, batched, to `<prefix>/<container>/<task-id>`."""

    def __init__(self, client: Any, group: str, stream: str) -> None:
        self.client, self.group, self.stream = client, group, stream
        self._lines: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._flusher = threading.Thread(target=self._flush_loop, daemon=True, name=f"awslogs-{stream}")

    @classmethod
    def open(cls, client: Any, options: dict[str, str], container: str, task_id: str) -> LogShipper:
        """Create the stream (and the group if awslogs-create-group is true), as the driver does at start."""
        group = options["awslogs-group"]
        prefix = options.get("awslogs-stream-prefix")
        stream = f"{prefix}/{container}/{task_id}" if prefix else task_id
        try:
            client.create_log_stream(logGroupName=group, logStreamName=stream)
        except client.exceptions.ResourceNotFoundException as err:
            if options.get("awslogs-create-group", "").lower() != "true":
                raise AwsLogsError(
                    f"ResourceInitializationError: failed to validate logger args: "
                    f"The specified log group does not exist: {group}"
                ) from err
            client.create_log_group(logGroupName=group)
            client.create_log_stream(logGroupName=group, logStreamName=stream)
        shipper = cls(client, group, stream)
        shipper._flusher.start()
        return shipper

    def pump(self, pipe: IO[bytes]) -> threading.Thread:
        """Start a thread that reads ``pipe`` line by line into the buffer."""

        def _read() -> None:
            for raw in iter(pipe.readline, b""):
                message = raw.decode("utf-8", errors="replace").rstrip("\n")
                with self._lock:
                    self._lines.append({"timestamp": int(time.time() * 1000), "message": message or " "})
            pipe.close()

        thread = threading.Thread(target=_read, daemon=True, name=f"pipe-{self.stream}")
        thread.start()
        return thread

    def _flush_loop(self) -> None:
        while not self._done.wait(_FLUSH_SECONDS):
            self.flush()

    def flush(self) -> None:
        """Put buffered lines now (in order, in batches)."""
        with self._lock:
            lines, self._lines = self._lines, []
        for start in range(0, len(lines), _MAX_BATCH):
            try:
                self.client.put_log_events(
                    logGroupName=self.group, logStreamName=self.stream, logEvents=lines[start : start + _MAX_BATCH]
                )
            except Exception:
                LOG.exception("could not put %d log events to %s/%s", len(lines), self.group, self.stream)

    def close(self) -> None:
        """Stop the flusher and put what is left."""
        self._done.set()
        self._flusher.join(timeout=5)
        self.flush()
