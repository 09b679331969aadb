"""Integration fixtures for the deployer: each test gets its own environment and simulated account."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from dsplatform.deployer import ClientFactory
from dsplatform.stackspec import Plan, StackSpec, Target
from dsplatform.synth import build_plan

REPO = Path(__file__).resolve().parents[2]
_counter = itertools.count(1)


def unique_env() -> tuple[str, str]:
    """A fresh (environment name, 12-digit account id): LocalStack keeps accounts apart, so tests never collide."""
    n = next(_counter)
    account = f"5{random.randrange(10**9, 10**10)}{n % 10}"
    return f"it{account[-6:]}", account


@pytest.fixture
def platform_config(localstack: Any, tmp_path: Path) -> Callable[..., tuple[str, str]]:
    """Write a dsplatform.yml holding one fresh LocalStack environment; returns (config path, env name).

    ``settings`` overrides the environment's component settings (to make an update).
    """
    base = yaml.safe_load((REPO / "dsplatform.yml").read_text())

    def make(
        settings: dict[str, Any] | None = None, env: tuple[str, str] | None = None, protected: bool = False
    ) -> tuple[str, str]:
        name, account = env or unique_env()
        doc = {k: v for k, v in base.items() if k != "environments"}
        doc["localstack"] = {"endpoint_url": localstack.endpoint_url}
        doc["environments"] = {
            name: {
                "account_id": account,
                "region": "us-east-1",
                "target": "localstack",
                "protected": protected,
                "settings": settings or {},
            },
        }
        path = tmp_path / f"{name}-{next(_counter)}.yml"
        path.write_text(yaml.safe_dump(doc))
        return str(path), name

    return make


@pytest.fixture
def platform_plan(
    platform_config: Callable[..., tuple[str, str]], monkeypatch: pytest.MonkeyPatch, localstack: Any
) -> Callable[..., Plan]:
    """Build the real platform's Plan for a fresh environment (or the same one again with other settings)."""
    monkeypatch.setenv("DSPLATFORM_LOCALSTACK_URL", localstack.endpoint_url)

    def make(
        settings: dict[str, Any] | None = None, env: tuple[str, str] | None = None, protected: bool = False
    ) -> Plan:
        path, name = platform_config(settings, env, protected)
        return build_plan(name, path)

    return make


@pytest.fixture
def small_target(localstack: Any) -> Callable[..., Target]:
    """A Target for hand-made plans (SSM parameters, queues, buckets) in a fresh account."""

    def make(protected: bool = False) -> Target:
        name, account = unique_env()
        return Target(
            env=name,
            account_id=account,
            region="us-east-1",
            kind="localstack",
            endpoint_url=localstack.endpoint_url,
            protected=protected,
        )

    return make


def small_plan(target: Target, *templates: tuple[str, dict[str, Any], tuple[str, ...]]) -> Plan:
    """A Plan of (component, template, depends-on components) in the target's environment."""
    stacks = tuple(
        StackSpec(
            name=f"ds-{target.env}-{comp}",
            component=comp,
            template=tpl,
            depends_on=tuple(f"ds-{target.env}-{d}" for d in deps),
        )
        for comp, tpl, deps in templates
    )
    return Plan(target, stacks)


def clients_for(plan: Plan) -> ClientFactory:
    """A ClientFactory for a plan's target."""
    return ClientFactory(plan.target)
