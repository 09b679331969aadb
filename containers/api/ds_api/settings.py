"""The API's settings: the job's SSM prefix (the same parameters the batch job reads) and request limits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ds_preprocessing.config import UNSET_VALUES, read_parameters, resolve_prefix
from ds_preprocessing.errors import ConfigurationError

DEFAULT_MAX_BODY_BYTES = 1_048_576
DEFAULT_MAX_RECORDS = 1000
REQUIRED_PARAMETERS = ("artifact-bucket", "model-key")


@dataclass(frozen=True)
class Limits:
    """Request limits: the largest body (bytes, 413 above) and the most records per request (422 above)."""

    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_records: int = DEFAULT_MAX_RECORDS


@dataclass(frozen=True)
class ModelLocation:
    """Where the model lives and which version it is, from the job's SSM parameters."""

    prefix: str
    artifact_bucket: str
    model_key: str
    model_version: str | None


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) == 0:
        raise ConfigurationError(f"{name} {raw!r} is invalid: use a positive integer, e.g. {default}")
    return int(raw)


def load_limits(env: Mapping[str, str]) -> Limits:
    """Limits from DS_MAX_BODY_BYTES and DS_MAX_RECORDS (defaults 1 MiB and 1000)."""
    return Limits(
        max_body_bytes=_positive_int(env, "DS_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES),
        max_records=_positive_int(env, "DS_MAX_RECORDS", DEFAULT_MAX_RECORDS),
    )


def load_model_location(ssm_client: object, env: Mapping[str, str]) -> ModelLocation:
    """Read artifact-bucket, model-key and model-version under DS_SSM_PREFIX, as the job does."""
    prefix = resolve_prefix(env)
    values = read_parameters(ssm_client, prefix)
    missing = [name for name in REQUIRED_PARAMETERS if not values.get(name, "").strip()]
    if missing:
        raise ConfigurationError(
            f"required SSM parameter(s) missing: {', '.join(prefix + n for n in missing)}; "
            "create them (the parameters stack does) and restart the service"
        )
    version = values.get("model-version", "").strip()
    return ModelLocation(
        prefix=prefix,
        artifact_bucket=values["artifact-bucket"].strip(),
        model_key=values["model-key"].strip(),
        model_version=None if version.lower() in UNSET_VALUES else version,
    )
