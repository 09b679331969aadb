"""The ELBv2 CloudFormation providers and a service update that the circuit breaker fails, on a real LocalStack."""

from __future__ import annotations

import gzip
import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from troposphere import Template

from blueprints.access_logs import access_log_bucket
from dsplatform.localstack.endpoints import local_url
from tests.localstack.alb_support import HEALTH_CHECK, register_image
from tests.localstack.support import ACCOUNT, REGION, unique

pytestmark = pytest.mark.localstack
WAITER = {"Delay": 1, "MaxAttempts": 180}


def _log_bucket(name: str) -> dict[str, Any]:
    """The api blueprint's access-log bucket and policy (blueprints/access_logs.py), logging under ``name``."""
    template = Template()
    access_log_bucket(template, name=name, region=REGION, prefix=name, expiration_days=1)
    return dict(template.to_dict()["Resources"])


def _template(name: str, image: str, version: str, ready: bool, subnets: list[str], group: str, vpc: str) -> str:
    container = {
        "Name": "web",
        "Image": image,
        "PortMappings": [{"ContainerPort": 8080}],
        "Environment": [{"Name": "VERSION", "Value": version}, {"Name": "READY", "Value": "1" if ready else "0"}],
    }
    resources = {
        "TargetGroup": {
            "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
            "Properties": {
                "Port": 8080,
                "Protocol": "HTTP",
                "TargetType": "ip",
                "VpcId": vpc,
                **HEALTH_CHECK,
                "Matcher": {"HttpCode": "200"},
                "TargetGroupAttributes": [{"Key": "deregistration_delay.timeout_seconds", "Value": "5"}],
            },
        },
        **_log_bucket(name),
        "LoadBalancer": {
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "DependsOn": ["AccessLogBucketPolicy"],  # as the api blueprint: ELB checks the policy when enabled
            "Properties": {
                "Scheme": "internal",
                "Subnets": subnets,
                "SecurityGroups": [group],
                "LoadBalancerAttributes": [
                    {"Key": "access_logs.s3.enabled", "Value": "true"},
                    {"Key": "access_logs.s3.bucket", "Value": {"Ref": "AccessLogBucket"}},
                    {"Key": "access_logs.s3.prefix", "Value": name},
                ],
            },
        },
        "Listener": {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Properties": {
                "LoadBalancerArn": {"Ref": "LoadBalancer"},
                "Port": 80,
                "Protocol": "HTTP",
                "DefaultActions": [{"Type": "forward", "TargetGroupArn": {"Ref": "TargetGroup"}}],
            },
        },
        "TeapotRule": {
            "Type": "AWS::ElasticLoadBalancingV2::ListenerRule",
            "Properties": {
                "ListenerArn": {"Ref": "Listener"},
                "Priority": 10,
                "Conditions": [{"Field": "path-pattern", "Values": ["/teapot"]}],
                "Actions": [
                    {
                        "Type": "fixed-response",
                        "FixedResponseConfig": {"StatusCode": "418", "ContentType": "text/plain", "MessageBody": "tea"},
                    }
                ],
            },
        },
        "Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {"ClusterName": name}},
        "TaskDefinition": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "Family": name,
                "Cpu": "256",
                "Memory": "512",
                "NetworkMode": "awsvpc",
                "RequiresCompatibilities": ["FARGATE"],
                "ContainerDefinitions": [container],
            },
        },
        "Service": {
            "Type": "AWS::ECS::Service",
            "DependsOn": ["Listener"],
            "Properties": {
                "ServiceName": name,
                "Cluster": {"Ref": "Cluster"},
                "TaskDefinition": {"Ref": "TaskDefinition"},
                "DesiredCount": 2,
                "LaunchType": "FARGATE",
                "HealthCheckGracePeriodSeconds": 0,
                "DeploymentConfiguration": {
                    "MinimumHealthyPercent": 100,
                    "MaximumPercent": 200,
                    "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True},
                },
                "LoadBalancers": [
                    {"TargetGroupArn": {"Ref": "TargetGroup"}, "ContainerName": "web", "ContainerPort": 8080}
                ],
                "NetworkConfiguration": {"AwsvpcConfiguration": {"Subnets": subnets[:1], "SecurityGroups": [group]}},
            },
        },
    }
    outputs = {
        "Url": {"Value": {"Fn::Join": ["", ["http://", {"Fn::GetAtt": ["LoadBalancer", "DNSName"]}, "/"]]}},
        "LoadBalancerFullName": {"Value": {"Fn::GetAtt": ["LoadBalancer", "LoadBalancerFullName"]}},
        "TargetGroupFullName": {"Value": {"Fn::GetAtt": ["TargetGroup", "TargetGroupFullName"]}},
        "TargetGroupArn": {"Value": {"Ref": "TargetGroup"}},
    }
    return json.dumps({"Resources": resources, "Outputs": outputs})


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def _log_lines(s3: Any, bucket: str, folder: str, count: int) -> list[str]:
    """The access-log lines delivered under ``folder``, once there are ``count`` (at most 20 s)."""
    deadline, lines = time.monotonic() + 20, []
    while len(lines) < count and time.monotonic() < deadline:
        time.sleep(0.5)
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=folder).get("Contents", [])]
        bodies = [gzip.decompress(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).decode() for key in keys]
        lines = [line for body in bodies for line in body.splitlines()]
    return lines


def _remove_bucket(s3: Any, bucket: str) -> None:
    """The retained log bucket: every version, then the bucket."""
    versions = s3.list_object_versions(Bucket=bucket)
    for item in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
        s3.delete_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])
    s3.delete_bucket(Bucket=bucket)


def test_a_stack_serves_through_its_load_balancer_and_a_broken_update_fails_with_the_circuit_breaker(
    localstack: Any,
) -> None:
    cfn, ec2, elbv2 = (localstack.client(s, ACCOUNT) for s in ("cloudformation", "ec2", "elbv2"))
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    group = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]
    args = ([s["SubnetId"] for s in subnets[:2]], group["GroupId"], subnets[0]["VpcId"])
    image = register_image(localstack, ACCOUNT)
    name = unique("lsalb")
    cfn.create_stack(StackName=name, TemplateBody=_template(name, image, "v1", True, *args))
    try:
        cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=WAITER)
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        assert outputs["LoadBalancerFullName"].startswith("app/")
        assert outputs["TargetGroupFullName"].startswith("targetgroup/")
        health = elbv2.describe_target_health(TargetGroupArn=outputs["TargetGroupArn"])["TargetHealthDescriptions"]
        assert [t["TargetHealth"]["State"] for t in health] == ["healthy", "healthy"]  # created = deployed and healthy
        url = local_url(elbv2, outputs["Url"])
        assert json.loads(_get(url)[1])["version"] == "v1"
        assert _get(url + "teapot") == (418, b"tea")
        # The blueprint's access-log bucket receives the load balancer's logs, one line per request.
        s3 = localstack.client("s3", ACCOUNT)
        lines = _log_lines(s3, name, f"{name}/AWSLogs/{ACCOUNT}/elasticloadbalancing/{REGION}/", 2)
        requests = sorted(line.split('"')[1] for line in lines)  # "GET http://<host>:80<path> HTTP/1.1"
        assert [r.split(" ")[1].split(":80", 1)[1] for r in requests] == ["/", "/teapot"]
        assert sorted(line.split(" ")[8] for line in lines) == ["200", "418"]  # the load balancer's status codes

        cfn.update_stack(StackName=name, TemplateBody=_template(name, image, "v2", False, *args))
        with pytest.raises(Exception, match="UPDATE_ROLLBACK_COMPLETE"):
            cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=WAITER)
        events = cfn.describe_stack_events(StackName=name)["StackEvents"]
        reasons = [e.get("ResourceStatusReason", "") for e in events if e["LogicalResourceId"] == "Service"]
        assert any("ECS Deployment Circuit Breaker was triggered" in r for r in reasons), reasons
        assert {json.loads(_get(url)[1])["version"] for _ in range(6)} == {"v1"}  # the old version still serves
    finally:
        cfn.delete_stack(StackName=name)
        cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=WAITER)
        _remove_bucket(localstack.client("s3", ACCOUNT), name)  # DeletionPolicy Retain, as the blueprint's
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=5)  # the listener's local server stopped with the stack
