"""The environment lock: create-only write, a clear refusal, stale locks replaced, release only our own."""

from __future__ import annotations

import datetime as dt
import os
import socket

import pytest
from botocore.stub import ANY, Stubber

from dsplatform.deployer.clients import ClientFactory
from dsplatform.deployer.errors import LockHeldError
from dsplatform.deployer.lock import LockInfo, acquire, env_lock, release

NAME = "/dsplatform/locks/dev"


def _holder(since: dt.datetime, pid: int = 1, host: str = "ci-runner-7", ttl: int = 3600) -> LockInfo:
    return LockInfo("alice", host, pid, since.replace(microsecond=0).isoformat(), ttl, "tok-alice")


def _exists(stub: Stubber) -> None:
    stub.add_client_error(
        "put_parameter",
        "ParameterAlreadyExists",
        "exists",
        expected_params={"Name": NAME, "Value": ANY, "Type": "String", "Overwrite": False},
    )


def _held_by(stub: Stubber, info: LockInfo) -> None:
    stub.add_response("get_parameter", {"Parameter": {"Name": NAME, "Value": info.to_value()}}, {"Name": NAME})


def test_free_lock_is_taken_with_a_create_only_write(factory: ClientFactory, ssm_stub: Stubber) -> None:
    ssm_stub.add_response(
        "put_parameter", {"Version": 1}, {"Name": NAME, "Value": ANY, "Type": "String", "Overwrite": False}
    )
    lock = acquire(factory.client("ssm"), "dev", 60)
    assert lock.pid == os.getpid() and lock.host == socket.gethostname() and lock.ttl == 60


def test_second_deploy_fails_naming_holder_and_since(factory: ClientFactory, ssm_stub: Stubber) -> None:
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    _exists(ssm_stub)
    _held_by(ssm_stub, _holder(since))
    with pytest.raises(LockHeldError) as err:
        acquire(factory.client("ssm"), "dev", 3600)
    msg = str(err.value)
    assert "alice@ci-runner-7" in msg and since.replace(microsecond=0).isoformat() in msg and "\n" not in msg


def test_lock_past_its_ttl_is_replaced(factory: ClientFactory, ssm_stub: Stubber) -> None:
    old = _holder(dt.datetime.now(dt.UTC) - dt.timedelta(hours=2), ttl=3600)
    _exists(ssm_stub)
    _held_by(ssm_stub, old)
    _held_by(ssm_stub, old)  # re-read before deleting: still the stale holder
    ssm_stub.add_response("delete_parameter", {}, {"Name": NAME})
    ssm_stub.add_response(
        "put_parameter", {"Version": 2}, {"Name": NAME, "Value": ANY, "Type": "String", "Overwrite": False}
    )
    lock = acquire(factory.client("ssm"), "dev", 3600)
    assert lock.token != old.token and lock.pid == os.getpid()


def test_lock_of_a_dead_process_on_this_host_is_stale() -> None:
    now = dt.datetime.now(dt.UTC)
    dead = _holder(now, pid=2**22 + 12345, host=socket.gethostname())
    alive = _holder(now, pid=os.getpid(), host=socket.gethostname())
    elsewhere = _holder(now, pid=2**22 + 12345, host="other-host")
    assert dead.stale() and not alive.stale() and not elsewhere.stale()


def test_release_leaves_a_lock_someone_else_took(factory: ClientFactory, ssm_stub: Stubber) -> None:
    mine = LockInfo.mine(60)
    _held_by(ssm_stub, _holder(dt.datetime.now(dt.UTC)))
    release(factory.client("ssm"), "dev", mine)  # no delete_parameter queued: the stub would fail on one


def test_lock_is_released_when_the_block_raises(factory: ClientFactory, ssm_stub: Stubber) -> None:
    ssm_stub.add_response(
        "put_parameter", {"Version": 1}, {"Name": NAME, "Value": ANY, "Type": "String", "Overwrite": False}
    )
    holder: list[LockInfo] = []

    with pytest.raises(KeyboardInterrupt), env_lock(factory.client("ssm"), "dev", 60) as lock:
        holder.append(lock)
        ssm_stub.add_response("get_parameter", {"Parameter": {"Name": NAME, "Value": lock.to_value()}}, {"Name": NAME})
        ssm_stub.add_response("delete_parameter", {}, {"Name": NAME})
        raise KeyboardInterrupt
    assert holder
