"""Target groups' targets with real health checks and connection draining; DescribeTargetHealth reports them.

moto keeps the API state (which targets are registered, the health check settings); this module probes each
registered target over HTTP as the load balancer would and tracks its state: `initial` until its first check
passes, `healthy`/`unhealthy` by the group's thresholds, `draining` after deregistration until its in-flight
requests are done (or the deregistration delay ends), then gone (`unused`).
"""

from __future__ import annotations

import http.client
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

LOG = logging.getLogger(__name__)
_LOCK = threading.RLock()
_TARGETS: dict[str, dict[tuple[str, int], Target]] = {}  # target group ARN -> (id, port) -> target
_INSTALLED = False
_STATES = {
    "initial": ("Elb.RegistrationInProgress", "Target registration is in progress"),
    "draining": ("Target.DeregistrationInProgress", "Target deregistration is in progress"),
}


def matches(matcher: str, status: int) -> bool:
    """True if an HTTP status is in a matcher such as "200", "200,202" or "200-299"."""
    for part in (matcher or "200").split(","):
        part = part.strip()
        if "-" in part:
            low, high = part.split("-", 1)
            if int(low) <= status <= int(high):
                return True
        elif part and int(part) == status:
            return True
    return False


@dataclass(frozen=True)
class Check:
    """One target group's health check settings, read from moto's target group."""

    path: str
    port: str
    interval: float
    timeout: float
    healthy_threshold: int
    unhealthy_threshold: int
    matcher: str
    enabled: bool
    deregistration_delay: float

    @classmethod
    def of(cls, group: Any) -> Check:
        """From moto's FakeTargetGroup (re-read on every probe, so ModifyTargetGroup applies)."""
        return cls(
            path=group.health_check_path or "/",
            port=str(group.health_check_port or "traffic-port"),
            interval=float(group.health_check_interval_seconds or 30),
            timeout=float(group.health_check_timeout_seconds or 5),
            healthy_threshold=int(group.healthy_threshold_count or 5),
            unhealthy_threshold=int(group.unhealthy_threshold_count or 2),
            matcher=str((getattr(group, "matcher", None) or {}).get("HttpCode", "200")),
            enabled=bool(group.health_check_enabled),
            deregistration_delay=float(group.attributes.get("deregistration_delay.timeout_seconds", 300)),
        )


@dataclass
class Target:
    """One registered target: its health state and the requests the listener has in flight to it."""

    group_arn: str
    target_id: str
    port: int
    state: str = "initial"
    reason: str | None = "Elb.RegistrationInProgress"
    description: str | None = "Target registration is in progress"
    successes: int = 0
    failures: int = 0
    in_flight: int = 0
    drain_until: float | None = None
    stopped: threading.Event = field(default_factory=threading.Event)

    @property
    def address(self) -> str:
        """host:port the listener forwards to."""
        return f"{self.target_id}:{self.port}"

    def record(self, ok: bool, reason: str, description: str, check: Check) -> None:
        """Apply one probe result with the group's thresholds."""
        with _LOCK:
            if self.state == "draining":
                return
            if ok:
                self.successes, self.failures = self.successes + 1, 0
                # A new target needs one passing check; an unhealthy one needs the healthy threshold.
                if self.state == "initial" or self.successes >= check.healthy_threshold:
                    self.state, self.reason, self.description = "healthy", None, None
            else:
                self.failures, self.successes = self.failures + 1, 0
                if self.failures >= check.unhealthy_threshold:
                    self.state, self.reason, self.description = "unhealthy", reason, description


def probe(host: str, port: int, path: str, timeout: float, matcher: str) -> tuple[bool, str, str]:
    """One HTTP health check: (passed, reason code, description) as DescribeTargetHealth words them."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"User-Agent": "ELB-HealthChecker/2.0"})
        status = connection.getresponse().status
    except TimeoutError:
        return False, "Target.Timeout", "Request timed out"
    except OSError:
        return False, "Target.FailedHealthChecks", "Health checks failed"
    finally:
        connection.close()
    if matches(matcher, status):
        return True, "", ""
    return False, "Target.ResponseCodeMismatch", f"Health checks failed with these codes: [{status}]"


def _group(group_arn: str) -> Any:
    from moto.elbv2.models import elbv2_backends

    parts = group_arn.split(":")
    return elbv2_backends[parts[4]][parts[3]].target_groups.get(group_arn)


def _watch(target: Target) -> None:
    """The health checker of one target: probe every interval until it is deregistered or its group deleted."""
    while not target.stopped.is_set():
        group = _group(target.group_arn)
        if group is None:
            break
        check = Check.of(group)
        port = target.port if check.port == "traffic-port" else int(check.port)
        if check.enabled:
            ok, reason, description = probe(target.target_id, port, check.path, check.timeout, check.matcher)
            target.record(ok, reason, description, check)
        else:
            target.record(True, "", "", check)
        target.stopped.wait(check.interval)


def _drain(target: Target) -> None:
    """Keep a deregistered target `draining` until its in-flight requests end or the delay runs out."""
    while time.monotonic() < (target.drain_until or 0):
        with _LOCK:
            if target.in_flight == 0:
                break
        time.sleep(0.05)
    with _LOCK:
        group = _TARGETS.get(target.group_arn, {})
        if group.get((target.target_id, target.port)) is target:
            del group[(target.target_id, target.port)]


def register(group_arn: str, target_id: str, port: int) -> None:
    """Start health checks for a newly registered target (a re-registered draining target starts over)."""
    with _LOCK:
        group = _TARGETS.setdefault(group_arn, {})
        existing = group.get((target_id, port))
        if existing is not None and existing.state != "draining":
            return
        if existing is not None:
            existing.stopped.set()
        target = Target(group_arn, target_id, port)
        group[(target_id, port)] = target
    threading.Thread(target=_watch, args=(target,), daemon=True, name=f"elb-health-{target.address}").start()


def deregister(group_arn: str, target_id: str, port: int, delay: float) -> None:
    """Stop routing to a target; it drains for at most ``delay`` seconds."""
    with _LOCK:
        target = _TARGETS.get(group_arn, {}).get((target_id, port))
        if target is None or target.state == "draining":
            return
        target.stopped.set()
        target.state, (target.reason, target.description) = "draining", _STATES["draining"]
        target.drain_until = time.monotonic() + delay
    threading.Thread(target=_drain, args=(target,), daemon=True, name=f"elb-drain-{target.address}").start()


def forget_group(group_arn: str) -> None:
    """Drop every target of a deleted group (their checkers end)."""
    with _LOCK:
        for target in _TARGETS.pop(group_arn, {}).values():
            target.stopped.set()


def get(group_arn: str, target_id: str, port: int) -> Target | None:
    """The tracked target, if registered or still draining."""
    with _LOCK:
        return _TARGETS.get(group_arn, {}).get((target_id, port))


def of_group(group_arn: str) -> list[Target]:
    """Every tracked target of a group (registration order)."""
    with _LOCK:
        return list(_TARGETS.get(group_arn, {}).values())


def routable(group_arn: str) -> list[Target]:
    """Targets a listener may send new requests to: the healthy ones; if none is healthy, every unhealthy one
    (ALB "fails open" when all targets are unhealthy); never initial or draining ones."""
    targets = of_group(group_arn)
    healthy = [t for t in targets if t.state == "healthy"]
    return healthy or [t for t in targets if t.state == "unhealthy"]


def install() -> None:
    """Patch moto's target groups: registration starts checks, deregistration drains, health comes from here."""
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.elbv2.models import ELBv2Backend, FakeHealthStatus, FakeTargetGroup

    original_register, original_deregister = FakeTargetGroup.register, FakeTargetGroup.deregister
    original_health, original_describe = FakeTargetGroup.health_for, ELBv2Backend.describe_target_health
    original_delete = ELBv2Backend.delete_target_group

    def _register(self: Any, targets: list[dict[str, Any]]) -> None:
        original_register(self, targets)
        for target in targets:
            register(self.arn, target["Id"], int(target.get("Port") or self.port))

    def _deregister(self: Any, targets: list[dict[str, Any]]) -> None:
        ports = {t["Id"]: int(self.targets.get(t["Id"], {}).get("Port") or t.get("Port") or self.port) for t in targets}
        original_deregister(self, targets)
        delay = Check.of(self).deregistration_delay
        for target_id, port in ports.items():
            deregister(self.arn, target_id, port, delay)

    def _health_for(self: Any, target: dict[str, Any], ec2_backend: Any) -> Any:
        registered = self.targets.get(target["Id"]) or {}
        port = int(target.get("Port") or registered.get("Port") or self.port)
        tracked = get(self.arn, target["Id"], port)
        if tracked is None:
            return original_health(self, target, ec2_backend)
        return FakeHealthStatus(
            tracked.target_id,
            str(tracked.port),
            self.health_check_port,
            tracked.state,
            tracked.reason,
            tracked.description,
        )

    def _describe(self: Any, target_group_arn: str, targets: list[dict[str, Any]]) -> list[Any]:
        if not targets and target_group_arn in self.target_groups:
            # AWS lists draining targets too; moto forgets them at deregistration.
            targets = [{"Id": t.target_id, "Port": t.port} for t in of_group(target_group_arn)]
        return original_describe(self, target_group_arn, targets)

    def _delete(self: Any, target_group_arn: str) -> Any:
        result = original_delete(self, target_group_arn)
        forget_group(target_group_arn)
        return result

    FakeTargetGroup.register = _register  # type: ignore[method-assign]
    FakeTargetGroup.deregister = _deregister  # type: ignore[method-assign]
    FakeTargetGroup.health_for = _health_for  # type: ignore[method-assign]
    ELBv2Backend.describe_target_health = _describe  # type: ignore[method-assign]
    ELBv2Backend.delete_target_group = _delete  # type: ignore[method-assign]
    _INSTALLED = True
