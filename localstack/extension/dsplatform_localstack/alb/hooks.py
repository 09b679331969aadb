"""Lifecycle of the local ALB and ECS service scheduler: patches at start, servers and scheduler stopped at shutdown."""

from __future__ import annotations

import logging

from localstack.runtime import hooks

LOG = logging.getLogger(__name__)


def install_all() -> None:
    """Apply every patch of the local ALB and service scheduler (each is idempotent)."""
    from dsplatform_localstack import ecs_runner
    from dsplatform_localstack.alb import access_logs, addresses, ecs_api, listeners, targets

    ecs_runner.install()
    addresses.install()
    targets.install()
    listeners.install()
    access_logs.install()
    ecs_api.install()


@hooks.on_infra_start()
def install_alb() -> None:
    """Patch moto's ECS and ELBv2 before the gateway serves requests."""
    install_all()
    LOG.info("dsplatform extension: local ALB and ECS service scheduler installed")


@hooks.on_infra_shutdown()
def stop_alb() -> None:
    """Stop the scheduler, the access-log delivery and every listener server, so none outlives LocalStack."""
    from dsplatform_localstack.alb import access_logs, listeners, scheduler

    scheduler.shutdown()
    access_logs.shutdown()
    listeners.stop_all()
