"""AWS::SageMaker::Model, EndpointConfig and Endpoint through CloudFormation: real ARNs, an endpoint that serves,
a blue/green stack update, and an update to a broken model that fails with the reason and leaves the old serving."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.localstack.sagemaker_support import IMAGE, ROLE, broken_archive, register_serving_image, train_archive
from tests.localstack.support import ACCOUNT, unique

pytestmark = pytest.mark.localstack
STACK_WAITER = {"Delay": 1, "MaxAttempts": 900}


def _template(endpoint: str, model_data_url: str, version: int) -> str:
    """Names carry the version, as the serving blueprint writes them: every change is then visible statically.

    (LocalStack's change-set engine decides replacements before it resolves Fn::GetAtt, so a change that only
    reaches a config through the GetAtt of a replaced model would not propagate; see the fidelity report.)
    """
    model, config = f"{endpoint}-m{version}", f"{endpoint}-c{version}"
    return json.dumps({
        "Resources": {
            "Model": {"Type": "AWS::SageMaker::Model", "Properties": {
                "ModelName": model, "ExecutionRoleArn": ROLE,
                "PrimaryContainer": {"Image": IMAGE, "ModelDataUrl": model_data_url}}},
            "Config": {"Type": "AWS::SageMaker::EndpointConfig", "DependsOn": "Model", "Properties": {
                "EndpointConfigName": config, "ProductionVariants": [{
                    "VariantName": "AllTraffic", "ModelName": model, "InitialInstanceCount": "1",
                    "InstanceType": "ml.m5.large", "InitialVariantWeight": "1.0"}]}},
            "Endpoint": {"Type": "AWS::SageMaker::Endpoint", "DependsOn": "Config", "Properties": {
                "EndpointName": endpoint, "EndpointConfigName": config}},
        },
        "Outputs": {"EndpointArn": {"Value": {"Ref": "Endpoint"}}, "ModelArn": {"Value": {"Ref": "Model"}},
                    "EndpointName": {"Value": {"Fn::GetAtt": ["Endpoint", "EndpointName"]}},
                    "ConfigName": {"Value": {"Fn::GetAtt": ["Config", "EndpointConfigName"]}}},
    })


@pytest.fixture(scope="module")
def stack(localstack: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Two trained models and a broken one in a bucket; the stack deleted at the end."""
    s3, cfn = localstack.client("s3", ACCOUNT), localstack.client("cloudformation", ACCOUNT)
    register_serving_image(localstack)
    folder, bucket = tmp_path_factory.mktemp("cfn-models"), unique("sm-cfn")
    s3.create_bucket(Bucket=bucket)
    urls, data = [], None
    for seed in (0, 1):
        archive, data = train_archive(folder, seed)
        s3.upload_file(str(archive), bucket, f"m{seed}.tar.gz")
        urls.append(f"s3://{bucket}/m{seed}.tar.gz")
    s3.put_object(Bucket=bucket, Key="broken.tar.gz", Body=broken_archive())
    name = unique("cfn-sm")
    world = {"cfn": cfn, "sagemaker": localstack.client("sagemaker", ACCOUNT), "name": name, "urls": urls,
             "broken": f"s3://{bucket}/broken.tar.gz", "data": data,
             "runtime": localstack.client("sagemaker-runtime", ACCOUNT)}
    yield world
    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=STACK_WAITER)
    assert not world["sagemaker"].list_endpoints(NameContains=name)["Endpoints"]


def _outputs(cfn: Any, name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def _invoke(world: dict[str, Any]) -> bytes:
    rows = b"amount,quantity,category,region\n12.5,3,toys,west\n80,7,home,north\n"
    return bytes(world["runtime"].invoke_endpoint(EndpointName=world["name"], Body=rows,
                                                  ContentType="text/csv")["Body"].read())


def test_stack_creates_a_serving_endpoint_then_updates_blue_green_and_rolls_back_a_broken_model(
        stack: dict[str, Any]) -> None:
    cfn, sagemaker, name = stack["cfn"], stack["sagemaker"], stack["name"]
    cfn.create_stack(StackName=name, TemplateBody=_template(name, stack["urls"][0], 1))
    cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=STACK_WAITER)
    out = _outputs(cfn, name)
    assert out["EndpointArn"] == f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/{name}"
    assert out["ModelArn"] == f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model/{name}-m1"
    assert sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] == "InService"
    assert json.loads(_invoke(stack))["predictions"] == [0, 1]  # 37.5 is low-value, 560 high-value

    cfn.update_stack(StackName=name, TemplateBody=_template(name, stack["urls"][1], 2))
    cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=STACK_WAITER)
    updated = _outputs(cfn, name)
    assert updated["ConfigName"] == f"{name}-c2"  # a new config (replacement), the same endpoint
    assert sagemaker.describe_endpoint(EndpointName=name)["EndpointConfigName"] == updated["ConfigName"]

    cfn.update_stack(StackName=name, TemplateBody=_template(name, stack["broken"], 3))
    with pytest.raises(Exception, match=r"UPDATE_ROLLBACK_COMPLETE|failure state"):
        cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=STACK_WAITER)
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    reasons = [e.get("ResourceStatusReason", "") for e in events if e["LogicalResourceId"] == "Endpoint"]
    assert any("update failed" in r and "cannot load the MLflow model" in r for r in reasons), reasons
    described = sagemaker.describe_endpoint(EndpointName=name)
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == updated["ConfigName"]
    assert json.loads(_invoke(stack))["predictions"] == [0, 1]


def test_a_stack_whose_endpoint_never_serves_rolls_back_and_can_be_created_again(stack: dict[str, Any]) -> None:
    cfn, sagemaker = stack["cfn"], stack["sagemaker"]
    name = unique("cfn-bad")
    cfn.create_stack(StackName=name, TemplateBody=_template(name, stack["broken"], 1))
    with pytest.raises(Exception, match=r"ROLLBACK_COMPLETE|failure state"):
        cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=STACK_WAITER)
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    reasons = [e.get("ResourceStatusReason", "") for e in events if e["LogicalResourceId"] == "Endpoint"]
    assert any("is Failed" in r and "cannot load the MLflow model" in r for r in reasons), reasons
    assert not sagemaker.list_endpoints(NameContains=name)["Endpoints"]  # the name is free for the next try
    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=STACK_WAITER)
    cfn.create_stack(StackName=name, TemplateBody=_template(name, stack["urls"][0], 1))
    try:
        cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=STACK_WAITER)
        assert sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] == "InService"
    finally:
        cfn.delete_stack(StackName=name)
        cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=STACK_WAITER)
