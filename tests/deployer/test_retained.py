"""Kept SageMaker models and configs (dsplatform.deployer.retained) with botocore's Stubber: a change set that
creates a kept name first deletes the copy outside the stack (AWS refuses a create of an existing name, where
LocalStack's moto overwrites it), and destroy sweeps every versioned one of the stack's endpoints."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.stub import Stubber

from dsplatform.deployer.changes import Change
from dsplatform.deployer.retained import CONFIG, ENDPOINT, MODEL, created_names, free_names, names_of, sweep

ARN = "arn:aws:sagemaker:us-east-1:111111111111:endpoint-config/x"
VARIANT = {"VariantName": "AllTraffic", "ModelName": "ds-staging-model-1"}
TEMPLATE = {"Resources": {
    "Model": {"Type": MODEL, "Properties": {"ModelName": "ds-staging-model-1"}},
    "EndpointConfig": {"Type": CONFIG, "Properties": {"EndpointConfigName": "ds-staging-config-1"}},
    "Endpoint": {"Type": ENDPOINT, "Properties": {"EndpointName": "ds-staging"}},
    "Computed": {"Type": MODEL, "Properties": {"ModelName": {"Fn::Sub": "${AWS::StackName}-m"}}},
    "Tagged": {"Type": CONFIG, "Properties": {"EndpointConfigName": "ds-staging-config-x"}},
}}


def _sagemaker() -> Any:
    return boto3.client("sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def _change(logical: str, kind: str, action: str = "Modify", replacement: str = "True") -> Change:
    return Change("ds-stg-serving", action, logical, kind, replacement)


def test_the_names_a_change_set_creates_are_the_added_or_replaced_literal_ones_configs_first() -> None:
    changes = [_change("Model", MODEL), _change("EndpointConfig", CONFIG, "Add", ""),
               _change("Endpoint", ENDPOINT, replacement="False"), _change("Computed", MODEL, "Add", ""),
               _change("Tagged", CONFIG, replacement="False")]  # a tags-only change: nothing is created
    assert created_names(TEMPLATE, changes) == [(CONFIG, "ds-staging-config-1"), (MODEL, "ds-staging-model-1")]


def test_a_kept_copy_outside_the_stack_is_deleted_and_the_stacks_own_or_absent_names_are_not() -> None:
    sagemaker = _sagemaker()
    names = [(CONFIG, "ds-staging-config-1"), (CONFIG, "ds-staging-config-2"), (MODEL, "ds-staging-model-1"),
             (MODEL, "ds-staging-model-2")]
    with Stubber(sagemaker) as stub:
        stub.add_response("describe_endpoint_config", {
            "EndpointConfigName": "ds-staging-config-1", "EndpointConfigArn": ARN, "ProductionVariants": [VARIANT],
            "CreationTime": "2026-11-30"}, {"EndpointConfigName": "ds-staging-config-1"})
        stub.add_response("delete_endpoint_config", {}, {"EndpointConfigName": "ds-staging-config-1"})
        # config-2 is the stack's own (a same-name replacement): no call at all
        stub.add_client_error("describe_model", "ValidationException", "Could not find model",
                              expected_params={"ModelName": "ds-staging-model-1"})
        # model-2 is the stack's own too
        owned = names_of(["arn:aws:sagemaker:us-east-1:1:endpoint-config/ds-staging-config-2",
                             "arn:aws:sagemaker:us-east-1:1:model/ds-staging-model-2"])
        assert free_names(sagemaker, owned, names) == ["ds-staging-config-1"]
        stub.assert_no_pending_responses()


def test_destroy_sweeps_the_versioned_configs_then_models_of_each_endpoint_only() -> None:
    sagemaker = _sagemaker()
    with Stubber(sagemaker) as stub:
        stub.add_response("list_endpoint_configs", {"EndpointConfigs": [
            {"EndpointConfigName": n, "EndpointConfigArn": ARN, "CreationTime": "2026-11-30"}
            for n in ("ds-staging-config-1", "ds-staging-config-2", "old-ds-staging-config-1")]},
            {"NameContains": "ds-staging-config-"})
        stub.add_response("delete_endpoint_config", {}, {"EndpointConfigName": "ds-staging-config-1"})
        stub.add_response("delete_endpoint_config", {}, {"EndpointConfigName": "ds-staging-config-2"})
        stub.add_response("list_models", {"Models": [
            {"ModelName": n, "ModelArn": ARN, "CreationTime": "2026-11-30"}
            for n in ("ds-staging-model-1", "ds-staging-modelx")]}, {"NameContains": "ds-staging-model-"})
        stub.add_response("delete_model", {}, {"ModelName": "ds-staging-model-1"})
        deleted = sweep(sagemaker, ["arn:aws:sagemaker:us-east-1:1:endpoint/ds-staging"])
        stub.assert_no_pending_responses()
    assert deleted == ["ds-staging-config-1", "ds-staging-config-2", "ds-staging-model-1"]


def test_the_kept_kinds_are_the_ones_naming_versions_in_the_same_order() -> None:
    from dsplatform.deployer import retained
    from dsplatform.naming import ENDPOINT_VERSION_KINDS

    assert tuple(kind.naming for kind in retained._KINDS.values()) == ENDPOINT_VERSION_KINDS
