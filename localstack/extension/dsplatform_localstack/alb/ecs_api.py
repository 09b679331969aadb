"""Hook the scheduler into moto's ECS API: CreateService keeps the deployment settings moto drops and starts
scheduling; UpdateService makes a new deployment on a new task definition (or forceNewDeployment)."""

from __future__ import annotations

from typing import Any

from dsplatform_localstack.alb import deployments, scheduler

_INSTALLED = False
_DEFAULT_CONFIGURATION = {
    "maximumPercent": deployments.DEFAULT_MAXIMUM_PERCENT,
    "minimumHealthyPercent": deployments.DEFAULT_MINIMUM_HEALTHY_PERCENT,
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
}


def configuration(given: dict[str, Any] | None) -> dict[str, Any]:
    """A deploymentConfiguration with AWS's defaults for what is not given."""
    merged = {**_DEFAULT_CONFIGURATION, **(given or {})}
    merged["deploymentCircuitBreaker"] = {
        **_DEFAULT_CONFIGURATION["deploymentCircuitBreaker"],  # type: ignore[dict-item]
        **(merged.get("deploymentCircuitBreaker") or {}),
    }
    return merged


def install() -> None:
    """Patch moto's ECS responses and backend (idempotent)."""
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.ecs.models import EC2ContainerServiceBackend
    from moto.ecs.responses import EC2ContainerServiceResponse

    original_create = EC2ContainerServiceResponse.create_service
    original_update = EC2ContainerServiceBackend.update_service

    def create_service(self: Any) -> Any:
        result = original_create(self)
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("serviceName"))
        service.deployment_configuration = configuration(self._get_param("deploymentConfiguration"))
        service.health_check_grace_period_seconds = self._get_int_param("healthCheckGracePeriodSeconds")
        with scheduler._LOCK:
            scheduler.track(self.ecs_backend, service)
        return result

    def update_service(self: Any, properties: dict[str, Any]) -> Any:
        force = bool(properties.pop("force_new_deployment", False))
        new_definition = properties.get("task_definition")
        if properties.get("deployment_configuration") is not None:
            properties["deployment_configuration"] = configuration(properties["deployment_configuration"])
        with scheduler._LOCK:
            service = original_update(self, properties)
            runtime = scheduler.runtime_of(service)
            if runtime is None:
                return service
            current = service.deployments[0]["taskDefinition"] if service.deployments else None
            target = self.describe_task_definition(new_definition).arn if new_definition else current
            if target != current or force:
                runtime.new_deployment(target)
            else:
                service.task_definition = current  # moto stored the name as given
        return service

    EC2ContainerServiceResponse.create_service = create_service  # type: ignore[method-assign]
    EC2ContainerServiceBackend.update_service = update_service  # type: ignore[method-assign]
    _INSTALLED = True
