"""Give each awsvpc task its own loopback address as its ENI's private IP, and make the process listen there.

On AWS every Fargate task has its own network interface, so replicas all listen on the container port. Here
they share one host: each task gets an address in 127.0.0.0/8 (Linux routes the whole block to `lo`), chosen
from a block derived from the gateway port so two LocalStack instances on one machine never collide. The task's
"listen on every interface" (`0.0.0.0` in its command or environment) is mapped to that address, and the address
is passed as DSPLATFORM_TASK_IP for programs that bind otherwise.
"""

from __future__ import annotations

import re
import threading
from typing import Any

TASK_IP_ENV = "DSPLATFORM_TASK_IP"
# "Every interface" as a whole value, or after "=" (--host=0.0.0.0), optionally with a port; a CIDR such as
# 0.0.0.0/0 or a longer text that merely contains it is left alone.
_ANY = re.compile(r"(^|=)0\.0\.0\.0(:\d+)?$")
_LOCK = threading.Lock()
_IN_USE: set[str] = set()
_INSTALLED = False


def block_for_port(port: int) -> str:
    """The /24 (as "127.A.B") whose addresses this instance hands out: A.B are the gateway port's two bytes."""
    return f"127.{(port >> 8) & 0xFF}.{port & 0xFF}"


def allocate(port: int) -> str:
    """The lowest free address of this instance's block (.2 to .254; .1 is left alone)."""
    prefix = block_for_port(port)
    with _LOCK:
        for host in range(2, 255):
            address = f"{prefix}.{host}"
            if address not in _IN_USE:
                _IN_USE.add(address)
                return address
    raise RuntimeError(f"no free loopback address left in {prefix}.0/24 (253 tasks running)")


def release(address: str | None) -> None:
    """Return an address to the pool once its task has stopped."""
    if address:
        with _LOCK:
            _IN_USE.discard(address)


def task_ip(task: Any) -> str | None:
    """The privateIPv4Address of a task's ENI attachment, if it has one."""
    for attachment in getattr(task, "attachments", None) or []:
        for detail in attachment.get("details", []):
            if detail.get("name") == "privateIPv4Address":
                return str(detail.get("value"))
    return None


def map_any_address(argv: list[str], env: dict[str, str], address: str) -> tuple[list[str], dict[str, str]]:
    """Replace "listen everywhere" (0.0.0.0) in argv and environment values with the task's address."""

    def _map(value: str) -> str:
        return _ANY.sub(lambda m: f"{m.group(1)}{address}{m.group(2) or ''}", value)

    mapped_env = {key: _map(value) for key, value in env.items()}
    mapped_env[TASK_IP_ENV] = address
    return [_map(arg) for arg in argv], mapped_env


def install() -> None:
    """Patch moto's ECS ENI address and the local runner's container start (both idempotent)."""
    global _INSTALLED
    if _INSTALLED:
        return
    import moto.ecs.models as ecs_models

    from dsplatform_localstack import ecs_runner

    def _private_ip() -> str:
        return allocate(_gateway_port())

    ecs_models.random_private_ip = _private_ip  # moto's Task.__init__ looks the name up in its module

    original_prepare, original_finish = ecs_runner.TaskRun._prepare, ecs_runner.TaskRun._finish

    def _prepare(self: Any, container: Any, definition: dict[str, Any]) -> Any:
        argv, cwd, env, log_options = original_prepare(self, container, definition)
        address = task_ip(self.task)
        if address and address.startswith("127."):
            argv, env = map_any_address(argv, env, address)
        return argv, cwd, env, log_options

    def _finish(self: Any, stop_code: str, reason: str) -> None:
        original_finish(self, stop_code, reason)
        release(task_ip(self.task))

    ecs_runner.TaskRun._prepare = _prepare  # type: ignore[method-assign]
    ecs_runner.TaskRun._finish = _finish  # type: ignore[method-assign]
    _INSTALLED = True


def _gateway_port() -> int:
    from localstack import config

    return int(config.GATEWAY_LISTEN[0].port)
