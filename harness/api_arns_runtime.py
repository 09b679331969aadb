"""IAM requests of the runtime services' calls (Step Functions, logs, Lambda, SageMaker, ECS, CloudWatch,
EventBridge, SNS, SQS, DynamoDB, IAM reads, EC2 and ELB describes): the second half of ``harness.api_arns``."""

from __future__ import annotations

from harness.api_arns import ANY, Builder, Params, Request, Resources, Where, _any, _each, _is_arn

# --- Step Functions --------------------------------------------------------------------------------------------

_STATES: dict[str, Builder] = {
    **{op: _each(f"states:{op}", lambda p, w: [str(p["stateMachineArn"])])
       for op in ("StartExecution", "DescribeStateMachine", "ListExecutions", "StartSyncExecution")},
    **{op: _each(f"states:{op}", lambda p, w: [str(p["executionArn"])])
       for op in ("DescribeExecution", "GetExecutionHistory", "StopExecution", "ListMapRuns")},
    "DescribeMapRun": _each("states:DescribeMapRun", lambda p, w: [str(p["mapRunArn"])]),
    "ListStateMachines": _any("states:ListStateMachines"),
}

# --- CloudWatch Logs -------------------------------------------------------------------------------------------


def _log_group(p: Params, w: Where) -> list[str]:
    return [w.arn("logs", f"log-group:{p['logGroupName']}:*")]


_LOGS: dict[str, Builder] = {
    "GetLogEvents": _each("logs:GetLogEvents", lambda p, w: [
        w.arn("logs", f"log-group:{p['logGroupName']}:log-stream:{p['logStreamName']}")]),
    "FilterLogEvents": _each("logs:FilterLogEvents", _log_group),
    "DescribeLogStreams": _each("logs:DescribeLogStreams", _log_group),
    "DescribeLogGroups": _any("logs:DescribeLogGroups"),
}

# --- Lambda ----------------------------------------------------------------------------------------------------


def _function(qualified: bool) -> Resources:
    def build(p: Params, w: Where) -> list[str]:
        name = str(p["FunctionName"])
        parts = name.split(":function:", 1)[-1].split(":") if _is_arn(name) else name.split(":")
        qualifier = p.get("Qualifier") or (parts[1] if len(parts) > 1 else None)
        suffix = f":{qualifier}" if qualified and qualifier else ""
        return [w.arn("lambda", f"function:{parts[0]}{suffix}")]
    return build


_LAMBDA: dict[str, Builder] = {
    # Alias calls are authorized on the function (the alias is a parameter, not the resource).
    **{op: _each(f"lambda:{op}", _function(False))
       for op in ("GetAlias", "UpdateAlias", "CreateAlias", "DeleteAlias", "ListAliases", "ListVersionsByFunction",
                  "PublishVersion")},
    **{op: _each(f"lambda:{op}", _function(True))
       for op in ("GetFunction", "GetFunctionConfiguration", "GetFunctionEventInvokeConfig",
                  "PutFunctionEventInvokeConfig")},
    "Invoke": _each("lambda:InvokeFunction", _function(True)),
}

# --- SageMaker (ARNs carry the names in lower case) ------------------------------------------------------------


def _sm(kind: str, key: str) -> Resources:
    return lambda p, w: [w.arn("sagemaker", f"{kind}/{str(p[key]).lower()}")]


def _update_endpoint(p: Params, w: Where) -> list[Request]:
    return [Request("sagemaker:UpdateEndpoint", r) for r in (
        w.arn("sagemaker", f"endpoint/{str(p['EndpointName']).lower()}"),
        w.arn("sagemaker", f"endpoint-config/{str(p['EndpointConfigName']).lower()}"))]


def _create_model(p: Params, w: Where) -> list[Request]:
    out = [Request("sagemaker:CreateModel", w.arn("sagemaker", f"model/{str(p['ModelName']).lower()}"))]
    if p.get("ExecutionRoleArn"):
        out.append(Request("iam:PassRole", str(p["ExecutionRoleArn"]),
                           (("iam:PassedToService", "sagemaker.amazonaws.com"),)))
    return out


_SAGEMAKER: dict[str, Builder] = {
    **{op: _each(f"sagemaker:{op}", _sm("endpoint", "EndpointName"))
       for op in ("DescribeEndpoint", "DeleteEndpoint", "InvokeEndpoint")},
    **{op: _each(f"sagemaker:{op}", _sm("endpoint-config", "EndpointConfigName"))
       for op in ("DescribeEndpointConfig", "DeleteEndpointConfig", "CreateEndpointConfig")},
    **{op: _each(f"sagemaker:{op}", _sm("model", "ModelName"))
       for op in ("DescribeModel", "DeleteModel")},
    "CreateModel": _create_model,
    "UpdateEndpoint": _update_endpoint,
    "CreateEndpoint": _update_endpoint,
    **{op: _any(f"sagemaker:{op}") for op in ("ListModels", "ListEndpointConfigs", "ListEndpoints")},
}

# --- ECS -------------------------------------------------------------------------------------------------------


def _service_arn(cluster: str, service: str, w: Where) -> str:
    if _is_arn(service):
        return service
    cluster_name = cluster.rsplit("/", 1)[-1] if _is_arn(cluster) else cluster
    return w.arn("ecs", f"service/{cluster_name}/{service}")


def _task_arn(cluster: str, task: str, w: Where) -> str:
    cluster_name = cluster.rsplit("/", 1)[-1] if _is_arn(cluster) else cluster
    return task if _is_arn(task) else w.arn("ecs", f"task/{cluster_name}/{task}")


def _register_task_definition(p: Params, w: Where) -> list[Request]:
    # The task and execution roles are passed to ECS tasks.
    return [Request("ecs:RegisterTaskDefinition", ANY),
            *(Request("iam:PassRole", str(p[key]), (("iam:PassedToService", "ecs-tasks.amazonaws.com"),))
              for key in ("taskRoleArn", "executionRoleArn") if p.get(key))]


_ECS: dict[str, Builder] = {
    "DescribeServices": _each("ecs:DescribeServices", lambda p, w: [
        _service_arn(str(p.get("cluster", "default")), str(s), w) for s in p["services"]]),
    "UpdateService": _each("ecs:UpdateService", lambda p, w: [
        _service_arn(str(p.get("cluster", "default")), str(p["service"]), w)]),
    "DescribeTasks": _each("ecs:DescribeTasks", lambda p, w: [
        _task_arn(str(p.get("cluster", "default")), str(t), w) for t in p["tasks"]]),
    "StopTask": _each("ecs:StopTask", lambda p, w: [_task_arn(str(p.get("cluster", "default")), str(p["task"]), w)]),
    "RegisterTaskDefinition": _register_task_definition,
    # Task definitions and ListTasks have no resource-level permission (ListTasks is scoped by condition only).
    **{op: _any(f"ecs:{op}") for op in ("DescribeTaskDefinition", "ListTasks", "ListTaskDefinitions")},
}

# --- CloudWatch, EventBridge, SNS, SQS, DynamoDB ----------------------------------------------------------------

_CLOUDWATCH: dict[str, Builder] = {
    "DescribeAlarms": _each("cloudwatch:DescribeAlarms", lambda p, w: [
        w.arn("cloudwatch", f"alarm:{n}") for n in p.get("AlarmNames") or []] or [ANY]),
    "SetAlarmState": _each("cloudwatch:SetAlarmState", lambda p, w: [w.arn("cloudwatch", f"alarm:{p['AlarmName']}")]),
    **{op: _any(f"cloudwatch:{op}") for op in ("GetMetricData", "GetMetricStatistics", "ListMetrics",
                                               "PutMetricData")},
}


def _rule(p: Params, w: Where) -> list[str]:
    name, bus = str(p.get("Name") or p["Rule"]), p.get("EventBusName")
    return [w.arn("events", f"rule/{bus}/{name}" if bus and bus != "default" else f"rule/{name}")]


def _put_targets(p: Params, w: Where) -> list[Request]:
    # A target's role is passed to EventBridge, which assumes it to start the target.
    return [*(Request("events:PutTargets", r) for r in _rule(p, w)),
            *(Request("iam:PassRole", str(t["RoleArn"]), (("iam:PassedToService", "events.amazonaws.com"),))
              for t in p["Targets"] if t.get("RoleArn"))]


_EVENTS: dict[str, Builder] = {
    **{op: _each(f"events:{op}", _rule)
       for op in ("DescribeRule", "PutRule", "DeleteRule", "RemoveTargets", "ListTargetsByRule")},
    "PutTargets": _put_targets,
    "PutEvents": _each("events:PutEvents", lambda p, w: sorted({
        w.arn("events", f"event-bus/{e.get('EventBusName') or 'default'}") for e in p["Entries"]})),
}

_SNS: dict[str, Builder] = {
    **{op: _each(f"sns:{op}", lambda p, w: [str(p["TopicArn"])])
       for op in ("Publish", "Subscribe", "ListSubscriptionsByTopic", "GetTopicAttributes")},
    # Subscriptions are no IAM resource type: SNS authorizes Unsubscribe on "*" only.
    "Unsubscribe": _any("sns:Unsubscribe"),
}


def _queue(p: Params, w: Where) -> list[str]:
    name = str(p.get("QueueName") or str(p["QueueUrl"]).rstrip("/").rsplit("/", 1)[-1])
    return [w.arn("sqs", name)]


_SQS: dict[str, Builder] = {
    op: _each(f"sqs:{op}", _queue)
    for op in ("CreateQueue", "DeleteQueue", "GetQueueAttributes", "SetQueueAttributes", "ReceiveMessage",
               "DeleteMessage", "SendMessage", "PurgeQueue")
}

_DYNAMODB: dict[str, Builder] = {
    op: _each(f"dynamodb:{op}", lambda p, w: [w.arn("dynamodb", f"table/{p['TableName']}")])
    for op in ("GetItem", "PutItem", "DeleteItem", "UpdateItem", "Query", "Scan", "DescribeTable", "DeleteTable")
}

# --- IAM reads, EC2 and ELB describes ---------------------------------------------------------------------------

_IAM: dict[str, Builder] = {
    **{op: _each(f"iam:{op}", lambda p, w: [w.arn("iam", f"role/{p['RoleName']}", region=False)])
       for op in ("GetRole", "GetRolePolicy", "ListRolePolicies", "ListAttachedRolePolicies")},
    **{op: _each(f"iam:{op}", lambda p, w: [str(p["PolicyArn"])]) for op in ("GetPolicy", "GetPolicyVersion")},
}

_DESCRIBE_ONLY = {  # no resource-level permissions for these describes
    "ec2": ("DescribeSecurityGroups", "DescribeRouteTables", "DescribeSubnets", "DescribeVpcs",
            "DescribeVpcEndpoints", "DescribeNetworkInterfaces"),
    "elasticloadbalancing": ("DescribeLoadBalancers", "DescribeTargetGroups", "DescribeTargetHealth",
                             "DescribeListeners", "DescribeLoadBalancerAttributes", "DescribeTargetGroupAttributes",
                             "DescribeTags"),
}

TABLES: dict[str, dict[str, Builder]] = {
    "states": _STATES, "logs": _LOGS, "lambda": _LAMBDA, "sagemaker": _SAGEMAKER, "ecs": _ECS,
    "cloudwatch": _CLOUDWATCH, "events": _EVENTS, "sns": _SNS, "sqs": _SQS, "dynamodb": _DYNAMODB, "iam": _IAM,
    **{prefix: {op: _any(f"{prefix}:{op}") for op in ops} for prefix, ops in _DESCRIBE_ONLY.items()},
}
