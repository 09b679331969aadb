"""Pure parts of the extension's CodeBuild/CodePipeline: buildspec parsing, the shell state carried between
commands and its timeout, and CloudFormation properties -> API requests (no LocalStack needed)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "localstack" / "extension"))

from dsplatform_localstack.cfn.cicd_shapes import pipeline_request, project_request
from dsplatform_localstack.codebuild_buildspec import BuildspecError, is_inline, parse
from dsplatform_localstack.codebuild_shell import Shell
from dsplatform_localstack.codepipeline_variables import VariableError, resolve


def test_a_buildspec_is_read_with_env_phases_finally_and_artifacts() -> None:
    spec = parse("""
version: 0.2
env:
  variables: {A: 1, B: null}
  parameter-store: {P: /x/y}
phases:
  build:
    on-failure: CONTINUE
    commands: [make, make test]
    finally: [echo done]
artifacts:
  files: ['**/*']
  base-directory: dist
  discard-paths: yes
""")
    assert spec.variables == {"A": "1", "B": ""} and spec.parameter_store == {"P": "/x/y"}
    assert spec.phases["build"].commands == ("make", "make test") and spec.phases["build"].finally_ == ("echo done",)
    assert spec.phases["build"].on_failure == "CONTINUE"
    assert (spec.artifact_files, spec.base_directory, spec.discard_paths) == (("**/*",), "dist", True)


@pytest.mark.parametrize(("text", "message"), [
    ("version: 0.3\n", "invalid buildspec version '0.3'"),
    ("version: 0.2\nphases:\n  deploy:\n    commands: [x]\n", "unknown phase 'deploy'"),
    ("version: 0.2\nphases:\n  build:\n    commands: make\n", "phases.build.commands must be a list"),
    ("version: 0.2\nphases: [\n", "YAML_FILE_ERROR"),
])
def test_a_bad_buildspec_names_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(BuildspecError, match=message.replace("[", r"\[")):
        parse(text)


def test_inline_buildspecs_are_told_from_file_names() -> None:
    assert is_inline("version: 0.2\nphases: {}") and not is_inline("ci/buildspec.yml")


def test_the_shell_carries_directory_and_exports_between_commands(tmp_path: Path) -> None:
    (tmp_path / "src" / "sub").mkdir(parents=True)
    shell = Shell(tmp_path / "state", tmp_path / "src", {"PATH": "/usr/bin:/bin", "BASE": "b"})
    lines: list[str] = []
    deadline = time.monotonic() + 30
    assert shell.run("cd sub && export CARRIED=yes; PLAIN='two\nlines'", lines.append, deadline) == 0
    shell.set("LATER", "it's set")
    assert shell.run('echo "$(basename $PWD) $CARRIED $BASE $LATER"; exit 4', lines.append, deadline) == 4
    assert shell.run('echo "$PLAIN"; bash -c \'echo "child:$CARRIED:$PLAIN"\'', lines.append, deadline) == 0
    assert lines == ["sub yes b it's set", "two", "lines", "child:yes:"]  # unexported stays in the shell


def test_a_command_past_the_deadline_is_killed(tmp_path: Path) -> None:
    shell = Shell(tmp_path / "state", tmp_path, {"PATH": "/usr/bin:/bin"})
    started = time.monotonic()
    assert shell.run("sleep 30", lambda _line: None, time.monotonic() + 0.5) is None
    assert time.monotonic() - started < 10


def test_project_properties_become_a_create_project_request() -> None:
    request = project_request({
        "Name": "p", "Source": {"Type": "CODEPIPELINE", "BuildSpec": "version: 0.2"},
        "Artifacts": {"Type": "CODEPIPELINE"}, "ServiceRole": "arn:aws:iam::1:role/r", "TimeoutInMinutes": "15",
        "Environment": {"Type": "LINUX_CONTAINER", "PrivilegedMode": "false",
                        "EnvironmentVariables": [{"Name": "A", "Value": "1", "Type": "PLAINTEXT"}]},
        "LogsConfig": {"CloudWatchLogs": {"Status": "ENABLED", "GroupName": "g"}}})
    assert request == {
        "name": "p", "source": {"type": "CODEPIPELINE", "buildspec": "version: 0.2"},
        "artifacts": {"type": "CODEPIPELINE"}, "serviceRole": "arn:aws:iam::1:role/r", "timeoutInMinutes": 15,
        "environment": {"type": "LINUX_CONTAINER", "privilegedMode": False,
                        "environmentVariables": [{"name": "A", "value": "1", "type": "PLAINTEXT"}]},
        "logsConfig": {"cloudWatchLogs": {"status": "ENABLED", "groupName": "g"}}}


def test_pipeline_properties_become_a_create_pipeline_request_with_string_configuration() -> None:
    request = pipeline_request({
        "Name": "pl", "RoleArn": "r", "PipelineType": "V2",
        "ArtifactStores": [{"Region": "us-east-1", "ArtifactStore": {"Type": "S3", "Location": "b"}}],
        "Stages": [{"Name": "Source", "Actions": [{
            "Name": "S", "RunOrder": "2", "ActionTypeId": {"Category": "Source", "Owner": "AWS", "Provider": "S3",
                                                           "Version": "1"},
            "Configuration": {"S3Bucket": "b", "PollForSourceChanges": False, "ParameterOverrides": {"A": "1"}},
            "OutputArtifacts": [{"Name": "Src"}]}]}]})
    action = request["stages"][0]["actions"][0]
    assert request["artifactStores"] == {"us-east-1": {"type": "S3", "location": "b"}}
    assert request["pipelineType"] == "V2" and action["runOrder"] == 2
    assert action["configuration"] == {"S3Bucket": "b", "PollForSourceChanges": "false",
                                       "ParameterOverrides": '{"A": "1"}'}
    assert action["actionTypeId"] == {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"}


def test_the_shell_reads_back_exported_values(tmp_path: Path) -> None:
    shell = Shell(tmp_path / "state", tmp_path, {"PATH": "/usr/bin:/bin"})
    assert shell.run('export IMAGE_TAG="a b"; LOCAL=x', lambda _line: None, time.monotonic() + 30) == 0
    assert shell.values(("IMAGE_TAG", "LOCAL", "MISSING")) == {"IMAGE_TAG": "a b", "LOCAL": "x", "MISSING": ""}


def test_variables_resolve_from_namespaces_and_an_unknown_one_is_named() -> None:
    namespaces = {"codepipeline": {"PipelineExecutionId": "e-1"}, "Build": {"TAG": "v1"}}
    assert resolve({"A": "#{Build.TAG}@#{codepipeline.PipelineExecutionId}", "B": "plain"}, namespaces) == {
        "A": "v1@e-1", "B": "plain"}
    with pytest.raises(VariableError, match=r"#\{Build.MISSING\}: namespace 'Build' has no variable 'MISSING'"):
        resolve({"A": "#{Build.MISSING}"}, namespaces)
    with pytest.raises(VariableError, match="namespace 'Deploy' is not defined"):
        resolve({"A": "#{Deploy.X}"}, namespaces)


def test_the_launcher_puts_its_venv_first_on_a_build_s_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from dsplatform.localstack.launcher import _environment
    from dsplatform.localstack.settings import LocalStackSettings

    settings = LocalStackSettings(host="127.0.0.1", port=4999, project_root=tmp_path)
    monkeypatch.delenv("DSPLATFORM_CODEBUILD_PATH", raising=False)
    assert sys.prefix != sys.base_prefix  # the tests run in the project's venv
    assert _environment(settings)["DSPLATFORM_CODEBUILD_PATH"] == str(Path(sys.executable).parent)
    monkeypatch.setenv("DSPLATFORM_CODEBUILD_PATH", "/opt/tools/bin")  # a user's own choice wins
    assert _environment(settings)["DSPLATFORM_CODEBUILD_PATH"] == "/opt/tools/bin"


def test_a_failing_command_s_error_points_at_its_own_line_and_children_do_not_touch_the_state(
        tmp_path: Path) -> None:
    shell = Shell(tmp_path / "state", tmp_path, {"PATH": "/usr/bin:/bin"})
    lines: list[str] = []
    deadline = time.monotonic() + 30
    assert shell.run("export A=1; bash -c 'export A=2; cd /'; no-such-tool", lines.append, deadline) == 127
    assert lines == ["bash: line 1: no-such-tool: command not found"]
    assert shell.run('echo "$A $(pwd)"', lines.append, deadline) == 0
    assert lines[-1] == f"1 {tmp_path}"


def test_sections_not_emulated_are_listed_for_the_build_log() -> None:
    spec = parse("version: 0.2\nreports: {r: {files: [x]}}\ncache: {paths: [y]}\nphases:\n  install:\n"
                 "    runtime-versions: {python: 3.12}\n")
    assert spec.ignored == ("reports", "cache") and spec.phases["install"].runtime_versions == {"python": "3.12"}


def test_a_build_command_is_recorded_for_the_launcher_while_it_runs(tmp_path: Path, monkeypatch) -> None:
    # As ECS tasks, Lambda environments and replicas: a command left running by a killed LocalStack is found and
    # stopped through its marker (dsplatform.localstack.launcher). `$$` in `bash -c` is the group's leader.
    monkeypatch.setenv("DSPLATFORM_STATE_DIR", str(tmp_path / "ls-state"))
    marks = tmp_path / "ls-state" / "tasks"
    shell = Shell(tmp_path / "state", tmp_path, {"PATH": "/usr/bin:/bin", "MARKS": str(marks)}, build="arn:b:1")
    lines: list[str] = []
    assert shell.run('echo "$$"; cat "$MARKS/$$"', lines.append, time.monotonic() + 30) == 0
    assert lines[1] == "codebuild arn:b:1", lines
    assert not (marks / lines[0]).exists()  # removed once the command ended
