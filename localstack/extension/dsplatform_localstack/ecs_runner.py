"""Run ECS tasks as local processes: moto keeps the API state, this module gives tasks a real lifecycle."""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import signal
import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dsplatform_localstack import ecs_answers, local_images, process_marks
from dsplatform_localstack.alb import scheduler
from dsplatform_localstack.awslogs import AwsLogsError, LogShipper

LOG = logging.getLogger(__name__)
_RUNS: dict[str, TaskRun] = {}
_INSTALLED = False

_DEFAULT_STOP_TIMEOUT = 30.0  # seconds between SIGTERM and SIGKILL on AWS when stopTimeout is unset


def _now() -> datetime:
    return datetime.now(UTC)


class LocalContainer:
    """A task's container as DescribeTasks shows it (moto's own Container models only the first definition)."""

    def __init__(self, task: Any, definition: dict[str, Any]) -> None:
        self.container_arn = task.task_arn.replace(":task/", ":container/", 1) + "/" + definition["name"]
        self.task_arn = task.task_arn
        self.name = definition["name"]
        self.image = definition.get("image")
        self.last_status = "PENDING"
        self.exit_code: int | None = None
        self.reason: str | None = None
        self.runtime_id: str | None = None
        self.health_status = "UNKNOWN"
        self.cpu = str(definition["cpu"]) if definition.get("cpu") is not None else None
        self.memory = str(definition["memory"]) if definition.get("memory") is not None else None
        self.network_interfaces: list[dict[str, Any]] = []
        self.essential = definition.get("essential", True)


def install() -> None:
    """Patch moto's ECS backend once so RunTask/StartTask start local processes and StopTask ends them."""
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.ecs.models import EC2ContainerServiceBackend

    original_run, original_start = EC2ContainerServiceBackend.run_task, EC2ContainerServiceBackend.start_task

    def run_task(self: Any, *args: Any, **kwargs: Any) -> list[Any]:
        tasks = original_run(self, *args, **kwargs)
        for task in tasks:
            TaskRun.launch(self, task)
        return tasks

    def start_task(self: Any, *args: Any, **kwargs: Any) -> list[Any]:
        tasks = original_start(self, *args, **kwargs)
        for task in tasks:
            TaskRun.launch(self, task)
        return tasks

    def stop_task(self: Any, cluster_str: str, task_str: str, reason: str) -> Any:
        cluster = self._get_cluster(cluster_str)
        task_id = task_str.split("/")[-1]
        for arn, task in self.tasks.get(cluster.name, {}).items():
            if arn.endswith(task_id):
                if scheduler.stop_through_service(task.task_arn, reason or "Task stopped by user"):
                    return task  # a service's task: drained first, stopped by the scheduler afterwards
                run = _RUNS.get(task.task_arn)
                if run is not None:
                    run.stop(reason or "Task stopped by user")
                elif task.last_status != "STOPPED":
                    task.last_status = "STOPPED"
                task.desired_status = "STOPPED"
                return task
        from moto.ecs.exceptions import InvalidParameterException

        raise InvalidParameterException(f"The referenced task was not found: {task_str}")

    original_requirements = EC2ContainerServiceBackend._calculate_task_resource_requirements

    def requirements(task_definition: Any) -> dict[str, Any]:
        # AWS (Fargate) allows containers without cpu/memory when the task sets them; moto adds None and fails.
        patched = copy.copy(task_definition)
        patched.container_definitions = [
            {**c, "cpu": c.get("cpu") or 0, "memory": c.get("memory") or c.get("memoryReservation") or 0}
            for c in task_definition.container_definitions
        ]
        return original_requirements(patched)

    EC2ContainerServiceBackend._calculate_task_resource_requirements = staticmethod(requirements)
    ecs_answers.install()
    EC2ContainerServiceBackend.run_task = run_task
    EC2ContainerServiceBackend.start_task = start_task
    EC2ContainerServiceBackend.stop_task = stop_task
    _INSTALLED = True


def gateway_url() -> str:
    """The LocalStack gateway as the task's AWS SDK must reach it (AWS_ENDPOINT_URL)."""
    from localstack import config

    listen = config.GATEWAY_LISTEN[0]
    host = "127.0.0.1" if listen.host in ("0.0.0.0", "", "::") else listen.host
    return f"http://{host}:{listen.port}"


def _client(service: str, account_id: str, region: str) -> Any:
    from localstack.aws.connect import connect_to

    return connect_to(aws_access_key_id=account_id, aws_secret_access_key="test", region_name=region).get_client(
        service
    )


class TaskRun:
    """One task's local processes and their lifecycle: PROVISIONING -> PENDING -> RUNNING -> STOPPED."""

    def __init__(self, backend: Any, task: Any) -> None:
        self.backend, self.task = backend, task
        self.account_id, self.region = backend.account_id, backend.region_name
        self.definition = backend.describe_task_definition(task.task_definition_arn)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.stop_requested = threading.Event()
        self.stopped = threading.Event()  # set once lastStatus is STOPPED: `.sync` waiters wake on it
        self.lock = threading.Lock()
        self.stop_timeout = _DEFAULT_STOP_TIMEOUT

    @classmethod
    def launch(cls, backend: Any, task: Any) -> TaskRun:
        """Take over a task moto just created and run it in a background thread."""
        run = cls(backend, task)
        task._transitions = []  # moto's ManagedState would otherwise advance the status on every read
        task.last_status = "PROVISIONING"
        task.created_at = _now()
        task.stop_code = None
        task.cpu = run.definition.cpu
        task.memory = run.definition.memory
        task.containers = [LocalContainer(task, d) for d in run.definition.container_definitions]
        _RUNS[task.task_arn] = run
        ecs_answers.start_or_hold(run)
        return run

    def start(self) -> None:
        """Run the task's lifecycle in a background thread."""
        threading.Thread(target=self._run, daemon=True, name=f"ecs-task-{self.task.id}").start()

    # -- lifecycle ---------------------------------------------------------------------------------
    def _run(self) -> None:
        shippers: list[LogShipper] = []
        try:
            self.task.pull_started_at = _now()
            specs = [
                self._prepare(c, d)
                for c, d in zip(self.task.containers, self.definition.container_definitions, strict=True)
            ]
            self.task.pull_stopped_at = _now()
            self.task.last_status = "PENDING"
            if self.stop_requested.is_set():
                self._finish("UserInitiated", self.task.stopped_reason)
                return
            waiters = []
            for container, (argv, cwd, env, log_options) in zip(self.task.containers, specs, strict=True):
                shipper = (
                    LogShipper.open(
                        _client("logs", self.account_id, log_options.get("awslogs-region", self.region)),
                        log_options,
                        container.name,
                        self.task.id,
                    )
                    if log_options
                    else None
                )
                waiters.append(self._start(container, argv, cwd, env, shipper))
                if shipper:
                    shippers.append(shipper)
        except (local_images.ImagePullError, AwsLogsError, OSError, ValueError) as err:
            self._abort_start(str(err), shippers)
            return
        except Exception as err:
            LOG.exception("task %s failed to start", self.task.id)
            self._abort_start(f"ResourceInitializationError: {err}", shippers)
            return
        self.task.last_status = "RUNNING"
        self.task.started_at = _now()
        for thread in waiters:
            thread.join()
        for shipper in shippers:  # logs land before STOPPED, so a waiter that sees STOPPED can read them
            shipper.close()
        if self.stop_requested.is_set():
            self._finish("UserInitiated", self.task.stopped_reason)
        else:
            self._finish("EssentialContainerExited", "Essential container in task exited")

    def _prepare(
        self, container: LocalContainer, definition: dict[str, Any]
    ) -> tuple[list[str], Path, dict[str, str], dict[str, str]]:
        """Resolve the image (building its venv), then the argv, folder, environment and awslogs options."""
        arn = self.task.task_arn.split(":")  # arn:aws:ecs:<region>:<account>:task/...
        image = local_images.resolve(definition["image"], account=arn[4], region=arn[3])
        override = next(
            (o for o in self.task.overrides.get("containerOverrides", []) if o.get("name") == definition["name"]), {}
        )
        entrypoint = list(definition.get("entryPoint") or image.entrypoint)
        if override.get("command"):
            command = list(override["command"])
        elif definition.get("command"):
            command = list(definition["command"])
        else:
            command = (
                [] if definition.get("entryPoint") else list(image.cmd)
            )  # Docker drops CMD when ENTRYPOINT is overridden
        argv = self._map_argv(entrypoint + command, image)
        if not argv:
            raise ValueError(f"CannotStartContainerError: container {definition['name']} has no command")
        cwd = image.workdir or self._scratch_dir(definition["name"])
        env = self._environment(image, definition, override)
        log_config = definition.get("logConfiguration") or {}
        options = dict(log_config.get("options") or {}) if log_config.get("logDriver") == "awslogs" else {}
        if image.note:
            LOG.warning("task %s container %s: %s", self.task.id, definition["name"], image.note)
        return argv, cwd, env, options

    def _map_argv(self, argv: list[str], image: local_images.LocalImage) -> list[str]:
        mapped = list(argv)
        if mapped and local_images.is_python(mapped[0]):
            mapped[0] = str(image.python)
        if image.workdir is not None and image.container_workdir not in ("", "/"):
            prefix = image.container_workdir.rstrip("/") + "/"
            mapped = [str(image.workdir / a[len(prefix) :]) if a.startswith(prefix) else a for a in mapped]
        return mapped

    def _scratch_dir(self, name: str) -> Path:
        folder = local_images.cache_root() / "tasks" / self.task.id / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _environment(
        self, image: local_images.LocalImage, definition: dict[str, Any], override: dict[str, Any]
    ) -> dict[str, str]:
        """A container's environment: image ENV, task role settings for LocalStack, definition, secrets, overrides."""
        python_bin = str(Path(image.python).parent)
        env = {
            "PATH": f"{python_bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": os.environ.get("HOME", "/root"),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",  # docker logs would show lines as they come; keep that with a pipe
            "HOSTNAME": self.task.id[:12],
        }
        env.update(image.env)
        if image.workdir is not None:
            env["PYTHONPATH"] = str(image.workdir)
        env.update(
            {
                "AWS_ENDPOINT_URL": gateway_url(),
                "AWS_ACCESS_KEY_ID": self.account_id,  # LocalStack maps a 12-digit key id to that account
                "AWS_SECRET_ACCESS_KEY": "test",
                "AWS_REGION": self.region,
                "AWS_DEFAULT_REGION": self.region,
                "ECS_CONTAINER_METADATA_URI_V4": "",
            }
        )
        env.update({e["name"]: str(e.get("value", "")) for e in definition.get("environment") or []})
        for secret in definition.get("secrets") or []:
            env[secret["name"]] = self._secret(secret["valueFrom"])
        env.update({e["name"]: str(e.get("value", "")) for e in override.get("environment") or []})
        return env

    def _secret(self, value_from: str) -> str:
        try:
            if ":secretsmanager:" in value_from:
                return _client("secretsmanager", self.account_id, self.region).get_secret_value(SecretId=value_from)[
                    "SecretString"
                ]
            name = value_from.split(":parameter", 1)[1] if value_from.startswith("arn:") else value_from
            return _client("ssm", self.account_id, self.region).get_parameter(Name=name, WithDecryption=True)[
                "Parameter"
            ]["Value"]
        except Exception as err:
            raise ValueError(
                f"ResourceInitializationError: unable to pull secrets or registry auth: {value_from}: {err}"
            ) from err

    def _start(
        self, container: LocalContainer, argv: list[str], cwd: Path, env: dict[str, str], shipper: LogShipper | None
    ) -> threading.Thread:
        out = subprocess.PIPE if shipper else subprocess.DEVNULL
        process = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True
        )
        pumps = (
            [shipper.pump(process.stdout), shipper.pump(process.stderr)]
            if shipper and process.stdout and process.stderr
            else []
        )
        with self.lock:
            self.processes[container.name] = process
        container.runtime_id = f"local-{process.pid}"
        marker = process_marks.record(process.pid, self.task.task_arn)
        container.last_status = "RUNNING"

        def _wait() -> None:
            code = process.wait()
            if marker is not None:
                marker.unlink(missing_ok=True)
            for pump in pumps:
                pump.join()
            container.exit_code = 128 - code if code < 0 else code  # Docker reports 128+signal
            container.last_status = "STOPPED"
            if container.essential:
                self._terminate_all(except_name=container.name)

        thread = threading.Thread(target=_wait, daemon=True, name=f"ecs-wait-{self.task.id}-{container.name}")
        thread.start()
        return thread

    def _terminate_all(self, except_name: str | None = None) -> None:
        with self.lock:
            targets = [p for name, p in self.processes.items() if name != except_name and p.poll() is None]
        for process in targets:
            _signal(process, signal.SIGTERM)

        def _kill_later() -> None:
            for process in targets:
                try:
                    process.wait(timeout=self.stop_timeout)
                except subprocess.TimeoutExpired:
                    _signal(process, signal.SIGKILL)

        if targets:
            threading.Thread(target=_kill_later, daemon=True).start()

    def stop(self, reason: str) -> None:
        """StopTask: SIGTERM now, SIGKILL after the stop timeout; STOPPED once the processes are gone."""
        self.task.desired_status = "STOPPED"
        self.task.stopped_reason = reason
        self.task.stop_code = "UserInitiated"
        self.task.stopping_at = _now()
        self.stop_requested.set()
        self._terminate_all()

    def _abort_start(self, reason: str, shippers: list[LogShipper]) -> None:
        # A later container failed to start: the ones already running go down with the task, as on AWS.
        self._terminate_all()
        for shipper in shippers:
            shipper.close()
        self._fail_to_start(reason)

    def _fail_to_start(self, reason: str) -> None:
        for container in self.task.containers:
            container.reason = reason
            container.last_status = "STOPPED"
        self._finish("TaskFailedToStart", reason)

    def _finish(self, stop_code: str, reason: str) -> None:
        now = _now()
        self.task.stop_code = stop_code
        self.task.stopped_reason = reason
        self.task.stopping_at = getattr(self.task, "stopping_at", None) or now
        self.task.execution_stopped_at = now
        self.task.stopped_at = now
        self.task.desired_status = "STOPPED"
        for container in self.task.containers:
            container.last_status = "STOPPED"
        self.task.last_status = "STOPPED"
        _RUNS.pop(self.task.task_arn, None)
        self.stopped.set()
        LOG.info("task %s stopped: %s (%s) exit codes %s", self.task.id, stop_code, reason,
                 {c.name: c.exit_code for c in self.task.containers})


def wait_stopped(task_arn: str, timeout: float) -> bool:
    """Block until the task stops or ``timeout`` passes; True when it stopped (or is not one this runner runs)."""
    run = _RUNS.get(task_arn)
    return run is None or run.stopped.wait(timeout)


def stop_all(reason: str) -> None:
    """StopTask every task still running (LocalStack shutdown)."""
    for run in list(_RUNS.values()):
        run.stop_timeout = 5.0
        run.stop(reason)


def _signal(process: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)  # the whole group: a shell entrypoint's children go too
