"""The ECS service scheduler moto lacks: desired count kept as local tasks, rolling deployments, circuit breaker.

Every service is reconciled twice a second: tasks that stopped are forgotten (and replaced), RUNNING tasks are
registered in the service's target groups, tasks the load balancer reports unhealthy after the grace period are
stopped, the primary deployment launches within maximumPercent, old tasks are drained and stopped within
minimumHealthyPercent, and a deployment whose failed tasks reach the threshold trips the circuit breaker (rolling
back to the last completed task definition when rollback is on). Deployments, counts and events are written onto
moto's service object, so DescribeServices (and `aws ecs wait services-stable`) see them.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dsplatform_localstack.alb import addresses, deployments, targets

LOG = logging.getLogger(__name__)
TICK = 0.5  # seconds between reconciliations
_SERVICES: dict[str, ServiceRuntime] = {}
_LOCK = threading.RLock()
_STOP = threading.Event()
_THREAD: threading.Thread | None = None


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class TaskRecord:
    """A task the scheduler started for a deployment, and where it stands in its life."""

    task: Any
    deployment_id: str
    started: float = field(default_factory=time.monotonic)
    registered: bool = False
    stopping: str | None = None  # why the scheduler is stopping it (draining first, then StopTask)
    stop_sent: bool = False
    failed: bool = False  # counts towards the circuit breaker

    @property
    def address(self) -> str | None:
        """The task's ENI private IP (a loopback address here)."""
        return addresses.task_ip(self.task)


class ServiceRuntime:
    """One service's tasks and deployments, reconciled by the scheduler thread."""

    def __init__(self, backend: Any, service: Any) -> None:
        self.backend, self.service = backend, service
        self.tasks: dict[str, TaskRecord] = {}
        self.last_completed: str | None = None  # task definition of the last COMPLETED deployment
        for deployment in service.deployments:
            _fill(deployment, service)

    # -- API-side changes --------------------------------------------------------------------------
    def new_deployment(self, task_definition: str, reason: str | None = None) -> dict[str, Any]:
        """Make a new PRIMARY deployment; the previous ones become ACTIVE and are scaled in as it rolls."""
        for deployment in self.service.deployments:
            if deployment["status"] == "PRIMARY":
                deployment["status"] = "ACTIVE"
                if deployment.get("rolloutState") == "IN_PROGRESS" and reason is None:
                    deployment["rolloutState"] = "FAILED"
                    deployment["rolloutStateReason"] = "ECS deployment superseded by a newer deployment."
        deployment = {
            "id": f"ecs-svc/{uuid.uuid4().int % 10**19:019d}",
            "status": "PRIMARY",
            "taskDefinition": task_definition,
            "createdAt": _now(),
        }
        _fill(deployment, self.service)
        self.service.deployments.insert(0, deployment)
        self.service.task_definition = task_definition
        return deployment

    # -- reconciliation ----------------------------------------------------------------------------
    def reconcile(self) -> None:
        """One pass: reap, register, health, launch, scale in, complete, circuit breaker; then counts."""
        if self.service.status != "ACTIVE":
            self._drain_everything()
            return
        primary = self.service.deployments[0]
        self._reap(primary)
        self._register()
        self._stop_unhealthy(primary)
        self._circuit_breaker(primary)
        primary = self.service.deployments[0]
        if primary.get("rolloutState") != "FAILED":
            self._launch(primary)
        self._scale_in(primary)
        self._advance_stops()
        self._complete(primary)
        self._counts()

    def _reap(self, primary: dict[str, Any]) -> None:
        for arn, record in list(self.tasks.items()):
            if record.task.last_status != "STOPPED":
                continue
            del self.tasks[arn]
            self._deregister(record)
            if record.stopping is None:  # it died on its own
                self.event(f"has stopped 1 running tasks: (task {record.task.id}).")
                self._failed(record, primary)

    def _failed(self, record: TaskRecord, primary: dict[str, Any]) -> None:
        """Count a task that failed (exited on its own, or failed health checks) against its deployment."""
        if record.failed:
            return
        record.failed = True
        if record.deployment_id == primary["id"] and primary.get("rolloutState") == "IN_PROGRESS":
            primary["failedTasks"] = primary.get("failedTasks", 0) + 1

    def _register(self) -> None:
        for record in self.tasks.values():
            if record.registered or record.stopping or record.task.last_status != "RUNNING" or not record.address:
                continue
            record.registered = True
            for lb in self.service.load_balancers or []:
                group = lb.get("targetGroupArn")
                if group:
                    self._elbv2().register_targets(group, [{"Id": record.address, "Port": int(lb["containerPort"])}])
                    self.event(f"registered 1 targets in (target-group {group})")

    def _stop_unhealthy(self, primary: dict[str, Any]) -> None:
        grace = float(getattr(self.service, "health_check_grace_period_seconds", None) or 0)
        for record in self.tasks.values():
            if record.stopping or not record.registered or time.monotonic() - record.started < grace:
                continue
            for lb in self.service.load_balancers or []:
                target = targets.get(lb.get("targetGroupArn", ""), record.address or "", int(lb["containerPort"]))
                if target is not None and target.state == "unhealthy":
                    group = lb["targetGroupArn"]
                    self.event(
                        f"(task {record.task.id}) (port {target.port}) is unhealthy in (target-group {group}) "
                        f"due to (reason {target.description})."
                    )
                    self._failed(record, primary)
                    self._begin_stop(record, f"Task failed ELB health checks in (target-group {group})")
                    break

    def _circuit_breaker(self, primary: dict[str, Any]) -> None:
        enabled, rollback = deployments.breaker(getattr(self.service, "deployment_configuration", None))
        if not enabled or primary.get("rolloutState") != "IN_PROGRESS":
            return
        if primary.get("failedTasks", 0) < deployments.failure_threshold(primary["desiredCount"]):
            return
        primary["rolloutState"] = "FAILED"
        primary["rolloutStateReason"] = deployments.CIRCUIT_BREAKER_REASON
        primary["updatedAt"] = _now()
        self.event(f"(deployment {primary['id']}) deployment failed: tasks failed to start.")
        if rollback and self.last_completed and self.last_completed != primary["taskDefinition"]:
            back = self.new_deployment(self.last_completed, reason="rollback")
            self.event(f"rolling back to deployment {back['id']}.")

    def _launch(self, primary: dict[str, Any]) -> None:
        limits = deployments.Limits.of(
            self.service.desired_count, getattr(self.service, "deployment_configuration", None)
        )
        live = [r for r in self.tasks.values() if not r.stopping]
        count = deployments.to_launch(limits, sum(1 for r in live if r.deployment_id == primary["id"]), len(self.tasks))
        for _ in range(count):
            task = self.backend.run_task(
                self.service.cluster_name,
                primary["taskDefinition"],
                1,
                None,
                primary["id"],
                [],
                "FARGATE",  # tasks run as local processes whatever the launch type
                networking_configuration=self.service.network_configuration or None,
                group=f"service:{self.service.name}",
            )[0]
            self.tasks[task.task_arn] = TaskRecord(task, primary["id"])
            self.event(f"has started 1 tasks: (task {task.id}).")

    def _healthy(self, record: TaskRecord) -> bool:
        if record.stopping or record.task.last_status != "RUNNING":
            return False
        for lb in self.service.load_balancers or []:
            target = targets.get(lb.get("targetGroupArn", ""), record.address or "", int(lb["containerPort"]))
            if target is None or target.state != "healthy":
                return False
        return True

    def _scale_in(self, primary: dict[str, Any]) -> None:
        limits = deployments.Limits.of(
            self.service.desired_count, getattr(self.service, "deployment_configuration", None)
        )
        live = [r for r in self.tasks.values() if not r.stopping]
        old = [r for r in live if r.deployment_id != primary["id"]]
        extra = [r for r in live if r.deployment_id == primary["id"]][limits.desired :]
        # Tasks that serve nothing go first: stopping them costs no healthy capacity.
        for record in [r for r in old + extra if not self._healthy(r)]:
            self._begin_stop(record, f"Scaling activity initiated by (deployment {primary['id']})")
        budget = deployments.to_stop(limits, sum(1 for r in live if self._healthy(r)))
        for record in [r for r in old + extra if self._healthy(r)][:budget]:
            self._begin_stop(record, f"Scaling activity initiated by (deployment {primary['id']})")

    def _begin_stop(self, record: TaskRecord, reason: str) -> None:
        record.stopping = reason
        if record.registered:
            self.event("has begun draining connections on 1 tasks.")
            self._deregister(record)

    def _advance_stops(self) -> None:
        for record in self.tasks.values():
            if not record.stopping or record.stop_sent:
                continue
            drained = all(
                targets.get(lb.get("targetGroupArn", ""), record.address or "", int(lb["containerPort"])) is None
                for lb in self.service.load_balancers or []
            )
            if drained:
                record.stop_sent = True
                self.backend.stop_task(self.service.cluster_name, record.task.task_arn, record.stopping)
                self.event(f"has stopped 1 running tasks: (task {record.task.id}).")

    def _complete(self, primary: dict[str, Any]) -> None:
        if primary.get("rolloutState") != "IN_PROGRESS":
            return
        mine = [r for r in self.tasks.values() if r.deployment_id == primary["id"] and self._healthy(r)]
        others = [r for r in self.tasks.values() if r.deployment_id != primary["id"]]
        if len(mine) < self.service.desired_count or others:
            return
        self.service.deployments[:] = [primary]
        primary["rolloutState"] = "COMPLETED"
        primary["rolloutStateReason"] = f"ECS deployment {primary['id']} completed."
        primary["updatedAt"] = _now()
        self.last_completed = primary["taskDefinition"]
        self.event(f"(deployment {primary['id']}) deployment completed.")
        self.event("has reached a steady state.")

    def _counts(self) -> None:
        running = [r for r in self.tasks.values() if r.task.last_status == "RUNNING"]
        pending = [r for r in self.tasks.values() if r.task.last_status in ("PROVISIONING", "PENDING")]
        self.service.running_count, self.service.pending_count = len(running), len(pending)
        for deployment in self.service.deployments:
            deployment["runningCount"] = sum(1 for r in running if r.deployment_id == deployment["id"])
            deployment["pendingCount"] = sum(1 for r in pending if r.deployment_id == deployment["id"])
            if deployment["status"] == "PRIMARY":
                deployment["desiredCount"] = self.service.desired_count

    def _drain_everything(self) -> None:
        for record in self.tasks.values():
            if not record.stopping:
                self._begin_stop(record, "Service deleted")
        self._advance_stops()
        for arn, record in list(self.tasks.items()):
            if record.task.last_status == "STOPPED":
                del self.tasks[arn]
        self._counts()

    # -- helpers -----------------------------------------------------------------------------------
    def _deregister(self, record: TaskRecord) -> None:
        if not record.registered:
            return
        record.registered = False
        for lb in self.service.load_balancers or []:
            group = lb.get("targetGroupArn")
            if not group:
                continue
            try:
                self._elbv2().deregister_targets(group, [{"Id": record.address, "Port": int(lb["containerPort"])}])
                self.event(f"deregistered 1 targets in (target-group {group})")
            except Exception:  # the group was deleted first; nothing left to drain
                LOG.debug("deregister %s from %s", record.address, group, exc_info=True)

    def _elbv2(self) -> Any:
        from moto.elbv2.models import elbv2_backends

        return elbv2_backends[self.backend.account_id][self.backend.region_name]

    def event(self, message: str) -> None:
        """Add a service event (newest first, at most 100, as DescribeServices shows them)."""
        self.service.events.insert(
            0, {"id": str(uuid.uuid4()), "createdAt": _now(), "message": f"(service {self.service.name}) {message}"}
        )
        del self.service.events[100:]


def _fill(deployment: dict[str, Any], service: Any) -> None:
    """Fields AWS reports on every deployment that moto leaves out."""
    deployment.setdefault("desiredCount", service.desired_count)
    deployment.setdefault("runningCount", 0)
    deployment.setdefault("pendingCount", 0)
    deployment.setdefault("failedTasks", 0)
    deployment.setdefault("launchType", service.launch_type)
    deployment.setdefault("networkConfiguration", service.network_configuration or None)
    deployment.setdefault("rolloutState", "IN_PROGRESS")
    deployment.setdefault("rolloutStateReason", f"ECS deployment {deployment['id']} in progress.")
    deployment["updatedAt"] = _now()


def track(backend: Any, service: Any) -> ServiceRuntime:
    """Schedule a service created through the API."""
    with _LOCK:
        runtime = ServiceRuntime(backend, service)
        _SERVICES[service.arn] = runtime
    _ensure_thread()
    return runtime


def stop_through_service(task_arn: str, reason: str) -> bool:
    """StopTask on a task a service runs: drain it first, then stop it (True); False if no service owns it.

    ECS takes a service's task out of its target groups and waits for the deregistration delay (the task is
    DEACTIVATING) before it signals the container, so a StopTask fails no request the load balancer had sent
    it. The scheduler's own stops go the same way; it calls StopTask itself once the targets are drained.
    """
    with _LOCK:
        for runtime in _SERVICES.values():
            record = runtime.tasks.get(task_arn)
            if record is None:
                continue
            if record.stop_sent:
                return False  # drained: the scheduler's own StopTask, which really stops the process
            if record.stopping is None:  # a stop requested twice drains once
                record.task.desired_status = "STOPPED"
                runtime._begin_stop(record, reason)
            return True
    return False


def runtime_of(service: Any) -> ServiceRuntime | None:
    """The scheduler state of a service, if it is scheduled."""
    return _SERVICES.get(service.arn)


def _loop() -> None:
    while not _STOP.wait(TICK):
        with _LOCK:
            runtimes = list(_SERVICES.items())
        for arn, runtime in runtimes:
            try:
                with _LOCK:
                    runtime.reconcile()
                    if runtime.service.status != "ACTIVE" and not runtime.tasks:
                        _SERVICES.pop(arn, None)
            except Exception:
                LOG.exception("ECS scheduler: service %s", arn)


def _ensure_thread() -> None:
    global _THREAD
    if _THREAD is None or not _THREAD.is_alive():
        _STOP.clear()
        _THREAD = threading.Thread(target=_loop, daemon=True, name="dsplatform-ecs-scheduler")
        _THREAD.start()


def shutdown() -> None:
    """Stop reconciling (LocalStack shutdown; the task processes are stopped by the ECS runner's hook)."""
    _STOP.set()
