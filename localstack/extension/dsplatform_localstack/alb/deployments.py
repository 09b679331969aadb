"""The arithmetic of ECS rolling deployments and the circuit breaker (pure, so it is unit-tested on its own)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

DEFAULT_MAXIMUM_PERCENT = 200
DEFAULT_MINIMUM_HEALTHY_PERCENT = 100
CIRCUIT_BREAKER_REASON = "ECS deployment circuit breaker: tasks failed to start."
# CloudFormation's wording when the circuit breaker fails a service create or update.
CFN_CIRCUIT_BREAKER_MESSAGE = "Error occurred during operation 'ECS Deployment Circuit Breaker was triggered'."


@dataclass(frozen=True)
class Limits:
    """A service's desired count and deployment configuration."""

    desired: int
    minimum_healthy_percent: int = DEFAULT_MINIMUM_HEALTHY_PERCENT
    maximum_percent: int = DEFAULT_MAXIMUM_PERCENT

    @classmethod
    def of(cls, desired: int, configuration: dict[str, Any] | None) -> Limits:
        """From DescribeServices' deploymentConfiguration (missing values take AWS's defaults)."""
        config = configuration or {}
        return cls(
            desired=int(desired),
            minimum_healthy_percent=int(config.get("minimumHealthyPercent", DEFAULT_MINIMUM_HEALTHY_PERCENT)),
            maximum_percent=int(config.get("maximumPercent", DEFAULT_MAXIMUM_PERCENT)),
        )

    @property
    def min_healthy(self) -> int:
        """Tasks that must stay healthy during a deployment (rounded up, as ECS does)."""
        return math.ceil(self.desired * self.minimum_healthy_percent / 100)

    @property
    def max_running(self) -> int:
        """Tasks that may run at once during a deployment (rounded down, as ECS does; never below desired - 0)."""
        return math.floor(self.desired * self.maximum_percent / 100)


def to_launch(limits: Limits, primary_active: int, all_active: int) -> int:
    """New tasks of the primary deployment to start now, within maximumPercent."""
    return max(0, min(limits.desired - primary_active, limits.max_running - all_active))


def to_stop(limits: Limits, healthy: int) -> int:
    """Healthy old tasks that may be stopped now without going under minimumHealthyPercent."""
    return max(0, healthy - limits.min_healthy)


def failure_threshold(desired: int) -> int:
    """Failed tasks that trip the circuit breaker: half the desired count, at least 3, at most 200 (AWS)."""
    return min(200, max(3, math.ceil(desired / 2)))


def breaker(configuration: dict[str, Any] | None) -> tuple[bool, bool]:
    """(enabled, rollback) of a deploymentConfiguration's deploymentCircuitBreaker."""
    settings = (configuration or {}).get("deploymentCircuitBreaker") or {}
    return _flag(settings.get("enable")), _flag(settings.get("rollback"))


def _flag(value: Any) -> bool:
    # CloudFormation may hand booleans over as the strings "true"/"false".
    return value.strip().lower() == "true" if isinstance(value, str) else bool(value)
