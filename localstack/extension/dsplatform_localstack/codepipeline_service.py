"""CodePipeline as a LocalStack service: pipelines kept in moto's backend, executions run for real.

CreatePipeline is validated and stored here (moto's role check reads moto's IAM, not LocalStack's); executions,
their state, stops and approvals are this extension's (codepipeline_execution); GetPipeline, UpdatePipeline,
ListPipelines, DeletePipeline and tagging go to moto.
"""

from __future__ import annotations

import os
import threading
from types import SimpleNamespace
from typing import Any

from localstack.services.plugins import Service, aws_provider

from dsplatform_localstack.codepipeline_execution import Execution, PipelineRuntime
from dsplatform_localstack.codepipeline_poller import SourcePoller, polled_sources

_RUNTIMES: dict[tuple[str, str, str], PipelineRuntime] = {}
_POLLERS: dict[tuple[str, str, str], SourcePoller] = {}
_LOCK = threading.Lock()
_FIRST_RUN_DELAY = 1.0  # seconds between CreatePipeline and its first execution's start


def _error(code: str, message: str) -> Exception:
    from localstack.aws.api import CommonServiceException

    return CommonServiceException(code, message, status_code=400, sender_fault=True)


def _backend(context: Any) -> Any:
    from moto.codepipeline.models import codepipeline_backends

    return codepipeline_backends[context.account_id][context.region]


def _pipeline(context: Any, name: str) -> dict[str, Any]:
    stored = _backend(context).pipelines.get(name)
    if stored is None:
        raise _error("PipelineNotFoundException",
                     f"Account '{context.account_id}' does not have a pipeline with name '{name}'")
    return dict(stored.pipeline)


def _runtime(context: Any, name: str) -> PipelineRuntime:
    with _LOCK:
        return _RUNTIMES.setdefault((context.account_id, context.region, name), PipelineRuntime())


def _validate(pipeline: dict[str, Any]) -> None:
    stages = pipeline.get("stages") or []
    if len(stages) < 2:
        raise _error("InvalidStructureException",
                     f"Pipeline has only {len(stages)} stage(s). There should be a minimum of 2 stages in a pipeline")
    if not pipeline.get("artifactStore") and not pipeline.get("artifactStores"):
        raise _error("InvalidStructureException", "Pipeline must have an artifactStore or artifactStores")
    produced: set[str] = set()
    for index, stage in enumerate(stages):
        sources = [a for a in stage["actions"] if a["actionTypeId"]["category"] == "Source"]
        if (index == 0) != (len(sources) == len(stage["actions"])) or (index > 0 and sources):
            raise _error("InvalidStructureException",
                         f"Stage {stage['name']}: only the first stage has, and only has, Source actions")
        names = [a["name"] for a in stage["actions"]]
        if len(set(names)) != len(names):
            raise _error("InvalidStructureException", f"Stage {stage['name']} has duplicate action names")
        for action in stage["actions"]:
            for artifact in action.get("inputArtifacts") or []:
                if artifact["name"] not in produced:
                    raise _error("InvalidStructureException",
                                 f"Input artifact {artifact['name']} of action {action['name']} is not the output "
                                 f"artifact of an action that runs before it")
        produced.update(a["name"] for action in stage["actions"] for a in action.get("outputArtifacts") or [])


def create_pipeline(context: Any, request: dict[str, Any]) -> dict[str, Any]:
    """CreatePipeline: validated as AWS does, stored in moto's backend, and started once, as AWS starts a new
    pipeline (unless DSPLATFORM_CODEPIPELINE_START_ON_CREATE=0)."""
    from moto.codepipeline.models import CodePipeline

    pipeline = dict(request["pipeline"])
    backend = _backend(context)
    if pipeline["name"] in backend.pipelines:
        raise _error("InvalidStructureException",
                     f"A pipeline with the name '{pipeline['name']}' already exists in account '{context.account_id}'")
    _validate(pipeline)
    pipeline.setdefault("pipelineType", "V1")
    if pipeline["pipelineType"] == "V2":
        pipeline.setdefault("executionMode", "SUPERSEDED")
    stored = CodePipeline(context.account_id, context.region, pipeline)
    tags = request.get("tags") or []
    stored.validate_tags(tags)
    stored.tags.update({t["key"]: t["value"] for t in tags})
    backend.pipelines[pipeline["name"]] = stored
    _poll(context, pipeline)
    if os.environ.get("DSPLATFORM_CODEPIPELINE_START_ON_CREATE", "1") != "0":
        # A moment later, as on AWS: CloudFormation disables inbound transitions right after creating the pipeline.
        _start(context, pipeline["name"], {"triggerType": "CreatePipeline", "triggerDetail": _caller(context)}, [],
               delay=_FIRST_RUN_DELAY)
    return {"pipeline": stored.pipeline, "tags": tags}


def _poll(context: Any, pipeline: dict[str, Any]) -> None:
    """(Re)start polling the pipeline's S3 sources that poll for changes."""
    key = (context.account_id, context.region, pipeline["name"])
    with _LOCK:
        old = _POLLERS.pop(key, None)
    if old is not None:
        old.stop()
    sources = polled_sources(pipeline)
    if not sources:
        return
    target = SimpleNamespace(account_id=context.account_id, region=context.region)

    def start(bucket: str, object_key: str) -> None:
        _start(target, pipeline["name"], {"triggerType": "PollForSourceChanges",
                                          "triggerDetail": f"{bucket}/{object_key}"}, [])

    with _LOCK:
        _POLLERS[key] = SourcePoller(context.account_id, context.region, sources, start)


def update_pipeline(context: Any, request: dict[str, Any]) -> dict[str, Any]:
    """UpdatePipeline: validated as CreatePipeline is, then stored by moto (which raises the version)."""
    from localstack.services.moto import call_moto_with_request

    pipeline = dict(request["pipeline"])
    _validate(pipeline)
    pipeline.setdefault("pipelineType", "V1")
    if pipeline["pipelineType"] == "V2":
        pipeline.setdefault("executionMode", "SUPERSEDED")
    response = dict(call_moto_with_request(context, {"pipeline": pipeline}))
    _poll(context, pipeline)
    return response


def _caller(context: Any) -> str:
    return f"arn:aws:iam::{context.account_id}:root"


def start_execution(context: Any, name: str, trigger: dict[str, Any],
                    variables: list[dict[str, str]] | None = None) -> Execution:
    """Start an execution of pipeline ``name`` (context: account_id, region) with ``trigger``."""
    return _start(context, name, trigger, variables or [])


def _start(context: Any, name: str, trigger: dict[str, Any], variables: list[dict[str, str]],
           delay: float = 0.0) -> Execution:
    pipeline = _pipeline(context, name)
    declared = {v["name"]: v.get("defaultValue") for v in pipeline.get("variables") or []}
    given = {v["name"]: v["value"] for v in variables}
    for key in given:
        if key not in declared:
            raise _error("ValidationException", f"Variable {key} is not declared by pipeline {name}")
    resolved = [{"name": k, "value": given.get(k, v or "")} for k, v in declared.items()]
    runtime = _runtime(context, name)
    execution = Execution(context.account_id, context.region, pipeline, runtime, trigger, resolved)
    with runtime.condition:
        runtime.executions.append(execution)
    execution.start(delay)
    return execution


def start_pipeline_execution(context: Any, request: dict[str, Any]) -> dict[str, Any]:
    """StartPipelineExecution."""
    execution = _start(context, request["name"], {"triggerType": "StartPipelineExecution",
                                                   "triggerDetail": _caller(context)}, request.get("variables") or [])
    return {"pipelineExecutionId": execution.id}


def _execution(context: Any, name: str, execution_id: str) -> Execution:
    _pipeline(context, name)
    for execution in _runtime(context, name).executions:
        if execution.id == execution_id:
            return execution
    raise _error("PipelineExecutionNotFoundException",
                 f"Pipeline execution with id {execution_id} does not exist in pipeline with name {name}")


def get_pipeline_execution(context: Any, request: dict[str, Any]) -> dict[str, Any]:
    """GetPipelineExecution."""
    return {"pipelineExecution": _execution(context, request["pipelineName"], request["pipelineExecutionId"]).record()}


def list_pipeline_executions(context: Any, request: dict[str, Any]) -> dict[str, Any]:
    """ListPipelineExecutions, newest first (maxResults, nextToken as an offset)."""
    _pipeline(context, request["pipelineName"])
    executions = sorted(_runtime(context, request["pipelineName"]).executions, key=lambda e: e.start_time,
                        reverse=True)
    start, size = int(request.get("nextToken") or 0), int(request.get("maxResults") or 100)
    page = executions[start:start + size]
    result: dict[str, Any] = {"pipelineExecutionSummaries": [e.summary_record() for e in page]}
    if start + size < len(executions):
        result["nextToken"] = str(start + size)
    return result


def get_pipeline_state(context: Any, request: dict[str, Any]) -> dict[str, Any]:
    """GetPipelineState: every stage with its latest execution and its actions' latest executions."""
    from moto.codepipeline.models import CodePipeline

    name = request["name"]
    pipeline = _pipeline(context, name)
    stored: CodePipeline = _backend(context).pipelines[name]
    runtime = _runtime(context, name)
    stages = []
    for stage in pipeline["stages"]:
        state = runtime.stage_states.get(stage["name"], {})
        inbound = runtime.disabled.get(stage["name"], {"enabled": True})
        entry: dict[str, Any] = {"stageName": stage["name"], "inboundTransitionState": dict(inbound),
                                 "actionStates": [
                                     state.get("actionStates", {}).get(a["name"], {"actionName": a["name"]})
                                     for a in stage["actions"]]}
        if state.get("latestExecution"):
            entry["latestExecution"] = dict(state["latestExecution"])
        stages.append(entry)
    return {"pipelineName": name, "pipelineVersion": pipeline["version"], "stageStates": stages,
            "created": stored._created, "updated": stored._updated}


def stop_pipeline_execution(context: Any, request: dict[str, Any]) -> dict[str, Any]:
    """StopPipelineExecution (abandon or stop-and-wait)."""
    execution = _execution(context, request["pipelineName"], request["pipelineExecutionId"])
    if execution.status == "Stopping" and not request.get("abandon"):
        raise _error("DuplicatedStopRequestException", "Execution is already being stopped")
    if execution.status not in ("InProgress", "Stopping"):
        raise _error("PipelineExecutionNotStoppableException",
                     f"Unable to stop pipeline execution {execution.id}: it is {execution.status}")
    execution.stop(bool(request.get("abandon")), request.get("reason"))
    return {"pipelineExecutionId": execution.id}


def put_approval_result(context: Any, request: dict[str, Any]) -> dict[str, Any]:
    """PutApprovalResult: the waiting approval with that token gets Approved or Rejected."""
    from datetime import UTC, datetime

    name, stage, action = request["pipelineName"], request["stageName"], request["actionName"]
    pipeline = _pipeline(context, name)
    declared = [a for s in pipeline["stages"] if s["name"] == stage for a in s["actions"] if a["name"] == action]
    if not declared or declared[0]["actionTypeId"]["category"] != "Approval":
        raise _error("ActionNotFoundException", f"Action {action} of stage {stage} not found in pipeline {name}")
    for execution in _runtime(context, name).executions:
        run = execution.actions.get((stage, action))
        if run is not None and run.token == request["token"]:
            if run._answered.is_set() or execution.status != "InProgress":
                raise _error("ApprovalAlreadyCompletedException", f"Approval for token {run.token} already completed")
            run.answer(request["result"]["status"], request["result"].get("summary"))
            return {"approvedAt": datetime.now(UTC)}
    raise _error("InvalidApprovalTokenException",
                 f"The token {request['token']} is not valid for action {action} of stage {stage}")


def _transition_stage(context: Any, request: dict[str, Any]) -> str:
    """The stage whose inbound transition the request names (Outbound of a stage = Inbound of the next one)."""
    names = [s["name"] for s in _pipeline(context, request["pipelineName"])["stages"]]
    stage = request["stageName"]
    if stage not in names:
        raise _error("StageNotFoundException", f"Stage {stage} not found in pipeline {request['pipelineName']}")
    if request["transitionType"] == "Outbound":
        index = names.index(stage) + 1
        if index == len(names):
            raise _error("ValidationException", f"Stage {stage} is the last stage: it has no outbound transition")
        return names[index]
    return stage


def disable_stage_transition(context: Any, request: dict[str, Any]) -> dict[str, Any]:
    """DisableStageTransition: executions wait before the stage until it is enabled again."""
    from datetime import UTC, datetime

    stage = _transition_stage(context, request)
    runtime = _runtime(context, request["pipelineName"])
    with runtime.condition:
        runtime.disabled[stage] = {"enabled": False, "disabledReason": request["reason"],
                                   "lastChangedBy": _caller(context), "lastChangedAt": datetime.now(UTC)}
    return {}


def enable_stage_transition(context: Any, request: dict[str, Any]) -> dict[str, Any]:
    """EnableStageTransition: the execution waiting at the transition (the newest, in SUPERSEDED mode) goes on."""
    stage = _transition_stage(context, request)
    runtime = _runtime(context, request["pipelineName"])
    with runtime.condition:
        runtime.disabled.pop(stage, None)
        runtime.condition.notify_all()
    return {}


def retry_stage_execution(context: Any, request: dict[str, Any]) -> dict[str, Any]:
    """RetryStageExecution: the latest execution, failed in that stage, runs again from it."""
    name, stage = request["pipelineName"], request["stageName"]
    execution = _execution(context, name, request["pipelineExecutionId"])
    latest = _runtime(context, name).stage_states.get(stage, {}).get("latestExecution") or {}
    if latest.get("pipelineExecutionId") != execution.id:
        raise _error("NotLatestPipelineExecutionException",
                     f"Execution {execution.id} is not the latest execution of stage {stage}")
    if execution.status != "Failed" or latest.get("status") != "Failed":
        raise _error("StageNotRetryableException", f"Stage {stage} of execution {execution.id} has not failed")
    execution.retry(stage, request["retryMode"] == "FAILED_ACTIONS")
    return {"pipelineExecutionId": execution.id}


def list_action_executions(context: Any, request: dict[str, Any]) -> dict[str, Any]:
    """ListActionExecutions (filter by execution id), newest first."""
    name = request["pipelineName"]
    _pipeline(context, name)
    wanted = (request.get("filter") or {}).get("pipelineExecutionId")
    records = [r for e in _runtime(context, name).executions if wanted in (None, e.id) for r in e.action_records]
    return {"actionExecutionDetails": sorted(records, key=lambda r: r["startTime"], reverse=True)}


def delete_pipeline(context: Any, request: dict[str, Any]) -> dict[str, Any]:
    """DeletePipeline: executions in progress are abandoned."""
    with _LOCK:
        runtime = _RUNTIMES.pop((context.account_id, context.region, request["name"]), None)
        poller = _POLLERS.pop((context.account_id, context.region, request["name"]), None)
    if poller is not None:
        poller.stop()
    for execution in runtime.executions if runtime else []:
        if execution.status == "InProgress":
            execution.stop(True, "Pipeline deleted")
    _backend(context).pipelines.pop(request["name"], None)
    return {}


@aws_provider(api="codepipeline")
def codepipeline() -> Service:
    """CodePipeline: pipelines in moto, executions run by this extension."""
    from localstack.aws.skeleton import Skeleton
    from localstack.aws.spec import load_service
    from localstack.services.moto import call_moto

    from dsplatform_localstack import codepipeline_target

    codepipeline_target.register()  # rules may target a pipeline only once pipelines exist, i.e. after this
    model = load_service("codepipeline")

    def _forward(context, _request):  # type: ignore[no-untyped-def]
        return call_moto(context)

    table: dict[str, Any] = {operation: _forward for operation in model.operation_names}
    table.update(CreatePipeline=create_pipeline, StartPipelineExecution=start_pipeline_execution,
                 GetPipelineExecution=get_pipeline_execution, ListPipelineExecutions=list_pipeline_executions,
                 GetPipelineState=get_pipeline_state, StopPipelineExecution=stop_pipeline_execution,
                 PutApprovalResult=put_approval_result, ListActionExecutions=list_action_executions,
                 DeletePipeline=delete_pipeline, UpdatePipeline=update_pipeline,
                 DisableStageTransition=disable_stage_transition, EnableStageTransition=enable_stage_transition,
                 RetryStageExecution=retry_stage_execution)
    return Service(name="codepipeline", skeleton=Skeleton(model, table))
