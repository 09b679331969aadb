"""The next command a task's output suggests keeps the --config and --target the user ran it with."""

from __future__ import annotations

from dsplatform.tasks._cli import next_command


def test_the_model_register_hint_keeps_config_and_target() -> None:
    assert next_command("model.register", "live", "api.yml", "localstack", run="0a1b") == (
        "invoke model.register --env live --config api.yml --target localstack --run 0a1b")


def test_flags_not_given_are_left_out_and_odd_values_are_quoted() -> None:
    assert next_command("model.stage", "dev", version="3", name=None) == "invoke model.stage --env dev --version 3"
    assert next_command("model.stage", "dev", "my configs/ds.yml") == (
        "invoke model.stage --env dev --config 'my configs/ds.yml'")
