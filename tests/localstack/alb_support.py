"""Helpers for the local ALB tests: a load balancer + target group + ECS service of the tiny HTTP service."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.waiter import WaiterModel, create_waiter_with_client

from dsplatform.localstack.endpoints import listener_url
from harness.scenarios_api._http import call
from tests.localstack.support import unique

IMAGE_FOLDER = Path(__file__).resolve().parent / "httpsvc"  # a Dockerfile folder, registered as an image
IMAGE_REPOSITORY = "alb-test-web"
STABLE = {"Delay": 1, "MaxAttempts": 120}  # services-stable: tasks are local processes, so poll often
# services-stable counts RUNNING tasks; a new service's deployment completes once they also pass health checks.
_ROLLED_OUT = WaiterModel(
    {
        "version": 2,
        "waiters": {
            "RolledOut": {
                "operation": "DescribeServices",
                "delay": 1,
                "maxAttempts": 120,
                "acceptors": [
                    {
                        "state": "success",
                        "matcher": "path",
                        "argument": "length(services[0].deployments) == `1` && "
                        "services[0].deployments[0].rolloutState == 'COMPLETED'",
                        "expected": True,
                    }
                ],
            }
        },
    }
)
HEALTH_CHECK = {
    "HealthCheckPath": "/ready",
    "HealthCheckIntervalSeconds": 5,  # AWS's minimum (botocore refuses less)
    "HealthCheckTimeoutSeconds": 2,
    "HealthyThresholdCount": 2,
    "UnhealthyThresholdCount": 2,
}


def register_image(localstack: Any, account: str) -> str:
    """Register the tiny service's folder as an image on the running LocalStack; return its image URI."""
    from dsplatform.localstack import register_image_sources, wait_for_images
    from tests.localstack.support import settings_for

    settings = settings_for(localstack)
    register_image_sources(settings, {IMAGE_REPOSITORY: IMAGE_FOLDER})
    state = wait_for_images(settings)[IMAGE_REPOSITORY]
    assert state.startswith("ready"), state
    return f"{account}.dkr.ecr.us-east-1.amazonaws.com/{IMAGE_REPOSITORY}:latest"


def task_definition(ecs: Any, image: str, version: str, ready: bool = True) -> str:
    """Register a revision of the tiny service that reports ``version`` (and never gets ready if not ``ready``)."""
    return ecs.register_task_definition(
        family=unique("web"),
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {
                "name": "web",
                "image": image,
                "essential": True,
                "portMappings": [{"containerPort": 8080}],
                "environment": [
                    {"name": "VERSION", "value": version},
                    {"name": "READY", "value": "1" if ready else "0"},
                ],
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]


@dataclass
class Web:
    """One load-balanced service: its names, its target group and the listener's local URL."""

    ecs: Any
    elbv2: Any
    cluster: str
    service: str
    target_group: str
    url: str

    def describe(self) -> dict[str, Any]:
        """DescribeServices of this service."""
        return self.ecs.describe_services(cluster=self.cluster, services=[self.service])["services"][0]

    def wait_stable(self) -> dict[str, Any]:
        """`aws ecs wait services-stable`, then until the primary deployment's rollout completed; the service."""
        self.ecs.get_waiter("services_stable").wait(cluster=self.cluster, services=[self.service], WaiterConfig=STABLE)
        waiter = create_waiter_with_client("RolledOut", _ROLLED_OUT, self.ecs)
        waiter.wait(cluster=self.cluster, services=[self.service], WaiterConfig=STABLE)
        return self.describe()

    def health(self) -> dict[str, str]:
        """Target id -> state, from DescribeTargetHealth."""
        found = self.elbv2.describe_target_health(TargetGroupArn=self.target_group)["TargetHealthDescriptions"]
        return {t["Target"]["Id"]: t["TargetHealth"]["State"] for t in found}

    def get(self, path: str = "/") -> tuple[int, dict[str, Any]]:
        """One request through the local listener: (status, JSON body or {}); status 0 when it cannot connect."""
        status, body = call(self.url + path, timeout=10)
        return status, body if isinstance(body, dict) else {}


def create_web(localstack: Any, account: str, task_def: str, desired: int = 2, grace: int = 0) -> Iterator[Web]:
    """A load balancer, target group, listener and service (circuit breaker with rollback); removed after."""
    ec2, elbv2, ecs = (localstack.client(s, account) for s in ("ec2", "elbv2", "ecs"))
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    group = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]
    name = unique("web")
    balancer = elbv2.create_load_balancer(
        Name=name, Subnets=[s["SubnetId"] for s in subnets[:2]], SecurityGroups=[group["GroupId"]], Scheme="internal"
    )["LoadBalancers"][0]["LoadBalancerArn"]
    target_group = elbv2.create_target_group(
        Name=name, Protocol="HTTP", Port=8080, VpcId=subnets[0]["VpcId"], TargetType="ip", **HEALTH_CHECK
    )["TargetGroups"][0]["TargetGroupArn"]
    elbv2.modify_target_group_attributes(
        TargetGroupArn=target_group, Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "5"}]
    )
    elbv2.create_listener(
        LoadBalancerArn=balancer,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group}],
    )
    ecs.create_cluster(clusterName=name)
    ecs.create_service(
        cluster=name,
        serviceName=name,
        taskDefinition=task_def,
        desiredCount=desired,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {"subnets": [subnets[0]["SubnetId"]], "securityGroups": [group["GroupId"]]}
        },
        loadBalancers=[{"targetGroupArn": target_group, "containerName": "web", "containerPort": 8080}],
        deploymentConfiguration={
            "minimumHealthyPercent": 100,
            "maximumPercent": 200,
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        },
        healthCheckGracePeriodSeconds=grace,
    )
    web = Web(ecs, elbv2, name, name, target_group, listener_url(elbv2, balancer, 80))
    try:
        yield web
    finally:
        ecs.delete_service(cluster=name, service=name, force=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and ecs.list_tasks(cluster=name, desiredStatus="RUNNING")["taskArns"]:
            time.sleep(0.5)
        elbv2.delete_load_balancer(LoadBalancerArn=balancer)
        elbv2.delete_target_group(TargetGroupArn=target_group)
