"""SageMaker and SageMaker Runtime as LocalStack services: moto's records, local replicas that really serve."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

from localstack.services.plugins import Service, aws_provider

_INVOKE_TIMEOUT = 60.0  # seconds; SageMaker's own limit for a real-time invocation


def _backend(context: Any) -> Any:
    from moto.sagemaker.models import sagemaker_backends

    return sagemaker_backends[context.account_id][context.region]


def _error(code: str, message: str, status: int = 400) -> Exception:
    from localstack.aws.api import CommonServiceException

    return CommonServiceException(code, message, status_code=status, sender_fault=status < 500)


def _update_endpoint(context: Any, request: Any) -> dict[str, Any]:
    from dsplatform_localstack.sagemaker_endpoints import EndpointError, update_endpoint

    try:
        arn = update_endpoint(_backend(context), request["EndpointName"], request["EndpointConfigName"])
    except EndpointError as err:
        raise _error("ValidationException", str(err)) from None
    return {"EndpointArn": arn}


@aws_provider(api="sagemaker")
def sagemaker() -> Service:
    """SageMaker via moto, with endpoints served by local replicas and UpdateEndpoint as blue/green."""
    from localstack.aws.skeleton import Skeleton
    from localstack.aws.spec import load_service
    from localstack.services.moto import call_moto

    from dsplatform_localstack import sagemaker_endpoints

    sagemaker_endpoints.install()
    model = load_service("sagemaker")

    def _forward(context, _request):  # type: ignore[no-untyped-def]
        return call_moto(context)

    table = {operation: _forward for operation in model.operation_names}
    table["UpdateEndpoint"] = _update_endpoint
    return Service(name="sagemaker", skeleton=Skeleton(model, table))


def invoke_endpoint(context: Any, request: Any) -> dict[str, Any]:
    """InvokeEndpoint: forward the body to the endpoint's replica; its 4xx/5xx becomes ModelError (424)."""
    from dsplatform_localstack.sagemaker_endpoints import serving_replica

    name = request["EndpointName"]
    replica = serving_replica(context.account_id, context.region, name)
    if replica is None:
        raise _error("ValidationError", f"Endpoint {name} of account {context.account_id} not found.")
    body = request.get("Body") or b""
    if hasattr(body, "read"):  # the parser hands a streaming payload over as a file-like object
        body = body.read()
    if isinstance(body, str):
        body = body.encode("utf-8")
    headers = {"Content-Type": request.get("ContentType") or "application/octet-stream",
               "Content-Length": str(len(body))}
    if request.get("Accept"):
        headers["Accept"] = request["Accept"]
    forward = urllib.request.Request(f"{replica.url}/invocations", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(forward, timeout=_INVOKE_TIMEOUT) as response:
            return {"Body": response.read(), "ContentType": response.headers.get("Content-Type"),
                    "InvokedProductionVariant": _variant(context, name)}
    except urllib.error.HTTPError as err:
        message = err.read().decode("utf-8", errors="replace")
        kind = "client" if err.code < 500 else "server"
        raise _model_error(
            f"Received {kind} error ({err.code}) from primary with message \"{message}\". See "
            f"https://{context.region}.console.aws.amazon.com/cloudwatch/home?region={context.region}#logEventViewer:"
            f"group=/aws/sagemaker/Endpoints/{name} in account {context.account_id} for more information.",
            err.code, message) from None
    except (urllib.error.URLError, OSError) as err:
        raise _model_error(f"Your invocation timed out or the container is unreachable: {err}", 500, str(err)) from None


def _model_error(message: str, original_code: int, original_message: str) -> Exception:
    error = _error("ModelError", message, 424)
    # InvokeEndpoint's ModelError carries the container's own status and body, as SageMaker returns them.
    error.OriginalStatusCode = original_code  # type: ignore[attr-defined]
    error.OriginalMessage = original_message  # type: ignore[attr-defined]
    return error


def _variant(context: Any, name: str) -> str:
    endpoint = _backend(context).endpoints.get(name)
    variants = endpoint.production_variants if endpoint is not None else []
    return str(variants[0]["VariantName"]) if variants else "AllTraffic"


@aws_provider(api="sagemaker-runtime")
def sagemaker_runtime() -> Service:
    """SageMaker Runtime: InvokeEndpoint reaches the endpoint's local replica; other operations are refused."""
    from localstack.aws.skeleton import Skeleton
    from localstack.aws.spec import load_service

    model = load_service("sagemaker-runtime")

    def _unsupported(context, _request):  # type: ignore[no-untyped-def]
        raise _error("InternalFailure", f"{context.operation.name} is not emulated by the dsplatform extension; "
                                        f"only InvokeEndpoint is", 501)

    table = {operation: _unsupported for operation in model.operation_names}
    table["InvokeEndpoint"] = invoke_endpoint
    return Service(name="sagemaker-runtime", skeleton=Skeleton(model, table))
