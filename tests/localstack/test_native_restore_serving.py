"""Native rollback of a SageMaker endpoint on LocalStack, through the deployer: the serving blueprint keeps a
replaced model and config (Retain), so UpdateEndpoint goes back to the pinned config; the reconciling deploy
creates that config again, first moving the endpoint to a standby copy so that nothing it runs is deleted, and
destroy removes every kept one. Every AWS call of these paths is checked against the bootstrap's deploy role
policy (the role CI deploys and rolls back with on AWS)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from blueprints.serving import RETAINED
from dsplatform.deployer import deploy, destroy
from dsplatform.naming import endpoint_version_prefix
from dsplatform.native import ENDPOINT, capture, restore
from dsplatform.stackspec import Plan, StackSpec, Target
from tests.deploy_role import assert_deploy_role_allows, execution_role_arn, recording_clients
from tests.localstack.sagemaker_support import IMAGE, register_serving_image, train_archive
from tests.localstack.support import ACCOUNT, REGION, unique

# As the serving blueprint's model role: created by the stack, so named under the project's prefix (the deploy
# role passes it to SageMaker for the standby copy of a kept model).
ROLE = f"arn:aws:iam::{ACCOUNT}:role/nr-serving-ExecutionRole-0a1b2c3d"

pytestmark = pytest.mark.localstack


def _template(endpoint: str, model_data_url: str, version: int) -> dict[str, Any]:
    """The serving blueprint's shape: versioned literal names, and its retention of the model and config."""
    model = endpoint_version_prefix(endpoint, "model") + str(version)
    config = endpoint_version_prefix(endpoint, "config") + str(version)
    return {"Resources": {
        "Model": {"Type": "AWS::SageMaker::Model", **RETAINED, "Properties": {
            "ModelName": model, "ExecutionRoleArn": ROLE,
            "PrimaryContainer": {"Image": IMAGE, "ModelDataUrl": model_data_url}}},
        "EndpointConfig": {"Type": "AWS::SageMaker::EndpointConfig", **RETAINED, "DependsOn": "Model",
                           "Properties": {"EndpointConfigName": config, "ProductionVariants": [{
                               "VariantName": "AllTraffic", "ModelName": model, "InitialInstanceCount": 1,
                               "InstanceType": "ml.m5.large", "InitialVariantWeight": 1.0}]}},
        "Endpoint": {"Type": "AWS::SageMaker::Endpoint", "DependsOn": "EndpointConfig", "Properties": {
            "EndpointName": endpoint, "EndpointConfigName": config}},
    }}


def _kept(sagemaker: Any, endpoint: str) -> list[str]:
    listed = sagemaker.list_endpoint_configs(NameContains=endpoint)["EndpointConfigs"]
    configs = [c["EndpointConfigName"] for c in listed]
    models = [m["ModelName"] for m in sagemaker.list_models()["Models"] if m["ModelName"].startswith(endpoint)]
    return sorted(configs + models)


def _guard_deletes(deployers: Any, observer: Any, endpoint: str) -> list[str]:
    """Record each model or config the deployer's client deletes while ``endpoint`` runs it (read at that moment)."""
    found: list[str] = []

    def check(model: Any, params: dict[str, Any], **_: Any) -> None:
        if model.name not in ("DeleteEndpointConfig", "DeleteModel"):
            return
        name = str(params.get("EndpointConfigName") or params.get("ModelName"))
        try:
            running = observer.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
        except observer.exceptions.ClientError:
            return  # no endpoint (yet, or any more): nothing runs
        try:
            models = {v["ModelName"] for v in
                      observer.describe_endpoint_config(EndpointConfigName=running)["ProductionVariants"]}
        except observer.exceptions.ClientError:  # the config it runs is already gone: so is what it ran
            found.append(f"{name} (the endpoint's config {running} was deleted before)")
            return
        if name == running or name in models:
            found.append(name)

    deployers.meta.events.register("before-call.sagemaker", check)
    return found


def test_an_endpoint_goes_back_to_the_kept_config_and_destroy_removes_the_kept_ones(
        localstack: Any, tmp_path: Path) -> None:
    register_serving_image(localstack)
    s3, sagemaker = localstack.client("s3", ACCOUNT), localstack.client("sagemaker", ACCOUNT)
    bucket, endpoint, env = unique("nr-sm"), unique("nr-sm"), unique("nr")
    s3.create_bucket(Bucket=bucket)
    archive, _ = train_archive(tmp_path)
    s3.upload_file(str(archive), bucket, "model.tar.gz")
    url = f"s3://{bucket}/model.tar.gz"
    target = Target(env=env, account_id=ACCOUNT, region=REGION, kind="localstack", endpoint_url=localstack.endpoint_url,
                    project="nr", lock_name=f"/dsplatform/locks/nr-{env}",
                    # As on AWS: each change set names the bootstrap's execution role, which the deploy role passes.
                    execution_role_arn=execution_role_arn("nr", ACCOUNT, REGION),
                    assets_bucket=f"nr-assets-{ACCOUNT}-{REGION}")

    def plan(version: int) -> Plan:
        return Plan(target, (StackSpec(name=f"nr-{env}-serving", component="serving",
                                       template=_template(endpoint, url, version)),))

    clients, recorder = recording_clients(target)
    deleted_in_use = _guard_deletes(clients.client("sagemaker"), sagemaker, endpoint)
    try:
        deploy(plan(1), clients).raise_for_failure()
        (first,) = capture(plan(1), clients)
        assert first.kind == ENDPOINT and first.target == f"{endpoint}-config-1"
        deploy(plan(2), clients).raise_for_failure()
        assert sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"] == f"{endpoint}-config-2"
        # The replaced pair outlived the update: release 1's config and the model it serves.
        assert _kept(sagemaker, endpoint) == [f"{endpoint}-{kind}-{v}" for kind in ("config", "model") for v in (1, 2)]

        (switch,) = restore((first,), clients, delay=0.5)
        assert switch.outcome == "moved", switch.describe()
        described = sagemaker.describe_endpoint(EndpointName=endpoint)
        assert (described["EndpointConfigName"], described["EndpointStatus"]) == (first.target, "InService")

        # What `invoke rollback` runs next: release 1's template through a change set, creating config-1 again.
        # The endpoint runs config-1 now: it moves to a standby copy before the kept pair is deleted.
        result = deploy(plan(1), clients)
        assert result.ok and result.stacks[f"nr-{env}-serving"].outcome.value == "updated", result.stacks
        described = sagemaker.describe_endpoint(EndpointName=endpoint)
        assert (described["EndpointConfigName"], described["EndpointStatus"]) == (first.target, "InService")
        assert capture(plan(1), clients) == (first,)
        assert deleted_in_use == []
        # The standby served while config-1 was created again, then went: only the versioned pairs are left.
        assert _kept(sagemaker, endpoint) == [f"{endpoint}-{kind}-{v}" for kind in ("config", "model") for v in (1, 2)]
    finally:
        assert destroy(plan(1), clients).ok
    assert _kept(sagemaker, endpoint) == []  # DeletionPolicy kept them with the stack; destroy swept them
    # The paths under check did run: native restore, the standby copy (its model's role passed to SageMaker),
    # the change sets (the execution role passed to CloudFormation) and destroy's sweep.
    assert {"sagemaker:UpdateEndpoint", "sagemaker:CreateModel", "sagemaker:CreateEndpointConfig", "iam:PassRole",
            "cloudformation:ExecuteChangeSet", "sagemaker:ListModels", "sagemaker:DeleteModel"} <= recorder.actions()
    assert_deploy_role_allows(recorder, "nr")
