"""The serving process's settings, from its environment (SageMaker's variables first)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PORT = 8080
DEFAULT_MODEL_DIR = "/opt/ml/model"
MODEL_DIR_ENV = "DS_SERVING_MODEL_DIR"  # a local run points this at an unpacked model.tar.gz
HOST_ENV = "DS_SERVING_HOST"
MAX_PAYLOAD_ENV = "DS_SERVING_MAX_PAYLOAD_BYTES"
SAGEMAKER_MAX_PAYLOAD = 6 * 1024 * 1024  # InvokeEndpoint refuses larger bodies


class ConfigError(ValueError):
    """A setting of the serving process is invalid; the message names the variable, the value and the fix."""


@dataclass(frozen=True)
class ServingConfig:
    """Where to listen and which model to load."""

    host: str
    port: int
    model_dir: Path
    max_payload_bytes: int


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number; give {low}..{high}, e.g. {default}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={raw!r} is out of range; give {low}..{high}, e.g. {default}")
    return value


def from_env(env: Mapping[str, str] | None = None) -> ServingConfig:
    """Read SAGEMAKER_BIND_TO_PORT (or PORT), DS_SERVING_HOST, DS_SERVING_MODEL_DIR and the payload limit."""
    env = os.environ if env is None else env
    port_var = "SAGEMAKER_BIND_TO_PORT" if env.get("SAGEMAKER_BIND_TO_PORT") else "PORT"
    return ServingConfig(
        host=env.get(HOST_ENV) or "0.0.0.0",  # all interfaces inside a container, as SageMaker expects
        port=_int(env, port_var, DEFAULT_PORT, 1, 65535),
        model_dir=Path(env.get(MODEL_DIR_ENV) or DEFAULT_MODEL_DIR),
        max_payload_bytes=_int(env, MAX_PAYLOAD_ENV, SAGEMAKER_MAX_PAYLOAD, 1, 1 << 30),
    )
