"""Pure parts of the LocalStack extension (image references, Dockerfiles, property translation, failure rule).

These modules import LocalStack only inside functions, so they load in the project's venv too.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "localstack" / "extension"))

from dsplatform_localstack.cfn.convert import camel
from dsplatform_localstack.cfn_fixes import ip_permission, lifecycle_rules
from dsplatform_localstack.local_images import image_sources, is_python, parse_dockerfile, parse_image
from dsplatform_localstack.sfn_ecs import task_failed


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("python:3.11-slim", ("python", "3.11-slim")),
        ("python", ("python", "latest")),
        ("docker.io/library/python:3.12", ("library/python", "3.12")),
        ("public.ecr.aws/docker/library/python:3.11", ("docker/library/python", "3.11")),
        ("111111111111.dkr.ecr.us-east-1.amazonaws.com/ds-preprocessing:abc", ("ds-preprocessing", "abc")),
        ("localhost:4566/ds-preprocessing@sha256:ff", ("ds-preprocessing", "sha256:ff")),
        ("team/tool", ("team/tool", "latest")),
    ],
)
def test_image_references_split_into_repository_and_tag(image: str, expected: tuple[str, str]) -> None:
    assert parse_image(image) == expected


def test_dockerfile_last_stage_entrypoint_cmd_env_and_python_version(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        'FROM golang:1.22 AS build\nCMD ["build"]\n'
        'FROM python:3.12-slim\n# comment\nENV A=1 \\\n    B="two words"\nENV C 3\nWORKDIR /app\n'
        'CMD ["--help"]\nENTRYPOINT ["python", "-m", "job"]\nCMD ["--fast"]\n'
    )
    parsed = parse_dockerfile(dockerfile)
    assert parsed.python_version == "3.12"
    assert parsed.workdir == "/app"
    assert parsed.entrypoint == ["python", "-m", "job"]
    assert parsed.cmd == ["--fast"]  # a CMD before ENTRYPOINT is reset, as Docker does
    assert parsed.env == {"A": "1", "B": "two words", "C": "3"}


def test_shell_form_runs_through_sh(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM alpine\nCMD echo hi && exit 3\n")
    parsed = parse_dockerfile(tmp_path / "Dockerfile")
    assert parsed.cmd == ["/bin/sh", "-c", "echo hi && exit 3"]
    assert parsed.python_version is None


@pytest.mark.parametrize(
    ("exe", "expected"),
    [("python", True), ("python3.11", True), ("/usr/local/bin/python", True), ("pythonista", False), ("sh", False)],
)
def test_python_executables_are_recognised(exe: str, expected: bool) -> None:
    assert is_python(exe) is expected


def test_lifecycle_rules_translate_to_the_s3_api() -> None:
    rules = lifecycle_rules(
        {
            "Rules": [
                {
                    "Id": "r1",
                    "Status": "Enabled",
                    "Prefix": "tmp/",
                    "ExpirationInDays": "7",
                    "Transitions": [{"StorageClass": "GLACIER", "TransitionInDays": 30}],
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                },
                {
                    "Status": "Disabled",
                    "TagFilters": [{"Key": "k", "Value": "v"}],
                    "NoncurrentVersionExpirationInDays": 5,
                },
            ]
        }
    )
    assert rules == [
        {
            "Status": "Enabled",
            "ID": "r1",
            "Filter": {"Prefix": "tmp/"},
            "Expiration": {"Days": 7},
            "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}],
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        },
        {
            "Status": "Disabled",
            "Filter": {"Tag": {"Key": "k", "Value": "v"}},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 5},
        },
    ]


def test_security_group_rules_translate_to_ip_permissions() -> None:
    assert ip_permission(
        {"IpProtocol": "tcp", "FromPort": "443", "ToPort": 443, "CidrIp": "10.0.0.0/8", "Description": "https"}
    ) == {
        "IpProtocol": "tcp",
        "FromPort": 443,
        "ToPort": 443,
        "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "https"}],
    }
    assert ip_permission({"IpProtocol": "-1", "SourceSecurityGroupId": "sg-1"}) == {
        "IpProtocol": "-1",
        "UserIdGroupPairs": [{"GroupId": "sg-1"}],
    }


def test_cloudformation_names_become_api_names_except_free_form_maps() -> None:
    converted = camel(
        [
            {
                "Name": "job",
                "Cpu": "256",
                "Environment": [{"Name": "A", "Value": "1"}],
                "LogConfiguration": {"LogDriver": "awslogs", "Options": {"awslogs-group": "/g"}},
            }
        ]
    )
    assert converted == [
        {
            "name": "job",
            "cpu": 256,
            "environment": [{"name": "A", "value": "1"}],
            "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/g"}},
        }
    ]


@pytest.mark.parametrize(
    ("task", "failed"),
    [
        ({"Containers": [{"ExitCode": 0}, {"ExitCode": 0}]}, False),
        ({"Containers": [{"ExitCode": 0}, {"ExitCode": 2}]}, True),
        ({"Containers": [{"Reason": "CannotPullContainerError: ..."}], "StopCode": "TaskFailedToStart"}, True),
        ({"Containers": [], "StopCode": "TaskFailedToStart"}, True),
    ],
)
def test_run_task_sync_fails_like_aws(task: dict, failed: bool) -> None:
    assert task_failed(task) is failed


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("ds-input-dev-111111111111-us-east-1", True),
        ("a.b-c", True),
        ("Not_A_Valid_Bucket", False),
        ("ab", False),
        ("-abc", False),
        ("a..b", False),
        ("192.168.0.1", False),
        ("x" * 64, False),
    ],
)
def test_bucket_names_are_checked_like_s3(name: str, ok: bool) -> None:
    from dsplatform_localstack.cfn_fixes import bucket_name_problem

    assert (bucket_name_problem(name) is None) is ok


def test_outputs_are_stored_before_the_executor_returns_success():
    from types import SimpleNamespace

    from dsplatform_localstack.cfn_outputs import publish_outputs_first

    stack = SimpleNamespace(resolved_outputs=[{"OutputKey": "Arn", "OutputValue": "old"}])
    seen_when_returning = []

    def execute(self):
        seen_when_returning.append(list(stack.resolved_outputs))  # the engine has not stored them yet
        return SimpleNamespace(failure_message=None, outputs=[{"OutputKey": "Arn", "OutputValue": "new"}])

    executor = SimpleNamespace(_change_set=SimpleNamespace(stack=stack))
    publish_outputs_first(execute)(executor)
    assert seen_when_returning == [[{"OutputKey": "Arn", "OutputValue": "old"}]]
    assert stack.resolved_outputs == [{"OutputKey": "Arn", "OutputValue": "new"}]


def test_failed_execution_leaves_the_previous_outputs():
    from types import SimpleNamespace

    from dsplatform_localstack.cfn_outputs import publish_outputs_first

    stack = SimpleNamespace(resolved_outputs=["previous"])
    failed = SimpleNamespace(failure_message="boom", outputs=["partial"])
    publish_outputs_first(lambda self: failed)(SimpleNamespace(_change_set=SimpleNamespace(stack=stack)))
    assert stack.resolved_outputs == ["previous"]


def test_image_sources_are_read_from_the_launcher_s_file_each_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "image-sources.json"
    monkeypatch.setenv("DSPLATFORM_IMAGE_SOURCES_FILE", str(file))
    monkeypatch.setenv("DSPLATFORM_IMAGE_SOURCES", '{"ml-a": "/from/env", "ml-b": "/from/env"}')
    assert image_sources() == {"ml-a": Path("/from/env"), "ml-b": Path("/from/env")}  # nothing registered yet
    file.write_text('{"ml-a": "/registered/a", "team/ml-c-qa": "/registered/c"}')
    assert image_sources() == {  # the file wins over the env, and a later write is seen without a restart
        "ml-a": Path("/registered/a"), "ml-b": Path("/from/env"), "team/ml-c-qa": Path("/registered/c")}
    file.write_text("{not json")
    assert image_sources() == {"ml-a": Path("/from/env"), "ml-b": Path("/from/env")}


def test_rollback_trigger_reason_names_the_missing_or_firing_alarm() -> None:
    from dsplatform_localstack.cfn_triggers import tripped_reason

    a, b = "arn:aws:cloudwatch:us-east-1:1:alarm:api-5xx", "arn:aws:cloudwatch:us-east-1:1:alarm:latency"
    assert tripped_reason({a: "OK", b: "INSUFFICIENT_DATA"}, [a, b]) is None  # only ALARM trips, as on AWS
    assert "latency" in (tripped_reason({a: "OK", b: "ALARM"}, [a, b]) or "")
    assert "does not exist" in (tripped_reason({a: "OK"}, [a, b]) or "")


def test_a_sync_waiter_wakes_when_its_ecs_task_stops():
    """`.sync` ECS steps block on the task's stop event (not a fixed poll): it is set when the task stops."""
    import threading
    from types import SimpleNamespace

    from dsplatform_localstack import ecs_runner

    arn = "arn:aws:ecs:us-east-1:000000000000:task/c/unit-wait"
    run = object.__new__(ecs_runner.TaskRun)
    run.task = SimpleNamespace(task_arn=arn, id="unit-wait", containers=[], stopping_at=None)
    run.stopped = threading.Event()
    ecs_runner._RUNS[arn] = run
    try:
        assert ecs_runner.wait_stopped(arn, 0.01) is False  # still running: the waiter times out
        woke: list[bool] = []
        waiter = threading.Thread(target=lambda: woke.append(ecs_runner.wait_stopped(arn, 60)))
        waiter.start()
        run._finish("EssentialContainerExited", "done")
        waiter.join(60)
        assert woke == [True] and run.task.last_status == "STOPPED"
        assert ecs_runner.wait_stopped(arn, 60) is True  # no longer running here: nothing to wait for
    finally:
        ecs_runner._RUNS.pop(arn, None)


def test_run_task_answers_each_task_as_launched_even_when_its_run_moves_on_at_once() -> None:
    from types import SimpleNamespace

    from dsplatform_localstack import ecs_answers
    from moto.core.responses import ActionResult

    task = SimpleNamespace(last_status="PROVISIONING", containers=[SimpleNamespace(last_status="PENDING")])
    started: list[str] = []

    class Run:
        def start(self) -> None:  # a task whose thread reaches RUNNING before the answer is serialized
            task.last_status, task.containers[0].last_status = "RUNNING", "RUNNING"
            started.append("run")

    def handler(self: object) -> ActionResult:
        ecs_answers.start_or_hold(Run())
        return ActionResult({"tasks": [task], "failures": []})

    answer = ecs_answers.answering(handler)(object()).result
    assert answer["tasks"][0].last_status == "PROVISIONING"
    assert answer["tasks"][0].containers[0].last_status == "PENDING"
    assert started == ["run"] and task.last_status == "RUNNING"  # held, then started once the answer was taken
    ecs_answers.start_or_hold(Run())  # outside an answer, a run starts at once
    assert started == ["run", "run"]


def test_a_free_port_lies_below_the_ephemeral_range_and_is_not_handed_out_twice(tmp_path: Path) -> None:
    from dsplatform_localstack import ports

    span = tmp_path / "ip_local_port_range"
    span.write_text("32768\t60999\n")
    assert ports.ephemeral_range(span) == (32768, 60999)
    given = [ports.free_port(path=span) for _ in range(50)]
    assert all(20_000 <= port < 32768 for port in given) and len(set(given)) == 50
    span.write_text("1024 65535\n")  # no room below the range: the kernel's choice
    assert 1024 <= ports.free_port(path=span) <= 65535
    assert ports.ephemeral_range(tmp_path / "missing") == (32768, 60999)


def test_a_port_a_server_holds_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from dsplatform_localstack import ports

    span = tmp_path / "ip_local_port_range"
    span.write_text("32768 60999\n")
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        held = server.getsockname()[1]
        free = ports.free_port(path=span)
        drawn = iter([held, free])  # the random draw hits the held port first
        monkeypatch.setattr(ports.random, "randrange", lambda *_: next(drawn))
        monkeypatch.setattr(ports, "_RECENT", ports.collections.deque(maxlen=8))
        assert ports.free_port(path=span) == free
