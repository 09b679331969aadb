"""Job configuration: parameters under the SSM prefix plus run id and input-key override from the environment."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ds_preprocessing.errors import ConfigurationError

DEFAULT_PREFIX = "/ds/preprocessing/"
REQUIRED_PARAMETERS: tuple[str, ...] = ("input-bucket", "output-bucket", "artifact-bucket", "input-key", "model-key")
OPTIONAL_PARAMETERS: tuple[str, ...] = ("script-key", "package-key", "model-version")
UNSET_VALUES = frozenset({"", "-", "none", "null"})
# A run id becomes part of S3 keys; Step Functions execution names already fit this (no '/', no spaces).
RUN_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


@dataclass(frozen=True)
class JobConfig:
    """Everything the job needs to know before it touches data."""

    prefix: str
    run_id: str
    input_bucket: str
    output_bucket: str
    artifact_bucket: str
    input_key: str
    model_key: str
    script_key: str | None = None
    package_key: str | None = None
    model_version: str | None = None
    run_id_generated: bool = False
    input_key_overridden: bool = False


def resolve_run_id(env: Mapping[str, str]) -> tuple[str, bool]:
    """Return ``(run_id, generated)``: DS_RUN_ID if set (validated), else a UTC timestamp id for manual runs."""
    run_id = env.get("DS_RUN_ID", "").strip()
    if not run_id:
        return "manual-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"), True
    if not RUN_ID_RE.fullmatch(run_id) or run_id in {".", ".."}:
        raise ConfigurationError(
            f"DS_RUN_ID {run_id!r} is invalid: use 1-128 letters, digits, '.', '_' or '-', starting with a letter "
            "or digit (it becomes part of the output keys)"
        )
    return run_id, False


def resolve_prefix(env: Mapping[str, str]) -> str:
    """Return DS_SSM_PREFIX (default /ds/preprocessing/), always ending in '/'."""
    prefix = env.get("DS_SSM_PREFIX", "").strip() or DEFAULT_PREFIX
    if not prefix.startswith("/"):
        raise ConfigurationError(f"DS_SSM_PREFIX {prefix!r} is invalid: it must start with '/', e.g. {DEFAULT_PREFIX}")
    return prefix if prefix.endswith("/") else prefix + "/"


def read_parameters(ssm_client: Any, prefix: str) -> dict[str, str]:
    """Return every parameter directly under ``prefix`` as short name -> value (SecureStrings decrypted)."""
    path = prefix.rstrip("/") or "/"
    values: dict[str, str] = {}
    try:
        paginator = ssm_client.get_paginator("get_parameters_by_path")
        for page in paginator.paginate(Path=path, Recursive=False, WithDecryption=True):
            for parameter in page["Parameters"]:
                values[parameter["Name"][len(prefix):]] = parameter["Value"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise ConfigurationError(
            f"cannot read SSM parameters under {prefix}: {code}; check the task role's ssm:GetParametersByPath"
        ) from exc
    except BotoCoreError as exc:
        raise ConfigurationError(f"cannot read SSM parameters under {prefix}: {exc}") from exc
    return values


def load_config(ssm_client: Any, env: Mapping[str, str]) -> JobConfig:
    """Build the job configuration; a missing required parameter is a ConfigurationError naming it."""
    prefix = resolve_prefix(env)
    run_id, generated = resolve_run_id(env)
    values = read_parameters(ssm_client, prefix)
    missing = [name for name in REQUIRED_PARAMETERS if not values.get(name, "").strip()]
    if missing:
        names = ", ".join(prefix + name for name in missing)
        raise ConfigurationError(
            f"required SSM parameter(s) missing: {names}; create them (the parameters stack does) and re-run"
        )
    override = env.get("DS_INPUT_KEY", "").strip()
    optional = {name: _optional(values.get(name, "")) for name in OPTIONAL_PARAMETERS}
    return JobConfig(
        prefix=prefix, run_id=run_id,
        input_bucket=values["input-bucket"].strip(), output_bucket=values["output-bucket"].strip(),
        artifact_bucket=values["artifact-bucket"].strip(),
        input_key=override or values["input-key"].strip(), model_key=values["model-key"].strip(),
        script_key=optional["script-key"], package_key=optional["package-key"],
        model_version=optional["model-version"], run_id_generated=generated, input_key_overridden=bool(override),
    )


def _optional(value: str) -> str | None:
    # SSM (and CloudFormation) cannot store an empty string, so stacks write a placeholder for "not set".
    value = value.strip()
    return None if value.lower() in UNSET_VALUES else value
