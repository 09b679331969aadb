"""One deploy per environment at a time: a lock kept as an SSM parameter in the target account."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import logging
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from dsplatform.deployer.errors import LockHeldError
from dsplatform.procs import pid_alive

LOCK_PREFIX = "/dsplatform/locks/"
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LockInfo:
    """Who holds a lock and since when."""

    owner: str
    host: str
    pid: int
    since: str
    ttl: int
    token: str

    @classmethod
    def mine(cls, ttl: int) -> LockInfo:
        """A lock record for this process."""
        try:
            owner = getpass.getuser()
        except Exception:  # no passwd entry in some containers
            owner = "unknown"
        since = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        return cls(owner, socket.gethostname(), os.getpid(), since, ttl, uuid.uuid4().hex)

    def to_value(self) -> str:
        """The parameter value (JSON)."""
        return json.dumps(self.__dict__, sort_keys=True)

    @classmethod
    def from_value(cls, value: str) -> LockInfo:
        """Parse a parameter value; unreadable values count as a lock held by 'unknown', already stale."""
        try:
            raw = json.loads(value)
            return cls(
                str(raw["owner"]),
                str(raw["host"]),
                int(raw["pid"]),
                str(raw["since"]),
                int(raw["ttl"]),
                str(raw["token"]),
            )
        except (ValueError, KeyError, TypeError):
            return cls("unknown", "unknown", 0, "1970-01-01T00:00:00+00:00", 0, "")

    def stale(self, now: dt.datetime | None = None) -> bool:
        """True after the TTL, or when the holder ran on this host and its process is gone (killed deploy)."""
        now = now or dt.datetime.now(dt.UTC)
        if now - dt.datetime.fromisoformat(self.since) > dt.timedelta(seconds=self.ttl):
            return True
        return self.host == socket.gethostname() and not pid_alive(self.pid)


def lock_name(env: str) -> str:
    """The SSM parameter of a lock when the caller names none (plans name theirs: ``Target.lock_name``)."""
    return f"{LOCK_PREFIX}{env}"


def acquire(ssm: Any, env: str, ttl: int, *, force: bool = False, name: str | None = None) -> LockInfo:
    """Take the lock with a create-only write; a stale (or, with ``force``, any) lock is replaced once.

    ``name`` is the lock's SSM parameter; plans carry their project's (``Target.lock_name``, from the naming
    module), so two projects in one account never share a lock.
    """
    name = name or lock_name(env)
    mine = LockInfo.mine(ttl)
    for attempt in range(2):
        try:
            ssm.put_parameter(Name=name, Value=mine.to_value(), Type="String", Overwrite=False)
            return mine
        except ssm.exceptions.ParameterAlreadyExists:
            held = _read(ssm, name)
            if held is None:
                continue  # released between our write and our read: try again
            if attempt == 0 and (force or held.stale()):
                _delete_if(ssm, name, held.token)
                continue
            raise LockHeldError(env, name, held.owner, held.host, held.pid, held.since, held.ttl) from None
    held = _read(ssm, name) or LockInfo.from_value("")
    raise LockHeldError(env, name, held.owner, held.host, held.pid, held.since, held.ttl)


def release(ssm: Any, env: str, lock: LockInfo, name: str | None = None) -> None:
    """Delete the lock if it is still ours (someone may have broken a stale one)."""
    _delete_if(ssm, name or lock_name(env), lock.token)


@contextmanager
def env_lock(ssm: Any, env: str, ttl: int, *, force: bool = False, name: str | None = None) -> Iterator[LockInfo]:
    """Hold the environment's lock for the block; released in ``finally`` (Ctrl-C included)."""
    lock = acquire(ssm, env, ttl, force=force, name=name)
    try:
        yield lock
    finally:
        try:
            release(ssm, env, lock, name)
        except (BotoCoreError, ClientError) as err:
            # Must not hide the block's own error; the lock goes stale once this process ends.
            _log.warning("could not release lock %s (%s); it is stale once pid %s exits", name or lock_name(env), err,
                         lock.pid)


def _read(ssm: Any, name: str) -> LockInfo | None:
    try:
        value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return None
    return LockInfo.from_value(value)


def _delete_if(ssm: Any, name: str, token: str) -> None:
    held = _read(ssm, name)
    if held is not None and held.token == token:
        with suppress(ssm.exceptions.ParameterNotFound):
            ssm.delete_parameter(Name=name)
