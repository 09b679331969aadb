"""ELBv2 as a LocalStack service: the API from moto, with real listeners and health checks patched in."""

from __future__ import annotations

from localstack.services.plugins import Service, aws_provider


@aws_provider(api="elbv2")
def elbv2() -> Service:
    """ELBv2 via moto; listeners serve HTTP on 127.0.0.1 and targets get real health checks."""
    from dsplatform_localstack.alb import hooks
    from dsplatform_localstack.services import _moto_service

    hooks.install_all()
    return _moto_service("elbv2")
