"""The serving component end to end: the endpoint answers as the registered model does, measures up to the
quality bar, refuses bad payloads with the reason, survives a broken blue/green update, and agrees with SSM."""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dsplatform.registry.models import run_ops
from dsplatform.registry.scoring import accuracy, holdout, invoke_csv

WAIT = {"Delay": 2, "MaxAttempts": 300}


@pytest.fixture(scope="module")
def rows() -> tuple[bytes, list[int]]:
    """A labelled holdout the model was not trained on (the job's checks over another seed's sample input)."""
    return holdout()


def test_the_endpoint_predicts_what_the_registered_model_predicts_locally(serving: Any, rows: Any) -> None:
    body, _ = rows
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "holdout.csv"
        data.write_bytes(body)
        local = run_ops(serving.registry_uri, "predict", "--model",
                        f"models:/{serving.registered_name}/{serving.version}", "--data", str(data))["predictions"]
    answered = invoke_csv(serving.runtime, serving.endpoint, body)
    assert 0 < sum(local) < len(local)  # both classes: equal lists are no coincidence
    assert answered == local


def test_the_endpoint_meets_the_quality_bar_on_the_holdout(
        serving: Any, rows: Any, ds_metric: Callable[[str, float], None]) -> None:
    """The measured accuracy is the evidence `invoke model.promote` reads (serving.accuracy in the e2e record)."""
    body, labels = rows
    score = accuracy(invoke_csv(serving.runtime, serving.endpoint, body), labels)
    ds_metric("serving.accuracy", score)
    assert score >= serving.min_accuracy, (
        f"serving.accuracy {score:.3f} is below settings.serving.min_accuracy {serving.min_accuracy}")


@pytest.mark.parametrize(("body", "content_type", "reason"), [
    (b"{oops", "application/json", "not valid JSON"),
    (b"amount,quantity\n1,2\n", "text/csv", "category"),
    (b"<xml/>", "application/xml", "application/xml"),
])
def test_a_bad_payload_is_a_4xx_with_the_reason(serving: Any, body: bytes, content_type: str, reason: str) -> None:
    with pytest.raises(ClientError) as caught:
        serving.runtime.invoke_endpoint(EndpointName=serving.endpoint, Body=body, ContentType=content_type)
    message = caught.value.response["Error"]["Message"]
    assert caught.value.response["Error"]["Code"] == "ModelError"
    assert "Received client error (4" in message, message
    assert reason in message, message


def _broken_archive() -> bytes:
    """A model.tar.gz whose pickle is garbage: the serving process cannot load it and never answers /ping."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in (("MLmodel", b"flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n"
                                          b"    model_path: model.pkl\n"), ("model.pkl", b"not a pickle")):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


@pytest.fixture
def broken_config(serving: Any) -> Iterator[str]:
    """A model and endpoint config like the served one but with a broken model.tar.gz; removed afterwards."""
    served = serving.sagemaker.describe_model(ModelName=serving.model_name)
    bucket = serving.model_data_url.split("/", 3)[2]
    name = f"{serving.endpoint}-broken-{uuid.uuid4().hex[:6]}"
    key = f"scenarios/{name}/model.tar.gz"
    serving.s3.put_object(Bucket=bucket, Key=key, Body=_broken_archive())
    container = {**served["PrimaryContainer"], "ModelDataUrl": f"s3://{bucket}/{key}"}
    serving.sagemaker.create_model(ModelName=name, ExecutionRoleArn=served["ExecutionRoleArn"],
                                   PrimaryContainer=container)
    serving.sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": name, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
    yield name
    serving.sagemaker.delete_endpoint_config(EndpointConfigName=name)
    serving.sagemaker.delete_model(ModelName=name)
    serving.s3.delete_object(Bucket=bucket, Key=key)


def test_a_blue_green_update_to_a_broken_model_fails_with_the_reason_and_the_old_model_keeps_serving(
        serving: Any, rows: Any, broken_config: str) -> None:
    body, _ = rows
    before = invoke_csv(serving.runtime, serving.endpoint, body)
    config = serving.sagemaker.describe_endpoint(EndpointName=serving.endpoint)["EndpointConfigName"]
    serving.sagemaker.update_endpoint(EndpointName=serving.endpoint, EndpointConfigName=broken_config)
    deadline = time.monotonic() + WAIT["Delay"] * WAIT["MaxAttempts"]
    described = serving.sagemaker.describe_endpoint(EndpointName=serving.endpoint)
    while described["EndpointStatus"] == "Updating" and time.monotonic() < deadline:
        assert invoke_csv(serving.runtime, serving.endpoint, body) == before  # blue serves during the update
        time.sleep(WAIT["Delay"])
        described = serving.sagemaker.describe_endpoint(EndpointName=serving.endpoint)
    assert described["EndpointStatus"] == "InService", described
    assert described["EndpointConfigName"] == config
    assert "Update failed and was rolled back" in described.get("FailureReason", "")
    assert "cannot load the MLflow model" in described["FailureReason"]
    assert invoke_csv(serving.runtime, serving.endpoint, body) == before


def test_the_registry_alias_and_the_ssm_model_version_name_the_served_version(serving: Any) -> None:
    aliased = run_ops(serving.registry_uri, "alias", "--name", serving.registered_name, "--alias", serving.alias)
    parameter = serving.ssm.get_parameter(Name=serving.parameter)["Parameter"]["Value"]
    assert aliased["version"] == serving.version, aliased
    assert parameter == f"models:/{serving.registered_name}/{serving.version}"
    served = serving.sagemaker.describe_model(ModelName=serving.model_name)["PrimaryContainer"]
    assert "@sha256:" in served["Image"]  # the image by digest, as pushed
    assert json.dumps(served).count(serving.version) >= 1
