"""SageMaker endpoints with a real lifecycle: moto keeps the records, this module runs and switches replicas.

Creating -> InService once the replica answers /ping, or Failed with the reason. UpdateEndpoint is blue/green:
the new config's replica starts beside the old one, traffic switches when it is healthy, then the old one stops;
if the new one fails, the old keeps serving, the endpoint returns to InService and FailureReason says why.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any

from dsplatform_localstack import sagemaker_replica
from dsplatform_localstack.sagemaker_replica import Replica, ReplicaError

LOG = logging.getLogger(__name__)
_LOCK = threading.Lock()
_SERVING: dict[tuple[str, str, str], Replica] = {}  # (account, region, endpoint) -> replica taking traffic
_PENDING: dict[tuple[str, str, str], Replica] = {}  # replicas starting (create or the green side of an update)
_INSTALLED = False


class EndpointError(Exception):
    """A request the SageMaker API refuses (ValidationException on AWS); the message is AWS's wording."""


def _key(backend: Any, name: str) -> tuple[str, str, str]:
    return backend.account_id, backend.region_name, name


def _now() -> str:
    return datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def _aws_env(account: str, region: str) -> dict[str, str]:
    from dsplatform_localstack.ecs_runner import gateway_url

    return {"AWS_ENDPOINT_URL": gateway_url(), "AWS_ACCESS_KEY_ID": account, "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": region, "AWS_DEFAULT_REGION": region}


def _s3(account: str, region: str) -> Any:
    from localstack.aws.connect import connect_to

    return connect_to(aws_access_key_id=account, aws_secret_access_key="test", region_name=region).s3


def _first_variant(backend: Any, config_name: str) -> tuple[str, dict[str, Any], float | None]:
    """(variant name, the model's primary container, start-up timeout) of a config's first production variant."""
    config = backend.endpoint_configs[config_name]
    variant = config.production_variants[0]
    model = backend.describe_model(variant["ModelName"])
    container = model.primary_container or (model.containers[0] if model.containers else {})
    if not container.get("Image"):
        raise EndpointError(f"model {model.model_name} has no container image")
    timeout = variant.get("ContainerStartupHealthCheckTimeoutInSeconds")
    return variant["VariantName"], container, float(timeout) if timeout else None


def _start_replica(backend: Any, endpoint: str, config_name: str) -> Replica:
    """Start and wait for one replica of ``config_name``; ReplicaError with the FailureReason."""
    account, region = backend.account_id, backend.region_name
    variant, container, timeout = _first_variant(backend, config_name)
    replica = sagemaker_replica.start(endpoint, container, _s3(account, region), _aws_env(account, region),
                                      account, region)
    with _LOCK:
        _PENDING[_key(backend, endpoint)] = replica
    try:
        sagemaker_replica.wait_healthy(replica, variant, timeout)
    except ReplicaError:
        replica.stop()
        raise
    finally:
        with _LOCK:
            _PENDING.pop(_key(backend, endpoint), None)
    return replica


def _create_in_background(backend: Any, endpoint: Any) -> None:
    try:
        replica = _start_replica(backend, endpoint.endpoint_name, endpoint.endpoint_config_name)
    except (ReplicaError, EndpointError, OSError, KeyError) as err:
        endpoint.endpoint_status, endpoint.failure_reason = "Failed", str(err)
        LOG.warning("endpoint %s failed: %s", endpoint.endpoint_name, err)
        return
    with _LOCK:
        if backend.endpoints.get(endpoint.endpoint_name) is not endpoint:  # deleted while it started
            replica.stop()
            return
        _SERVING[_key(backend, endpoint.endpoint_name)] = replica
    endpoint.endpoint_status, endpoint.failure_reason = "InService", None
    endpoint.last_modified_time = _now()
    LOG.info("endpoint %s in service on %s", endpoint.endpoint_name, replica.url)


def update_endpoint(backend: Any, name: str, config_name: str) -> str:
    """UpdateEndpoint: validate now, then switch blue/green in the background; returns the endpoint ARN."""
    endpoint = backend.endpoints.get(name)
    if endpoint is None:
        raise EndpointError(f"Could not find endpoint \"{_arn(backend, 'endpoint', name)}\".")
    if config_name not in backend.endpoint_configs:
        arn = _arn(backend, "endpoint-config", config_name)
        raise EndpointError(f"Could not find endpoint configuration \"{arn}\".")
    if endpoint.endpoint_status != "InService":
        raise EndpointError(f"Cannot update in-progress endpoint \"{endpoint.arn}\".")
    endpoint.endpoint_status, endpoint.failure_reason = "Updating", None
    threading.Thread(target=_update_in_background, args=(backend, endpoint, config_name), daemon=True,
                     name=f"sagemaker-update-{name}").start()
    return str(endpoint.arn)


def _update_in_background(backend: Any, endpoint: Any, config_name: str) -> None:
    name = endpoint.endpoint_name
    try:
        green = _start_replica(backend, name, config_name)
    except (ReplicaError, EndpointError, OSError, KeyError) as err:
        # The old replica never stopped serving: roll back to it, as SageMaker does.
        endpoint.endpoint_status, endpoint.failure_reason = "InService", f"Update failed and was rolled back: {err}"
        LOG.warning("endpoint %s update to %s failed: %s", name, config_name, err)
        return
    with _LOCK:
        blue = _SERVING.get(_key(backend, name))
        _SERVING[_key(backend, name)] = green
    config = backend.endpoint_configs[config_name]
    endpoint.endpoint_config_name = config_name
    endpoint.production_variants = endpoint._process_production_variants(config.production_variants)
    endpoint.endpoint_status, endpoint.failure_reason = "InService", None
    endpoint.last_modified_time = _now()
    if blue is not None:
        blue.stop()  # after the switch: requests already routed to it have finished or fail as on a drained host
    LOG.info("endpoint %s switched to %s on %s", name, config_name, green.url)


def _arn(backend: Any, kind: str, name: str) -> str:
    return f"arn:aws:sagemaker:{backend.region_name}:{backend.account_id}:{kind}/{name}"


def serving_replica(account: str, region: str, name: str) -> Replica | None:
    """The replica that takes InvokeEndpoint traffic for an endpoint, if it is in service."""
    with _LOCK:
        return _SERVING.get((account, region, name))


def _stop_endpoint(backend: Any, name: str) -> None:
    with _LOCK:
        replicas = [r for r in (_SERVING.pop(_key(backend, name), None), _PENDING.pop(_key(backend, name), None)) if r]
    for replica in replicas:
        replica.stop()


def install() -> None:
    """Patch moto's SageMaker backend: CreateEndpoint starts a replica, DeleteEndpoint stops it."""
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.sagemaker.models import SageMakerModelBackend

    original_create, original_delete = SageMakerModelBackend.create_endpoint, SageMakerModelBackend.delete_endpoint

    def create_endpoint(self: Any, endpoint_name: str, endpoint_config_name: str, tags: Any) -> Any:
        if endpoint_name in self.endpoints:
            raise _validation(f"Cannot create already existing endpoint \"{self.endpoints[endpoint_name].arn}\".")
        endpoint = original_create(self, endpoint_name, endpoint_config_name, tags)
        endpoint.endpoint_status = "Creating"
        threading.Thread(target=_create_in_background, args=(self, endpoint), daemon=True,
                         name=f"sagemaker-create-{endpoint_name}").start()
        return endpoint

    def delete_endpoint(self: Any, endpoint_name: str) -> None:
        original_delete(self, endpoint_name)
        _stop_endpoint(self, endpoint_name)

    SageMakerModelBackend.create_endpoint = create_endpoint
    SageMakerModelBackend.delete_endpoint = delete_endpoint
    _INSTALLED = True


def _validation(message: str) -> Exception:
    from moto.sagemaker.exceptions import ValidationError

    return ValidationError(message=message)


def stop_all() -> None:
    """Stop every replica (LocalStack shutdown)."""
    with _LOCK:
        replicas = list(_SERVING.values()) + list(_PENDING.values())
        _SERVING.clear()
        _PENDING.clear()
    for replica in replicas:
        replica.stop()
