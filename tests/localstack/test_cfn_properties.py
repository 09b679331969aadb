"""CloudFormation on LocalStack: unsupported types fail the stack; properties the community drops are applied."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.localstack.support import ACCOUNT, unique

pytestmark = pytest.mark.localstack
WAITER = {"Delay": 1, "MaxAttempts": 120}


def test_unsupported_resource_type_fails_the_stack(localstack: Any) -> None:
    cfn = localstack.client("cloudformation", ACCOUNT)
    name = unique("lsunsupported")
    body = {
        "Resources": {
            "Pipeline": {
                "Type": "AWS::CodePipeline::Pipeline",
                "Properties": {"RoleArn": f"arn:aws:iam::{ACCOUNT}:role/none", "Stages": []},
            }
        }
    }
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(body))
    try:
        with pytest.raises(Exception, match="Waiter StackCreateComplete failed"):
            cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=WAITER)
        status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        assert status in ("CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED")
    finally:
        cfn.delete_stack(StackName=name)


def _deploy(cfn: Any, name: str, resources: dict[str, Any]) -> None:
    cfn.create_stack(StackName=name, TemplateBody=json.dumps({"Resources": resources}))
    cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=WAITER)


def _delete(cfn: Any, name: str) -> None:
    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=WAITER)


def test_invalid_bucket_name_fails_the_stack_instead_of_a_silent_no_op(localstack: Any) -> None:
    cfn = localstack.client("cloudformation", ACCOUNT)
    name = unique("lsbadbucket")
    cfn.create_stack(
        StackName=name,
        TemplateBody=json.dumps(
            {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "Upper_Case_Bucket"}}}}
        ),
    )
    try:
        with pytest.raises(Exception, match=r"ROLLBACK_COMPLETE|CREATE_FAILED"):
            cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=WAITER)
        events = cfn.describe_stack_events(StackName=name)["StackEvents"]
        reasons = [e.get("ResourceStatusReason") or "" for e in events if e["LogicalResourceId"] == "Bucket"]
        assert any("Invalid bucket name 'Upper_Case_Bucket'" in r for r in reasons), reasons
    finally:
        _delete(cfn, name)


def test_s3_bucket_properties_the_community_provider_drops_are_applied(localstack: Any) -> None:
    cfn, s3 = localstack.client("cloudformation", ACCOUNT), localstack.client("s3", ACCOUNT)
    name = unique("lsbucket")
    try:
        _deploy(
            cfn,
            name,
            {
                "Bucket": {
                    "Type": "AWS::S3::Bucket",
                    "Properties": {
                        "BucketName": name,
                        "LifecycleConfiguration": {
                            "Rules": [
                                {
                                    "Id": "expire-raw",
                                    "Status": "Enabled",
                                    "Prefix": "raw/",
                                    "ExpirationInDays": 30,
                                    "NoncurrentVersionExpiration": {"NoncurrentDays": 7},
                                }
                            ]
                        },
                        "PublicAccessBlockConfiguration": {
                            "BlockPublicAcls": True,
                            "BlockPublicPolicy": False,
                            "IgnorePublicAcls": True,
                            "RestrictPublicBuckets": False,
                        },
                        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                    },
                }
            },
        )
        rules = s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
        assert rules[0]["ID"] == "expire-raw"
        assert rules[0]["Expiration"] == {"Days": 30}
        assert rules[0]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 7
        block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
        assert block == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": False,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": False,
        }
        ownership = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"]
        assert ownership == [{"ObjectOwnership": "BucketOwnerEnforced"}]
        grants = s3.get_bucket_acl(Bucket=name)["Grants"]
        assert not [g for g in grants if g["Grantee"].get("URI", "").endswith("/AllUsers")]
    finally:
        _delete(cfn, name)


def test_network_role_and_dashboard_properties_are_applied(localstack: Any) -> None:
    cfn = localstack.client("cloudformation", ACCOUNT)
    ec2, cloudwatch = localstack.client("ec2", ACCOUNT), localstack.client("cloudwatch", ACCOUNT)
    iam = localstack.client("iam", ACCOUNT)
    name = unique("lsnet")
    vpc_id = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    body = {"widgets": [{"type": "text", "x": 0, "y": 0, "width": 6, "height": 2, "properties": {"markdown": "hi"}}]}
    try:
        _deploy(
            cfn,
            name,
            {
                "Group": {
                    "Type": "AWS::EC2::SecurityGroup",
                    "Properties": {
                        "GroupDescription": "test",
                        "VpcId": vpc_id,
                        "SecurityGroupIngress": [
                            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/16"}
                        ],
                        "SecurityGroupEgress": [
                            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}
                        ],
                    },
                },
                "Dashboard": {
                    "Type": "AWS::CloudWatch::Dashboard",
                    "Properties": {"DashboardName": name, "DashboardBody": json.dumps(body)},
                },
                "Vpc": {
                    "Type": "AWS::EC2::VPC",
                    "Properties": {"CidrBlock": "10.42.0.0/16", "EnableDnsHostnames": True, "EnableDnsSupport": True},
                },
                "Role": {
                    "Type": "AWS::IAM::Role",
                    "Properties": {
                        "RoleName": name,
                        "Description": "the job's task role",
                        "AssumeRolePolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": "sts:AssumeRole",
                                    "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                                }
                            ],
                        },
                    },
                },
            },
        )
        resources = cfn.describe_stack_resources(StackName=name)["StackResources"]
        group_id = next(r["PhysicalResourceId"] for r in resources if r["LogicalResourceId"] == "Group")
        group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
        assert [(p["IpProtocol"], p["FromPort"], p["IpRanges"][0]["CidrIp"]) for p in group["IpPermissions"]] == [
            ("tcp", 443, "10.0.0.0/16")
        ]
        assert [(p["IpProtocol"], p.get("FromPort")) for p in group["IpPermissionsEgress"]] == [("tcp", 443)]
        assert json.loads(cloudwatch.get_dashboard(DashboardName=name)["DashboardBody"]) == body
        vpc_id = next(r["PhysicalResourceId"] for r in resources if r["LogicalResourceId"] == "Vpc")
        hostnames = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")
        assert hostnames["EnableDnsHostnames"]["Value"] is True
        assert iam.get_role(RoleName=name)["Role"]["Description"] == "the job's task role"
    finally:
        _delete(cfn, name)
