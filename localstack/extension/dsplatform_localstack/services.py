"""ECS, ECR (and DynamoDB, as an override) as LocalStack services, every operation served in-process by moto."""

from __future__ import annotations

import contextlib
import threading

from localstack.services.plugins import Service, aws_provider


def _moto_service(api: str, one_at_a_time: bool = False) -> Service:
    """A Service whose skeleton forwards every operation of ``api`` to moto (no LocalStack provider exists).

    ``one_at_a_time`` serves the operations one after another: moto changes an item in place, attribute by
    attribute (an UpdateItem of a new key first stores the bare key), so a read served meanwhile saw half a
    write, where DynamoDB's writes to an item are atomic.
    """
    from localstack.aws.skeleton import Skeleton
    from localstack.aws.spec import load_service
    from localstack.services.moto import call_moto

    model = load_service(api)
    lock = threading.Lock() if one_at_a_time else contextlib.nullcontext()

    def _forward(context, _request):  # type: ignore[no-untyped-def]
        with lock:
            return call_moto(context)

    table = {operation: _forward for operation in model.operation_names}
    return Service(name=api, skeleton=Skeleton(model, table))


@aws_provider(api="ecs")
def ecs() -> Service:
    """ECS via moto, with RunTask/StartTask/StopTask running tasks as local processes."""
    from dsplatform_localstack import ecs_runner

    ecs_runner.install()
    return _moto_service("ecs")


@aws_provider(api="ecr")
def ecr() -> Service:
    """ECR via moto, so repositories and pushed image manifests are real."""
    return _moto_service("ecr")


@aws_provider(api="dynamodb", name="moto")
def dynamodb_moto() -> Service:
    """DynamoDB via moto, selected by PROVIDER_OVERRIDE_DYNAMODB=moto: LocalStack's own provider downloads Java
    and DynamoDB Local on first use, which fails offline (every call then answers InternalError)."""
    return _moto_service("dynamodb", one_at_a_time=True)
