"""What the deployer is handed: one rendered stack, its dependencies and where its parameters come from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class StackSpec:
    """One CloudFormation stack ready to deploy.

    ``template`` is the rendered template as a dict (JSON-serialisable). ``depends_on`` names other
    stacks of the same plan. ``parameters`` holds literal parameter values; every template parameter
    not in it is filled from the output of the same name of one of ``depends_on`` (exactly one
    dependency must export it). Which resource types are stateful (their replacement or removal loses
    data) is decided in one place, ``dsplatform.deployer.STATEFUL_TYPES``.
    """

    name: str
    component: str
    template: dict[str, Any]
    depends_on: tuple[str, ...] = ()
    parameters: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    termination_protection: bool = False


@dataclass(frozen=True)
class Target:
    """Where a plan goes: account, region and how to reach it (no credentials are stored here)."""

    env: str
    account_id: str
    region: str
    kind: str  # "localstack" or "aws"
    endpoint_url: str | None = None  # LocalStack gateway, e.g. http://127.0.0.1:4566
    profile: str | None = None
    deploy_role_arn: str | None = None
    protected: bool = False  # prod: never destroyed by a task, termination protection on


@dataclass(frozen=True)
class Plan:
    """The stacks of one environment, in registry order, with the target they deploy to."""

    target: Target
    stacks: tuple[StackSpec, ...]

    def stack(self, name: str) -> StackSpec:
        """Return the stack called ``name``; KeyError if the plan has none."""
        for spec in self.stacks:
            if spec.name == name:
                return spec
        raise KeyError(name)
