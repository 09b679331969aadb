"""S3 source actions that poll (PollForSourceChanges, true unless set to false, as on AWS) watch their object: a
new version or ETag starts an execution with trigger PollForSourceChanges. AWS polls about once a minute; here
every DSPLATFORM_CODEPIPELINE_POLL_SECONDS (default 5) seconds."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from dsplatform_localstack.codebuild_io import client

LOG = logging.getLogger(__name__)


def polled_sources(pipeline: dict[str, Any]) -> list[tuple[str, str]]:
    """(bucket, key) of every S3 source action that polls for changes."""
    found = []
    for stage in pipeline.get("stages") or []:
        for action in stage["actions"]:
            type_id, config = action["actionTypeId"], action.get("configuration") or {}
            polls = str(config.get("PollForSourceChanges", "true")).lower() != "false"
            if (type_id["category"], type_id["provider"]) == ("Source", "S3") and polls:
                found.append((str(config.get("S3Bucket")), str(config.get("S3ObjectKey"))))
    return found


class SourcePoller:
    """One pipeline's polling thread; ``start`` is called with (bucket, key) when that object changes."""

    def __init__(self, account_id: str, region: str, sources: list[tuple[str, str]],
                 start: Callable[[str, str], None]) -> None:
        self.account_id, self.region, self.sources, self.start = account_id, region, sources, start
        self.stopped = threading.Event()
        self.seen = {source: self._revision(*source) for source in sources}
        self.interval = float(os.environ.get("DSPLATFORM_CODEPIPELINE_POLL_SECONDS", "5"))
        threading.Thread(target=self._loop, daemon=True, name="codepipeline-poll").start()

    def _revision(self, bucket: str, key: str) -> str | None:
        try:
            head = client("s3", self.account_id, self.region).head_object(Bucket=bucket, Key=key)
        except Exception:
            return None
        return str(head.get("VersionId") or head.get("ETag"))

    def _loop(self) -> None:
        while not self.stopped.wait(self.interval):
            for source in self.sources:
                revision = self._revision(*source)
                if revision is not None and revision != self.seen.get(source):
                    self.seen[source] = revision
                    try:
                        self.start(*source)
                    except Exception:  # the pipeline was deleted meanwhile: stop polling it
                        LOG.info("stopped polling %s/%s", *source)
                        self.stopped.set()
                        return

    def stop(self) -> None:
        """Stop polling (pipeline updated or deleted)."""
        self.stopped.set()
