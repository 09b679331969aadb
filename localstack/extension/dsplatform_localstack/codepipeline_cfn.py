"""The CloudFormation deploy action: CREATE_UPDATE, REPLACE_ON_FAILURE, DELETE_ONLY, CHANGE_SET_REPLACE and
CHANGE_SET_EXECUTE against this LocalStack's CloudFormation, with TemplatePath, TemplateConfiguration,
ParameterOverrides (Fn::GetParam too), Capabilities, RoleArn and OutputFileName."""

from __future__ import annotations

import contextlib
import io
import json
import time
import zipfile
from collections.abc import Callable
from typing import Any

from dsplatform_localstack.codebuild_io import client

_POLL_SECONDS = 0.3
_DONE_OK = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE", "DELETE_COMPLETE")


class DeployFailed(Exception):
    """The deploy action failed (message as the action's error details)."""


def _parameters(action: Any, read: Callable[[Any, str], str]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    config = action.config
    values: dict[str, str] = {}
    tags: list[dict[str, str]] = []
    if config.get("TemplateConfiguration"):
        document = json.loads(read(action, config["TemplateConfiguration"]))
        values.update({k: str(v) for k, v in (document.get("Parameters") or {}).items()})
        tags = [{"Key": k, "Value": str(v)} for k, v in (document.get("Tags") or {}).items()]
    overrides = config.get("ParameterOverrides")
    if overrides:
        for key, value in (json.loads(overrides) if isinstance(overrides, str) else overrides).items():
            if isinstance(value, dict) and "Fn::GetParam" in value:
                artifact, path, name = value["Fn::GetParam"]
                value = json.loads(read(action, f"{artifact}::{path}"))[name]
            values[key] = str(value)
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()], tags


def _stack(cfn: Any, name: str) -> dict[str, Any] | None:
    try:
        return dict(cfn.describe_stacks(StackName=name)["Stacks"][0])
    except cfn.exceptions.ClientError as err:
        if "does not exist" in str(err):
            return None
        raise


def _wait(cfn: Any, name: str, action: Any) -> dict[str, Any] | None:
    while True:
        stack = _stack(cfn, name)
        if stack is None or not stack["StackStatus"].endswith("_IN_PROGRESS"):
            break
        if action.abandoned.is_set():
            raise DeployFailed("The pipeline execution was stopped")
        time.sleep(_POLL_SECONDS)
    if stack is not None and stack["StackStatus"] not in _DONE_OK:
        events = cfn.describe_stack_events(StackName=name)["StackEvents"]
        reasons = [e.get("ResourceStatusReason") for e in events if e["ResourceStatus"].endswith("FAILED")]
        raise DeployFailed(f"Stack {name} is in {stack['StackStatus']} state: "
                           f"{next((r for r in reasons if r), stack.get('StackStatusReason') or '')}")
    return stack


def _common(action: Any, read: Callable[[Any, str], str]) -> dict[str, Any]:
    config = action.config
    kwargs: dict[str, Any] = {"StackName": config["StackName"]}
    if config.get("TemplatePath"):
        kwargs["TemplateBody"] = read(action, config["TemplatePath"])
    parameters, tags = _parameters(action, read)
    if parameters:
        kwargs["Parameters"] = parameters
    if tags:
        kwargs["Tags"] = tags
    if config.get("Capabilities"):
        kwargs["Capabilities"] = [c.strip() for c in config["Capabilities"].split(",") if c.strip()]
    if config.get("RoleArn"):
        kwargs["RoleARN"] = config["RoleArn"]
    return kwargs


def _create_update(cfn: Any, action: Any, read: Callable[[Any, str], str], replace: bool) -> None:
    kwargs = _common(action, read)
    name = kwargs["StackName"]
    stack = _stack(cfn, name)
    if stack is not None and replace and stack["StackStatus"] in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED",
                                                                   "CREATE_FAILED", "DELETE_FAILED"):
        cfn.delete_stack(StackName=name)
        _wait(cfn, name, action)
        stack = None
    if stack is None or stack["StackStatus"] == "DELETE_COMPLETE":
        cfn.create_stack(**kwargs)
    else:
        try:
            cfn.update_stack(**kwargs)
        except cfn.exceptions.ClientError as err:
            if "No updates are to be performed" not in str(err):
                raise DeployFailed(str(err)) from None
            action.summary = "No updates are to be performed"
            return
    _wait(cfn, name, action)


def _change_set_replace(cfn: Any, action: Any, read: Callable[[Any, str], str]) -> None:
    kwargs = _common(action, read)
    name, change_set = kwargs["StackName"], action.config["ChangeSetName"]
    stack = _stack(cfn, name)
    exists = stack is not None and stack["StackStatus"] != "REVIEW_IN_PROGRESS"
    with contextlib.suppress(cfn.exceptions.ClientError):
        cfn.delete_change_set(StackName=name, ChangeSetName=change_set)
    cfn.create_change_set(ChangeSetName=change_set, ChangeSetType="UPDATE" if exists else "CREATE", **kwargs)
    while True:
        described = cfn.describe_change_set(StackName=name, ChangeSetName=change_set)
        if described["Status"] not in ("CREATE_PENDING", "CREATE_IN_PROGRESS"):
            break
        time.sleep(_POLL_SECONDS)
    if described["Status"] == "FAILED" and "didn't contain changes" not in str(described.get("StatusReason")):
        raise DeployFailed(f"Change set {change_set} failed: {described.get('StatusReason')}")


def _change_set_execute(cfn: Any, action: Any) -> None:
    name, change_set = action.config["StackName"], action.config["ChangeSetName"]
    try:
        described = cfn.describe_change_set(StackName=name, ChangeSetName=change_set)
    except cfn.exceptions.ClientError as err:
        raise DeployFailed(f"Change set {change_set} of stack {name} not found: {err}") from None
    if described["Status"] == "FAILED":  # no changes: nothing to execute, as on AWS the action succeeds
        action.summary = described.get("StatusReason")
        return
    cfn.execute_change_set(StackName=name, ChangeSetName=change_set)
    time.sleep(_POLL_SECONDS)
    _wait(cfn, name, action)


def deploy(action: Any, read: Callable[[Any, str], str]) -> None:
    """Run the deploy action's ActionMode; write OutputFileName (the stack's outputs) when asked."""
    cfn = client("cloudformation", action.account_id, action.region)
    mode = action.config.get("ActionMode", "CREATE_UPDATE")
    try:
        if mode in ("CREATE_UPDATE", "REPLACE_ON_FAILURE"):
            _create_update(cfn, action, read, replace=mode == "REPLACE_ON_FAILURE")
        elif mode == "CHANGE_SET_REPLACE":
            _change_set_replace(cfn, action, read)
        elif mode == "CHANGE_SET_EXECUTE":
            _change_set_execute(cfn, action)
        elif mode == "DELETE_ONLY":
            if _stack(cfn, action.config["StackName"]) is not None:
                cfn.delete_stack(StackName=action.config["StackName"])
                _wait(cfn, action.config["StackName"], action)
        else:
            raise DeployFailed(f"ActionMode {mode!r} is not one of CREATE_UPDATE, REPLACE_ON_FAILURE, DELETE_ONLY, "
                               f"CHANGE_SET_REPLACE, CHANGE_SET_EXECUTE")
    except cfn.exceptions.ClientError as err:
        raise DeployFailed(str(err)) from None
    _write_outputs(cfn, action)


def _write_outputs(cfn: Any, action: Any) -> None:
    deleted = action.config.get("ActionMode") == "DELETE_ONLY"
    stack = {} if deleted else (_stack(cfn, action.config["StackName"]) or {})
    values = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}
    action.variables = dict(values)  # the action's namespace: the stack's outputs
    file_name = action.config.get("OutputFileName")
    outputs = action.action.get("outputArtifacts") or []
    if not file_name or not outputs:
        return
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(file_name, json.dumps(values))
    target = action.output_location(outputs[0]["name"])
    client("s3", action.account_id, action.region).put_object(Bucket=target["bucket"], Key=target["key"],
                                                              Body=buffer.getvalue())
