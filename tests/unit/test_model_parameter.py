"""One source of truth for the SSM model-version parameter: the config when it sets it, else the model tasks."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from dsplatform.registry import RegistryUsageError, models


def test_the_tasks_own_the_parameter_when_the_config_leaves_it_unset() -> None:
    assert models.tasks_own_parameter("stg", None, "ds-model", "3") is True


def test_a_config_naming_the_same_version_owns_the_parameter_and_the_tasks_write_nothing() -> None:
    assert models.tasks_own_parameter("stg", "models:/ds-model/3", "ds-model", "3") is False


def test_a_config_naming_another_version_is_refused_with_the_field_and_the_fix() -> None:
    with pytest.raises(RegistryUsageError) as caught:
        models.tasks_own_parameter("stg", "v1", "ds-model", "3")
    message = str(caught.value)
    assert "environments.stg.settings.parameters.model_version is 'v1'" in message
    assert "set it to 'models:/ds-model/3'" in message
    assert "\n" not in message and caught.value.exit_code == 2


def test_stage_refuses_before_the_registry_or_aws_is_touched(monkeypatch: pytest.MonkeyPatch) -> None:
    touched: list[Any] = []
    monkeypatch.setattr(models, "run_ops", lambda *a, **k: touched.append(a))
    plan = SimpleNamespace(target=SimpleNamespace(env="stg"))
    clients = SimpleNamespace(client=lambda name: touched.append(name))
    with pytest.raises(RegistryUsageError, match=r"parameters\.model_version"):
        models.stage(plan, clients, "http://127.0.0.1:1", "ds-model", "3", configured_parameter="models:/ds-model/2")
    assert touched == []  # no alias moved, nothing uploaded, no parameter written
