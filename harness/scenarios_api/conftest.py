"""The deployed API: its URL (the local listener on LocalStack), cluster, service and a stable-wait helper."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from botocore.waiter import WaiterModel, create_waiter_with_client

# Deployments finish when their rollout completes (services-stable alone counts RUNNING tasks only).
_ROLLED_OUT = WaiterModel(
    {
        "version": 2,
        "waiters": {
            "RolledOut": {
                "operation": "DescribeServices",
                "delay": 2,
                "maxAttempts": 300,
                "acceptors": [
                    {
                        "state": "success",
                        "matcher": "path",
                        "expected": True,
                        "argument": "length(services[0].deployments) == `1` && "
                        "services[0].deployments[0].rolloutState == 'COMPLETED'",
                    }
                ],
            }
        },
    }
)


@dataclass
class DeployedApi:
    """What the api scenarios need: the base URL clients call and the ECS service behind it."""

    url: str
    cluster: str
    service: str
    ecs: Any

    def describe(self) -> dict[str, Any]:
        """DescribeServices of the API's service."""
        return self.ecs.describe_services(cluster=self.cluster, services=[self.service])["services"][0]

    def wait_rolled_out(self) -> dict[str, Any]:
        """services-stable, then until the primary deployment's rollout completed (botocore waiters)."""
        config = {"Delay": 2, "MaxAttempts": 300}
        self.ecs.get_waiter("services_stable").wait(cluster=self.cluster, services=[self.service], WaiterConfig=config)
        create_waiter_with_client("RolledOut", _ROLLED_OUT, self.ecs).wait(
            cluster=self.cluster, services=[self.service], WaiterConfig=config
        )
        return self.describe()


@pytest.fixture(scope="session")
def api(ds_deployed: Any, ds_clients: Any) -> DeployedApi:
    """The deployed api component, read from its typed outputs (the harness never imports blueprints)."""
    from dsplatform.localstack.endpoints import local_url

    if "api" not in ds_deployed:
        pytest.fail(
            "the api component is not deployed in this environment; add it: components.plugins: [api]", pytrace=False
        )
    outputs: Any = ds_deployed["api"]
    compute: Any = ds_deployed["compute"]
    url = outputs.url
    if ds_clients.is_localstack:  # the listener really answers on a local port (tag dsplatform:local-url)
        url = local_url(ds_clients.client("elbv2"), url)
    return DeployedApi(url.rstrip("/"), compute.cluster_name, outputs.service_name, ds_clients.client("ecs"))
