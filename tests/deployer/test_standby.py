"""Standby copies (dsplatform.deployer.standby) with botocore's Stubber: an endpoint running a kept config the change
set creates again moves to a copy first (same variants and model data, new names; empty Describe fields dropped),
one running something else is left alone, and a copy is deleted only once its endpoint has moved off it."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from dsplatform.deployer.standby import Standby, drop, vacate
from dsplatform.naming import endpoint_standby

ARN = "arn:aws:sagemaker:us-east-1:111111111111:"
WAIT = {"Delay": 0.01, "MaxAttempts": 3}
VARIANT = {"VariantName": "AllTraffic", "ModelName": "ds-staging-model-1", "InitialInstanceCount": 1,
           "InstanceType": "ml.m5.large", "InitialVariantWeight": 1.0}
CONTAINER = {"Image": "1.dkr.ecr.us-east-1.amazonaws.com/ds-serving@sha256:ab", "ModelDataUrl": "s3://b/m.tar.gz"}


def _sagemaker() -> Any:
    return boto3.client("sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def _endpoint(config: str, status: str = "InService") -> dict[str, Any]:
    return {"EndpointName": "ds-staging", "EndpointArn": ARN + "endpoint/ds-staging", "EndpointConfigName": config,
            "EndpointStatus": status, "CreationTime": "2026-11-30", "LastModifiedTime": "2026-11-30"}


def test_an_endpoint_running_a_kept_config_moves_to_a_copy_of_it_and_waits_until_it_serves() -> None:
    sagemaker = _sagemaker()
    with Stubber(sagemaker) as stub:
        stub.add_response("describe_endpoint", _endpoint("ds-staging-config-1"), {"EndpointName": "ds-staging"})
        stub.add_response("describe_endpoint_config", {
            "EndpointConfigName": "ds-staging-config-1", "EndpointConfigArn": ARN + "endpoint-config/c",
            "ProductionVariants": [VARIANT], "KmsKeyId": "alias/ds", "CreationTime": "2026-11-30"},
            {"EndpointConfigName": "ds-staging-config-1"})
        stub.add_response("describe_model", {
            "ModelName": "ds-staging-model-1", "ModelArn": ARN + "model/m", "PrimaryContainer": CONTAINER,
            "ExecutionRoleArn": "arn:aws:iam::1:role/r", "VpcConfig": {"SecurityGroupIds": ["sg-1"],
                                                                       "Subnets": ["s-1"]},
            "CreationTime": "2026-11-30"}, {"ModelName": "ds-staging-model-1"})
        stub.add_response("create_model", {"ModelArn": ARN + "model/copy"}, {
            "ModelName": "ds-staging-model-sbt0k3n1", "PrimaryContainer": CONTAINER,
            "ExecutionRoleArn": "arn:aws:iam::1:role/r", "VpcConfig": {"SecurityGroupIds": ["sg-1"],
                                                                       "Subnets": ["s-1"]}})
        stub.add_response("create_endpoint_config", {"EndpointConfigArn": ARN + "endpoint-config/copy"}, {
            "EndpointConfigName": "ds-staging-config-sbt0k3n1", "KmsKeyId": "alias/ds",
            "ProductionVariants": [{**VARIANT, "ModelName": "ds-staging-model-sbt0k3n1"}]})
        stub.add_response("update_endpoint", {"EndpointArn": ARN + "endpoint/ds-staging"}, {
            "EndpointName": "ds-staging", "EndpointConfigName": "ds-staging-config-sbt0k3n1"})
        for status in ("Updating", "InService"):  # the endpoint_in_service waiter's polls
            stub.add_response("describe_endpoint", _endpoint("ds-staging-config-sbt0k3n1", status),
                              {"EndpointName": ANY})
        moved = vacate(sagemaker, [ARN + "endpoint/ds-staging"], {"ds-staging-config-1", "ds-staging-model-1"},
                       WAIT, token="t0k3n1")
        stub.assert_no_pending_responses()
    assert moved == [Standby("ds-staging", "ds-staging-config-sbt0k3n1", ("ds-staging-model-sbt0k3n1",),
                             "ds-staging-config-1")]


def test_an_endpoint_running_neither_the_config_nor_its_model_is_left_alone() -> None:
    sagemaker = _sagemaker()
    with Stubber(sagemaker) as stub:
        stub.add_client_error("describe_endpoint", "ValidationException", "Could not find endpoint",
                              expected_params={"EndpointName": "ds-new"})
        stub.add_response("describe_endpoint", _endpoint("ds-staging-config-2"), {"EndpointName": "ds-staging"})
        stub.add_response("describe_endpoint_config", {
            "EndpointConfigName": "ds-staging-config-2", "EndpointConfigArn": ARN + "endpoint-config/c",
            "ProductionVariants": [{**VARIANT, "ModelName": "ds-staging-model-2"}], "CreationTime": "2026-11-30"},
            {"EndpointConfigName": "ds-staging-config-2"})
        assert vacate(sagemaker, ["ds-staging", "ds-new"], {"ds-staging-config-1", "ds-staging-model-1"}, WAIT) == []
        stub.assert_no_pending_responses()


def test_a_standby_is_deleted_once_its_endpoint_moved_off_and_kept_while_it_serves() -> None:
    sagemaker = _sagemaker()
    moved_on = Standby("ds-staging", "ds-staging-config-sba", ("ds-staging-model-sba",), "ds-staging-config-1")
    with Stubber(sagemaker) as stub:
        stub.add_response("describe_endpoint", _endpoint("ds-staging-config-1"), {"EndpointName": "ds-staging"})
        stub.add_response("delete_endpoint_config", {}, {"EndpointConfigName": "ds-staging-config-sba"})
        stub.add_response("delete_model", {}, {"ModelName": "ds-staging-model-sba"})
        stub.add_response("describe_endpoint", _endpoint("ds-staging-config-sba"), {"EndpointName": "ds-staging"})
        assert drop(sagemaker, [moved_on, moved_on]) == ["ds-staging-config-sba", "ds-staging-model-sba"]
        stub.assert_no_pending_responses()


def test_a_standby_name_keeps_the_versioned_prefix_and_refuses_to_pass_63_characters() -> None:
    assert endpoint_standby("ds-staging", "config", "abc123") == "ds-staging-config-sbabc123"
    with pytest.raises(ValueError, match="longer than SageMaker's 63 characters"):
        endpoint_standby("e" * 50, "config", "abc123")
