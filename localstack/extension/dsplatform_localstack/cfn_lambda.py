"""In-place CloudFormation updates for Lambda aliases and event invoke configs.

The community ``AWS::Lambda::Alias`` update raises NotImplementedError: moving ``live`` to a newly published
version failed the stack, and its rollback could delete the alias. Here the update calls UpdateAlias
(FunctionVersion, Description, ProvisionedConcurrencyConfig); Name and FunctionName are create-only, so the
engine replaces the alias for those. Weighted routing (RoutingConfig with AdditionalVersionWeights) is refused
with a clear message: LocalStack's UpdateAlias fails on it (see the fidelity report).
``AWS::Lambda::EventInvokeConfig`` (destinations, retries) had no update either; PutFunctionEventInvokeConfig
replaces the whole configuration, so re-running create is the update.

The engine also replaced these resources whenever the resource a create-only property refers to changed
(``FunctionName: !Ref Function`` after a code change), though the value stayed the same; the replacement
created a second alias of the same name (conflict) and its cleanup would delete the one in use. As on AWS,
they are now replaced only when a create-only property's resolved value changes.
Patched: ``LambdaAliasProvider.update``, ``LambdaEventInvokeConfigProvider.update`` and
``ChangeSetModelExecutor._execute_resource_change`` (localstack.services.cloudformation.engine.v2).
"""

from __future__ import annotations

import functools
from typing import Any

WEIGHTED_ROUTING_UNSUPPORTED = (
    "RoutingConfig.AdditionalVersionWeights (weighted alias routing) is not emulated by LocalStack here;"
    " point the alias at one version, or test weighted routing on AWS"
)


# Create-only properties (AWS's schemas) of the types whose replacement is decided on resolved values.
CREATE_ONLY: dict[str, tuple[str, ...]] = {
    "AWS::Lambda::Alias": ("FunctionName", "Name"),
    "AWS::Lambda::EventInvokeConfig": ("FunctionName", "Qualifier"),
}


def needs_replacement(resource_type: str, before: dict[str, Any], after: dict[str, Any]) -> bool:
    """True when a create-only property's resolved value differs (only for the types in CREATE_ONLY)."""
    return any(before.get(name) != after.get(name) for name in CREATE_ONLY[resource_type])


def alias_update(request: Any) -> Any:
    """UpdateAlias with the new FunctionVersion/Description; provisioned concurrency put or removed."""
    from localstack.services.cloudformation.resource_provider import OperationStatus, ProgressEvent

    model = dict(request.desired_state)
    previous = dict(request.previous_state or {})
    weights = (model.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
    if weights:
        return ProgressEvent(
            status=OperationStatus.FAILED,
            resource_model=previous,
            message=WEIGHTED_ROUTING_UNSUPPORTED,
            error_code="NotSupported",
        )
    lambda_ = request.aws_client_factory.lambda_
    name, function = previous.get("Name") or model["Name"], previous.get("FunctionName") or model["FunctionName"]
    params: dict[str, Any] = {"FunctionName": function, "Name": name, "FunctionVersion": str(model["FunctionVersion"])}
    if model.get("Description") is not None or previous.get("Description"):
        params["Description"] = model.get("Description") or ""
    result = lambda_.update_alias(**params)
    concurrency = (model.get("ProvisionedConcurrencyConfig") or {}).get("ProvisionedConcurrentExecutions")
    if concurrency:
        lambda_.put_provisioned_concurrency_config(
            FunctionName=function, Qualifier=name, ProvisionedConcurrentExecutions=int(concurrency)
        )
    elif previous.get("ProvisionedConcurrencyConfig"):
        lambda_.delete_provisioned_concurrency_config(FunctionName=function, Qualifier=name)
    model["Id"] = previous.get("Id") or result["AliasArn"]
    model["Name"], model["FunctionName"] = name, function
    return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)


def invoke_config_update(request: Any) -> Any:
    """PutFunctionEventInvokeConfig with the new properties (it replaces the whole config); same physical id."""
    from localstack.services.cloudformation.resource_provider import OperationStatus, ProgressEvent

    model = {k: v for k, v in request.desired_state.items() if k != "Id" and v is not None}
    request.aws_client_factory.lambda_.put_function_event_invoke_config(**model)
    model["Id"] = (request.previous_state or {}).get("Id")
    return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model)


def install() -> None:
    """Give Lambda::Alias and Lambda::EventInvokeConfig a real in-place update."""
    from localstack.services.lambda_.resource_providers.aws_lambda_eventinvokeconfig import (
        LambdaEventInvokeConfigProvider,
    )
    from localstack.services.lambda_.resource_providers.lambda_alias import LambdaAliasProvider

    @functools.wraps(LambdaAliasProvider.update)
    def update_alias(self, request):  # type: ignore[no-untyped-def]
        return alias_update(request)

    @functools.wraps(LambdaEventInvokeConfigProvider.update)
    def update_invoke_config(self, request):  # type: ignore[no-untyped-def]
        return invoke_config_update(request)

    LambdaAliasProvider.update = update_alias
    LambdaEventInvokeConfigProvider.update = update_invoke_config
    _replace_on_values_only()


def _replace_on_values_only() -> None:
    from localstack.services.cloudformation.engine.v2.change_set_model import is_nothing
    from localstack.services.cloudformation.engine.v2.change_set_model_executor import ChangeSetModelExecutor

    original = ChangeSetModelExecutor._execute_resource_change

    @functools.wraps(original)
    def execute(self, name, before, after):  # type: ignore[no-untyped-def]
        if (
            not is_nothing(before)
            and not is_nothing(after)
            and after.requires_replacement
            and after.resource_type in CREATE_ONLY
            and before.resource_type == after.resource_type
        ):
            previous = self._merge_before_properties(name, before).properties
            if not needs_replacement(after.resource_type, previous, after.properties.properties):
                after.requires_replacement = False
        return original(self, name, before, after)

    ChangeSetModelExecutor._execute_resource_change = execute
