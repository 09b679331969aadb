"""The local ECS: tasks run as processes with the task's env, logs, overrides, StopTask and clear pull errors."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from tests.localstack.support import ACCOUNT, network, settings_for, task_waiter_config, unique

pytestmark = pytest.mark.localstack
REPO_ROOT = Path(__file__).resolve().parents[2]
PRINT_ENV = (
    "import os, sys; "
    "print('env', os.environ['AWS_ACCESS_KEY_ID'], os.environ['AWS_REGION'], os.environ['AWS_ENDPOINT_URL'], "
    "os.environ.get('FROM_DEF'), os.environ.get('FROM_OVERRIDE')); "
    "print('to-stderr', file=sys.stderr); "
    "sys.exit(int(os.environ.get('EXIT_CODE', '0')))"
)


@pytest.fixture(scope="module")
def ecs_env(localstack: Any) -> dict[str, Any]:
    """A cluster and a log group in the test account; removed at the end of the module."""
    ecs, logs = localstack.client("ecs", ACCOUNT), localstack.client("logs", ACCOUNT)
    cluster = unique("lstest")
    group = f"/ecs/{cluster}"
    ecs.create_cluster(clusterName=cluster)
    logs.create_log_group(logGroupName=group)
    env = {
        "ecs": ecs,
        "logs": logs,
        "cluster": cluster,
        "group": group,
        "network": network(localstack.client("ec2", ACCOUNT)),
    }
    yield env
    logs.delete_log_group(logGroupName=group)
    ecs.delete_cluster(cluster=cluster)


def _task_definition(
    env: dict[str, Any],
    image: str,
    command: list[str] | None = None,
    entry_point: list[str] | None = None,
    with_logs: bool = True,
) -> str:
    container: dict[str, Any] = {
        "name": "main",
        "image": image,
        "essential": True,
        "environment": [{"name": "FROM_DEF", "value": "def-value"}],
    }
    if command:
        container["command"] = command
    if entry_point:
        container["entryPoint"] = entry_point
    if with_logs:
        container["logConfiguration"] = {
            "logDriver": "awslogs",
            "options": {"awslogs-group": env["group"], "awslogs-region": "us-east-1", "awslogs-stream-prefix": "app"},
        }
    return env["ecs"].register_task_definition(
        family=unique("fam"),
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[container],
    )["taskDefinition"]["taskDefinitionArn"]


def _run(env: dict[str, Any], task_definition: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    response = env["ecs"].run_task(
        cluster=env["cluster"],
        taskDefinition=task_definition,
        launchType="FARGATE",
        networkConfiguration=env["network"],
        overrides=overrides or {},
    )
    assert response["failures"] == []
    return response["tasks"][0]


def _wait_stopped(env: dict[str, Any], task_arn: str) -> dict[str, Any]:
    env["ecs"].get_waiter("tasks_stopped").wait(
        cluster=env["cluster"], tasks=[task_arn], WaiterConfig=task_waiter_config()
    )
    return env["ecs"].describe_tasks(cluster=env["cluster"], tasks=[task_arn])["tasks"][0]


def _messages(env: dict[str, Any], task_arn: str, container: str = "main") -> list[str]:
    stream = f"app/{container}/{task_arn.rsplit('/', 1)[-1]}"
    events = env["logs"].get_log_events(logGroupName=env["group"], logStreamName=stream, startFromHead=True)
    return [event["message"] for event in events["events"]]


def test_task_runs_and_reports_exit_code_stop_code_and_logs(localstack: Any, ecs_env: dict[str, Any]) -> None:
    definition = _task_definition(ecs_env, "python:3.11-slim", command=["python", "-c", PRINT_ENV])
    task = _run(
        ecs_env,
        definition,
        overrides={
            "containerOverrides": [
                {
                    "name": "main",
                    "environment": [
                        {"name": "EXIT_CODE", "value": "7"},
                        {"name": "FROM_OVERRIDE", "value": "ovr-value"},
                    ],
                }
            ]
        },
    )
    assert task["lastStatus"] == "PROVISIONING"
    stopped = _wait_stopped(ecs_env, task["taskArn"])
    assert stopped["stopCode"] == "EssentialContainerExited"
    assert stopped["stoppedReason"] == "Essential container in task exited"
    assert stopped["containers"][0]["exitCode"] == 7
    assert "startedAt" in stopped and "stoppedAt" in stopped
    messages = _messages(ecs_env, task["taskArn"])
    assert f"env {ACCOUNT} us-east-1 {localstack.endpoint_url} def-value ovr-value" in messages
    assert "to-stderr" in messages


def test_command_override_replaces_the_definition_command(ecs_env: dict[str, Any]) -> None:
    definition = _task_definition(ecs_env, "python:3.11", command=["python", "-c", "print('from definition')"])
    task = _run(
        ecs_env,
        definition,
        overrides={
            "containerOverrides": [
                {
                    "name": "main",
                    "command": ["python", "-c", "import sys; print('from override', sys.version_info[:2])"],
                }
            ]
        },
    )
    stopped = _wait_stopped(ecs_env, task["taskArn"])
    assert stopped["containers"][0]["exitCode"] == 0
    assert _messages(ecs_env, task["taskArn"]) == ["from override (3, 11)"]


def test_secrets_from_ssm_reach_the_process(localstack: Any, ecs_env: dict[str, Any]) -> None:
    name = f"/lstest/{unique('secret')}"
    localstack.client("ssm", ACCOUNT).put_parameter(Name=name, Value="s3cr3t", Type="SecureString")
    family = unique("fam")
    definition = ecs_env["ecs"].register_task_definition(
        family=family,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {
                "name": "main",
                "image": "python:3.11-slim",
                "command": ["python", "-c", "import os; print('secret', os.environ['DB_PASSWORD'])"],
                "secrets": [{"name": "DB_PASSWORD", "valueFrom": f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter{name}"}],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": ecs_env["group"],
                        "awslogs-region": "us-east-1",
                        "awslogs-stream-prefix": "app",
                    },
                },
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    task = _run(ecs_env, definition)
    assert _wait_stopped(ecs_env, task["taskArn"])["containers"][0]["exitCode"] == 0
    assert _messages(ecs_env, task["taskArn"]) == ["secret s3cr3t"]


def test_stop_task_ends_the_process(ecs_env: dict[str, Any]) -> None:
    definition = _task_definition(
        ecs_env,
        "python:3.11-slim",
        command=["python", "-c", "import time; print('started', flush=True); time.sleep(600)"],
    )
    task = _run(ecs_env, definition)
    ecs_env["ecs"].get_waiter("tasks_running").wait(
        cluster=ecs_env["cluster"], tasks=[task["taskArn"]], WaiterConfig=task_waiter_config()
    )
    ecs_env["ecs"].stop_task(cluster=ecs_env["cluster"], task=task["taskArn"], reason="stopped by the test")
    stopped = _wait_stopped(ecs_env, task["taskArn"])
    assert stopped["stopCode"] == "UserInitiated"
    assert stopped["stoppedReason"] == "stopped by the test"
    assert stopped["containers"][0]["exitCode"] == 143  # 128 + SIGTERM, as Docker reports it
    pid = int(stopped["containers"][0]["runtimeId"].removeprefix("local-"))
    assert not Path(f"/proc/{pid}").exists() or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


def test_unmapped_image_fails_with_cannot_pull(ecs_env: dict[str, Any]) -> None:
    definition = _task_definition(ecs_env, "example.org/team/unknown-image:1.0", command=["run"])
    stopped = _wait_stopped(ecs_env, _run(ecs_env, definition)["taskArn"])
    assert stopped["stopCode"] == "TaskFailedToStart"
    assert stopped["stoppedReason"].startswith("CannotPullContainerError")
    assert "register_image_sources" in stopped["stoppedReason"]
    assert "containers/" in stopped["stoppedReason"]
    assert "exitCode" not in stopped["containers"][0]


def test_missing_log_group_fails_the_task_like_aws(ecs_env: dict[str, Any]) -> None:
    env = dict(ecs_env, group=f"/ecs/{unique('absent')}")
    definition = _task_definition(env, "python:3.11-slim", command=["python", "-c", "print(1)"])
    stopped = _wait_stopped(ecs_env, _run(ecs_env, definition)["taskArn"])
    assert stopped["stopCode"] == "TaskFailedToStart"
    assert "ResourceInitializationError" in stopped["stoppedReason"]


def test_containers_folder_image_runs_its_source_in_its_venv(localstack: Any, ecs_env: dict[str, Any]) -> None:
    folder = REPO_ROOT / "containers" / "preprocessing"
    if not (folder / "Dockerfile").exists():
        pytest.fail("containers/preprocessing/Dockerfile is missing; this test maps ds-preprocessing to it")
    from dsplatform.localstack import wait_for_images

    # The extension builds the pandas/scikit-learn venv in the background from start-up; wait for it here.
    assert wait_for_images(settings_for(localstack))["ds-preprocessing"].startswith("ready")
    image = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/ds-preprocessing:any-tag"
    script = (
        "import os, sys, ds_preprocessing; "
        "print(sys.version_info[:2], os.getcwd(), os.path.dirname(os.path.dirname(ds_preprocessing.__file__)), "
        "sys.prefix != sys.base_prefix)"
    )
    definition = _task_definition(ecs_env, image, entry_point=["python", "-c"], command=[script])
    task = _run(ecs_env, definition)
    stopped = _wait_stopped(ecs_env, task["taskArn"])
    assert stopped["containers"][0]["exitCode"] == 0, stopped
    assert _messages(ecs_env, task["taskArn"]) == [f"(3, 11) {folder} {folder} True"]


def test_a_registered_folder_plays_any_repository_name_without_a_restart(
    localstack: Any, ecs_env: dict[str, Any], tmp_path: Path
) -> None:
    from dsplatform.localstack import register_image_sources, wait_for_images

    folder = tmp_path / "scorer-src"
    (folder / "scorer").mkdir(parents=True)
    (folder / "Dockerfile").write_text(
        'FROM python:3.11-slim\nWORKDIR /app\nENV GREETING=hello\nENTRYPOINT ["python", "-m", "scorer"]\n'
    )
    (folder / "requirements.txt").write_text("")
    (folder / "scorer" / "__main__.py").write_text("import os; print(os.environ['GREETING'], os.getcwd())\n")
    repository = unique("ml-scorer")  # a project of its own: no ds- prefix
    definition = _task_definition(ecs_env, f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/{repository}:v1")
    before = _wait_stopped(ecs_env, _run(ecs_env, definition)["taskArn"])
    assert before["stopCode"] == "TaskFailedToStart" and repository in before["stoppedReason"]

    settings = dataclasses.replace(settings_for(localstack), image_timeout=180)  # no requirements: seconds
    register_image_sources(settings, {repository: folder})  # the running instance is not restarted
    assert wait_for_images(settings)[repository].startswith("ready")  # the warm-up saw the new registration
    task = _run(ecs_env, definition)
    stopped = _wait_stopped(ecs_env, task["taskArn"])
    assert stopped["containers"][0]["exitCode"] == 0, stopped
    assert _messages(ecs_env, task["taskArn"]) == [f"hello {folder}"]


def test_start_task_on_a_container_instance_runs_too(localstack: Any) -> None:
    ecs, ec2 = localstack.client("ecs", ACCOUNT), localstack.client("ec2", ACCOUNT)
    cluster = unique("lsec2")
    ecs.create_cluster(clusterName=cluster)
    image_id = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)["Instances"][0]
    try:
        document = json.dumps({"instanceId": instance["InstanceId"], "region": "us-east-1", "accountId": ACCOUNT})
        container_instance = ecs.register_container_instance(cluster=cluster, instanceIdentityDocument=document)[
            "containerInstance"
        ]["containerInstanceArn"]
        definition = ecs.register_task_definition(
            family=unique("ec2fam"),
            containerDefinitions=[
                {"name": "main", "image": "python:3.11", "memory": 128, "command": ["python", "-c", "exit(4)"]}
            ],
        )["taskDefinition"]["taskDefinitionArn"]
        task = ecs.start_task(cluster=cluster, taskDefinition=definition, containerInstances=[container_instance])[
            "tasks"
        ][0]
        ecs.get_waiter("tasks_stopped").wait(
            cluster=cluster, tasks=[task["taskArn"]], WaiterConfig=task_waiter_config()
        )
        stopped = ecs.describe_tasks(cluster=cluster, tasks=[task["taskArn"]])["tasks"][0]
        assert stopped["stopCode"] == "EssentialContainerExited"
        assert stopped["containers"][0]["exitCode"] == 4
    finally:
        ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
