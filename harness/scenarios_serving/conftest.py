"""The deployed serving endpoint, read from its stack's typed outputs, and the registry it was staged from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from harness.state import SETTINGS_KEY


@dataclass(frozen=True)
class DeployedServing:
    """What the serving scenarios need: the endpoint, the model version it serves and where it came from."""

    endpoint: str
    model_name: str  # the SageMaker model (carries the registry version)
    model_data_url: str
    registered_name: str  # the registry's model name and version, from the model data key
    version: str
    registry_uri: str
    alias: str  # the registry alias this environment's version should carry
    min_accuracy: float
    parameter: str  # the SSM model-version parameter the job and API read
    sagemaker: Any
    runtime: Any
    s3: Any
    ssm: Any


@pytest.fixture(scope="session")
def serving(pytestconfig: pytest.Config, ds_deployed: Any, ds_clients: Any) -> DeployedServing:
    """The deployed serving component (the harness never imports blueprints: outputs by attribute)."""
    from dsplatform.config import load_config
    from dsplatform.registry import registry_uri

    if "serving" not in ds_deployed:
        pytest.fail("the serving component is not deployed in this environment; add it: "
                    "components.plugins: [serving]", pytrace=False)
    settings = pytestconfig.stash[SETTINGS_KEY]
    env = load_config(settings.config_path).environment(settings.env, settings.target)
    outputs: Any = ds_deployed["serving"]
    key = str(outputs.model_data_url).split("/", 3)[3]  # models/<name>/<version>/model.tar.gz
    _, name, version, _ = key.split("/")
    return DeployedServing(
        endpoint=outputs.endpoint_name, model_name=outputs.model_name, model_data_url=outputs.model_data_url,
        registered_name=name, version=version, registry_uri=registry_uri(env),
        alias="production" if env.is_protected else "staging", min_accuracy=env.settings.serving.min_accuracy,
        parameter=str(ds_deployed["parameters"].parameter_prefix) + "model-version",
        sagemaker=ds_clients.client("sagemaker"), runtime=ds_clients.client("sagemaker-runtime"),
        s3=ds_clients.client("s3"), ssm=ds_clients.client("ssm"))
