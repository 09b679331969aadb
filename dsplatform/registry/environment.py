"""Which registry an environment uses: the local server (LocalStack target) or the URI from config (AWS)."""

from __future__ import annotations

from typing import Any

from dsplatform.config.models import EnvironmentConfig
from dsplatform.registry.errors import RegistryUsageError
from dsplatform.registry.settings import RegistrySettings, host_port, local_url

ARTIFACT_PREFIX = "mlflow"  # folder of the artifact bucket the server proxies run and model artifacts to


def registry_uri(env: EnvironmentConfig) -> str:
    """The tracking URI of an environment: settings.model_registry.uri on AWS, the local server on LocalStack."""
    if env.target == "localstack":
        return local_url()
    if env.settings.model_registry.uri is None:
        raise RegistryUsageError(
            f"environments.{env.name}.settings.model_registry.uri is unset; on AWS set it to your MLflow server "
            f"(https://...) or a SageMaker MLflow tracking server ARN")
    return env.settings.model_registry.uri


def local_settings(plan: Any, clients: Any, artifacts: str | None = None, url: str | None = None) -> RegistrySettings:
    """Settings of the local server for a LocalStack environment: artifacts in its deployed artifact bucket."""
    from blueprints.storage import StorageOutputs
    from dsplatform.deployer.outputs import read_deployed

    if not clients.is_localstack:
        raise RegistryUsageError(
            f"--env {plan.target.env} targets AWS; a local registry serves LocalStack environments only (on AWS the "
            f"registry is settings.model_registry.uri)")
    if artifacts is None:
        bucket = read_deployed(plan, clients).get(StorageOutputs).artifact_bucket_name
        artifacts = f"s3://{bucket}/{ARTIFACT_PREFIX}"
    host, port = host_port(url or local_url())
    return RegistrySettings(artifacts_destination=artifacts, host=host, port=port,
                            s3_endpoint_url=clients.endpoint_url, account_id=plan.target.account_id,
                            region=plan.target.region)
