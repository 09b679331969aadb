"""The real API image (containers/api) as a load-balanced ECS service on LocalStack: the job's results online."""

from __future__ import annotations

import io
import json
import math
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tests.localstack.alb_support import Web, create_web
from tests.localstack.support import ACCOUNT, settings_for, unique

pytestmark = pytest.mark.localstack
API_FOLDER = Path(__file__).resolve().parents[2] / "containers" / "api"
CSV = "id,event_date,amount,quantity,category,region,description\n7,2026-01-15,9.5,2,toys,west,hello\n"
RECORD = {
    "id": 7,
    "event_date": "2026-01-15",
    "amount": 9.5,
    "quantity": 2,
    "category": "toys",
    "region": "west",
    "description": "hello",
}


@pytest.fixture(scope="module")
def api(localstack: Any) -> Iterator[tuple[Web, Any]]:
    """Two tasks of the API image behind a local ALB, serving a model trained on the job's sample data."""
    from ds_preprocessing.model import train_on_sample, upload_model

    from dsplatform.localstack import register_image_sources, wait_for_images

    settings = settings_for(localstack)
    register_image_sources(settings, {"ds-api-it": API_FOLDER})
    assert wait_for_images(settings)["ds-api-it"].startswith("ready")
    s3, ssm, ecs = (localstack.client(s, ACCOUNT) for s in ("s3", "ssm", "ecs"))
    bucket, prefix = unique("api-artifacts"), f"/{unique('apitest')}/preprocessing/"
    s3.create_bucket(Bucket=bucket)
    pipeline = train_on_sample(rows=300)
    upload_model(s3, bucket, "models/m.joblib", pipeline, version="meta")
    for name, value in {"artifact-bucket": bucket, "model-key": "models/m.joblib", "model-version": "v-it"}.items():
        ssm.put_parameter(Name=prefix + name, Value=value, Type="String")
    task_def = ecs.register_task_definition(
        family=unique("api"),
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="512",
        memory="1024",
        containerDefinitions=[
            {
                "name": "web",
                "image": f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/ds-api-it:latest",
                "essential": True,
                "portMappings": [{"containerPort": 8080}],
                "environment": [
                    {"name": "DS_SSM_PREFIX", "value": prefix},
                    {"name": "DS_MAX_BODY_BYTES", "value": "4096"},
                ],
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    # The grace period covers the start-up: importing pandas/scikit-learn and verifying the model take seconds.
    webs = create_web(localstack, ACCOUNT, task_def, grace=120)
    web = next(webs)
    try:
        web.wait_stable()
        yield web, pipeline
    finally:
        next(webs, None)


def _post(url: str, body: bytes) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def test_records_through_the_alb_get_the_features_the_batch_job_computes(api: tuple[Web, Any]) -> None:
    from ds_preprocessing import process, reader, validate

    web, pipeline = api
    chunks = list(reader.iter_chunks(io.BytesIO(CSV.encode()), "it"))
    batch = process.to_output(pa.concat_tables([validate.split(c.batch).valid for c in chunks]), pipeline).to_pylist()
    status, body = _post(web.url + "/v1/transform", json.dumps({"records": [RECORD]}).encode())
    assert status == 200, body
    assert body["model"]["version"] == "v-it"
    online = body["records"][0]
    for name, value in batch[0].items():
        if isinstance(value, float):
            assert math.isclose(online[name], value, rel_tol=1e-12, abs_tol=1e-12), name
    status, body = _post(web.url + "/v1/transform", json.dumps({**RECORD, "amount": "abc"}).encode())
    assert status == 422 and body["detail"][0]["field"] == "amount" and body["detail"][0]["rule"] == "bad_amount"
    status, _ = _post(web.url + "/v1/transform", json.dumps([RECORD] * 40).encode())
    assert status == 413
