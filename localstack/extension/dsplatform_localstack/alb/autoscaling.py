"""Application Auto Scaling as a LocalStack service (moto): scalable targets and policies are stored and
described; nothing scales locally, since no metric drives the policies (named in the fidelity report)."""

from __future__ import annotations

from localstack.services.plugins import Service, aws_provider


@aws_provider(api="application-autoscaling")
def application_autoscaling() -> Service:
    """Every Application Auto Scaling operation served by moto's backend."""
    from dsplatform_localstack.services import _moto_service

    return _moto_service("application-autoscaling")
