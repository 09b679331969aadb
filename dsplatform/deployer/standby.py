"""Moving an endpoint off a kept SageMaker config before the deployer deletes that config (``retained.free_names``).

Right after `invoke rollback` switched an endpoint back to a kept config natively, the reconciling change set
creates that same config (and its model) again, so their kept copies must be deleted first; SageMaker's
documentation advises against deleting a config or model an endpoint runs. So the endpoint first moves to a
standby copy (the same variants and model data under new names); CloudFormation's update then moves it from the
standby to the recreated config, a name it does not run (never an UpdateEndpoint to its own config), and the
standby pair is deleted once nothing runs it. On AWS that is one more blue/green update of the endpoint, during
the reconciliation; the rollback itself has already served the old release.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dsplatform.deployer.retained import names_of
from dsplatform.naming import endpoint_standby

# What CreateModel / CreateEndpointConfig accept of what the Describe calls return (names, ARNs, times are not).
MODEL_FIELDS = ("PrimaryContainer", "Containers", "InferenceExecutionConfig", "ExecutionRoleArn", "VpcConfig",
                "EnableNetworkIsolation")
CONFIG_FIELDS = ("ProductionVariants", "ShadowProductionVariants", "DataCaptureConfig", "KmsKeyId",
                 "AsyncInferenceConfig", "ExplainerConfig", "ExecutionRoleArn", "VpcConfig", "EnableNetworkIsolation")
_VARIANTS = ("ProductionVariants", "ShadowProductionVariants")


@dataclass(frozen=True)
class Standby:
    """An endpoint moved to a copy: the copy's config and models, and the kept config it stands in for."""

    endpoint: str
    config: str
    models: tuple[str, ...]
    replaced: str

    def describe(self) -> str:
        """One line for the deploy's progress."""
        return f"moved endpoint {self.endpoint} from {self.replaced} to standby {self.config}"


def vacate(sagemaker: Any, endpoints: Iterable[str], names: set[str], waiter: dict[str, Any],
           token: str | None = None) -> list[Standby]:
    """Move each of ``endpoints`` (names or ARNs) that runs a config or model in ``names`` onto a standby copy.

    Waits until each moved endpoint is InService on its copy; ValueError when a copy's name would be too long.
    """
    token = token or uuid.uuid4().hex[:6]
    moved = []
    for endpoint in sorted(names_of(endpoints)):
        try:
            running = sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
        except sagemaker.exceptions.ClientError:
            continue  # not created yet (or gone): nothing runs
        config = sagemaker.describe_endpoint_config(EndpointConfigName=running)
        models = sorted({v["ModelName"] for key in _VARIANTS for v in config.get(key) or [] if v.get("ModelName")})
        if running not in names and not names.intersection(models):
            continue
        copies = {model: endpoint_standby(endpoint, "model", token if len(models) == 1 else f"{token}-{i}")
                  for i, model in enumerate(models)}
        standby = endpoint_standby(endpoint, "config", token)
        for model, copy in copies.items():
            described = sagemaker.describe_model(ModelName=model)
            sagemaker.create_model(ModelName=copy, **_given(described, MODEL_FIELDS))
        fields = _given(config, CONFIG_FIELDS)
        for key in _VARIANTS:
            if key in fields:
                fields[key] = [{**v, "ModelName": copies.get(v.get("ModelName", ""), v.get("ModelName"))}
                               for v in fields[key]]
        sagemaker.create_endpoint_config(EndpointConfigName=standby, **fields)
        sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName=standby)
        sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=endpoint, WaiterConfig=waiter)
        moved.append(Standby(endpoint, standby, tuple(copies.values()), running))
    return moved


def _given(described: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """The fields set in a Describe answer (an empty ``VpcConfig: {}`` there is refused by Create)."""
    return {k: described[k] for k in fields if described.get(k) not in (None, {}, [], "")}


def drop(sagemaker: Any, standbys: Iterable[Standby]) -> list[str]:
    """Delete each standby pair its endpoint no longer runs (the update moved it on); the names deleted.

    A standby still running (the update failed and left the endpoint there) is kept: it serves; destroy sweeps it.
    """
    deleted = []
    for standby in standbys:
        try:
            running = sagemaker.describe_endpoint(EndpointName=standby.endpoint)["EndpointConfigName"]
        except sagemaker.exceptions.ClientError:
            running = None
        if running == standby.config:
            continue
        sagemaker.delete_endpoint_config(EndpointConfigName=standby.config)
        deleted.append(standby.config)
        for model in standby.models:
            sagemaker.delete_model(ModelName=model)
            deleted.append(model)
    return deleted
