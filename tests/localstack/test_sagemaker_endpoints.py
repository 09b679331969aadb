"""SageMaker endpoints on LocalStack serve for real: a local replica per endpoint, blue/green updates, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, WaiterError

from tests.localstack.sagemaker_support import (
    WAITER,
    broken_archive,
    create_model,
    local_predictions,
    register_serving_image,
    train_archive,
)
from tests.localstack.support import ACCOUNT, unique

pytestmark = pytest.mark.localstack


@pytest.fixture(scope="module")
def world(localstack: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A bucket with two trained models and a broken one; the clients; endpoints deleted at the end."""
    s3, sagemaker = localstack.client("s3", ACCOUNT), localstack.client("sagemaker", ACCOUNT)
    register_serving_image(localstack)
    folder = tmp_path_factory.mktemp("models")
    bucket = unique("sm-models")
    s3.create_bucket(Bucket=bucket)
    archives = {}
    for seed in (0, 1):
        archive, data = train_archive(folder, seed)
        s3.upload_file(str(archive), bucket, f"m{seed}/model.tar.gz")
        archives[seed] = (f"s3://{bucket}/m{seed}/model.tar.gz", archive, data)
    s3.put_object(Bucket=bucket, Key="broken/model.tar.gz", Body=broken_archive())
    created: list[str] = []
    yield {"s3": s3, "sagemaker": sagemaker, "runtime": localstack.client("sagemaker-runtime", ACCOUNT),
           "bucket": bucket, "models": archives, "broken": f"s3://{bucket}/broken/model.tar.gz",
           "endpoints": created}
    for name in created:
        try:
            sagemaker.delete_endpoint(EndpointName=name)
        except ClientError as err:
            assert "Could not find" in str(err), err


def _scoring_rows(data: Path, rows: int = 25) -> tuple[bytes, Path]:
    """The first complete rows of the training CSV (no empty field), as a body and as a file for local scoring."""
    lines = data.read_bytes().splitlines()
    complete = [line for line in lines[1:] if b",," not in line and not line.endswith(b",")][:rows]
    body = b"\n".join([lines[0], *complete]) + b"\n"
    path = data.with_name(f"score-{data.name}")
    path.write_bytes(body)
    return body, path


def _invoke(world: dict[str, Any], name: str, body: bytes, content_type: str = "text/csv") -> dict[str, Any]:
    response = world["runtime"].invoke_endpoint(EndpointName=name, Body=body, ContentType=content_type)
    return {"predictions": json.loads(response["Body"].read())["predictions"],
            "variant": response["InvokedProductionVariant"]}


def _endpoint(world: dict[str, Any], model_url: str) -> str:
    name = unique("ep")
    create_model(world["sagemaker"], name, model_url)
    world["sagemaker"].create_endpoint(EndpointName=name, EndpointConfigName=name)
    world["endpoints"].append(name)
    return name


def test_endpoint_is_creating_then_serves_the_models_own_predictions(world: dict[str, Any]) -> None:
    url, archive, data = world["models"][0]
    name = _endpoint(world, url)
    assert world["sagemaker"].describe_endpoint(EndpointName=name)["EndpointStatus"] == "Creating"
    world["sagemaker"].get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=WAITER)
    body, rows = _scoring_rows(data)
    expected = local_predictions(archive, rows)
    assert len(expected) == 25 and 0 < sum(expected) < 25  # both classes: equal lists are not a coincidence
    assert _invoke(world, name, body)["predictions"] == expected
    split = [line.split(",") for line in body.decode().splitlines()]
    records = {"dataframe_split": {"columns": split[0],
                                   "data": [[float(r[0]), float(r[1]), r[2], r[3]] for r in split[1:]]}}
    assert _invoke(world, name, json.dumps(records).encode(), "application/json")["predictions"] == expected


def test_a_bad_payload_is_a_model_error_carrying_the_containers_4xx_and_reason(world: dict[str, Any]) -> None:
    url, _, _ = world["models"][0]
    name = _endpoint(world, url)
    world["sagemaker"].get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=WAITER)
    with pytest.raises(ClientError) as caught:
        world["runtime"].invoke_endpoint(EndpointName=name, Body=b"{oops", ContentType="application/json")
    error = caught.value.response
    assert error["Error"]["Code"] == "ModelError"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert "Received client error (400)" in error["Error"]["Message"]
    assert "not valid JSON" in error["Error"]["Message"]


def test_an_endpoint_whose_model_cannot_load_fails_with_the_reason(world: dict[str, Any]) -> None:
    name = _endpoint(world, world["broken"])
    with pytest.raises(WaiterError):
        world["sagemaker"].get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=WAITER)
    described = world["sagemaker"].describe_endpoint(EndpointName=name)
    assert described["EndpointStatus"] == "Failed"
    assert "did not pass the ping health check" in described["FailureReason"]
    assert "cannot load the MLflow model" in described["FailureReason"]
    with pytest.raises(ClientError, match="not found"):
        world["runtime"].invoke_endpoint(EndpointName=name, Body=b"a\n1\n", ContentType="text/csv")


def test_update_is_blue_green_and_a_broken_version_leaves_the_old_one_serving(world: dict[str, Any]) -> None:
    sagemaker = world["sagemaker"]
    url0, archive0, data = world["models"][0]
    name = _endpoint(world, url0)
    sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=WAITER)
    (body, rows), blue_variant = _scoring_rows(data), name[-20:]
    expected = local_predictions(archive0, rows)

    broken = unique("broken")
    create_model(sagemaker, broken, world["broken"])
    sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=broken)
    assert sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] == "Updating"
    assert _invoke(world, name, body) == {"predictions": expected, "variant": blue_variant}  # blue serves meanwhile
    sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=WAITER)
    described = sagemaker.describe_endpoint(EndpointName=name)
    assert "Update failed and was rolled back" in described["FailureReason"]
    assert described["EndpointConfigName"] == name
    assert _invoke(world, name, body) == {"predictions": expected, "variant": blue_variant}

    url1, archive1, _ = world["models"][1]
    green = unique("green")
    create_model(sagemaker, green, url1)
    sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=green)
    sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=WAITER)
    described = sagemaker.describe_endpoint(EndpointName=name)
    assert described["EndpointConfigName"] == green and "FailureReason" not in described
    assert _invoke(world, name, body) == {"predictions": local_predictions(archive1, rows),
                                          "variant": green[-20:]}


def test_update_refuses_an_unknown_config_and_a_busy_endpoint(world: dict[str, Any]) -> None:
    url, _, _ = world["models"][0]
    name = _endpoint(world, url)
    with pytest.raises(ClientError, match="Cannot update in-progress endpoint"):
        world["sagemaker"].update_endpoint(EndpointName=name, EndpointConfigName=name)
    world["sagemaker"].get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=WAITER)
    with pytest.raises(ClientError, match="Could not find endpoint configuration"):
        world["sagemaker"].update_endpoint(EndpointName=name, EndpointConfigName="absent-config")


def test_an_endpoint_runs_the_source_pushed_under_its_tag_not_the_folder_as_it_is_now(
        localstack: Any, world: dict[str, Any], tmp_path: Path) -> None:
    import shutil

    from dsplatform.images import push_local_image
    from dsplatform.localstack import register_image_sources
    from tests.localstack.sagemaker_support import ROLE, SERVING_SOURCE
    from tests.localstack.support import settings_for

    source, repository = tmp_path / "serving", unique("ds-serving-pinned")
    shutil.copytree(SERVING_SOURCE, source, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    register_image_sources(settings_for(localstack), {repository: source})
    ecr = localstack.client("ecr", ACCOUNT)
    ecr.create_repository(repositoryName=repository)
    digest = push_local_image(ecr, repository, "latest", source)
    # After the push the folder changes; the pushed image (its snapshot under the digest) must not.
    (source / "ds_serving" / "__main__.py").write_text("raise SystemExit('the folder changed after the push')\n")
    registry = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/{repository}"
    url, archive, data = world["models"][0]
    body, rows = _scoring_rows(data)
    for image in (f"{registry}:latest", f"{registry}@{digest}"):
        name = unique("ep-pin")
        world["sagemaker"].create_model(ModelName=name, ExecutionRoleArn=ROLE,
                                        PrimaryContainer={"Image": image, "ModelDataUrl": url})
        world["sagemaker"].create_endpoint_config(EndpointConfigName=name, ProductionVariants=[{
            "VariantName": "AllTraffic", "ModelName": name, "InitialInstanceCount": 1,
            "InstanceType": "ml.m5.large"}])
        world["sagemaker"].create_endpoint(EndpointName=name, EndpointConfigName=name)
        world["endpoints"].append(name)
        world["sagemaker"].get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=WAITER)
        assert _invoke(world, name, body)["predictions"] == local_predictions(archive, rows), image
