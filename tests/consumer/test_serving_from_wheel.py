"""The serving component from the installed wheel on the consumer's LocalStack: a project of the consumer repo (its
own name and account, ``components.plugins: [serving]``, no ``containers/serving`` of its own) synthesized and
linted, refused without its model, then served: the sample model saved by the wheel's registry script
(dsplatform/registry/mlflow_ops.py, run in the registry venv), the serving image the wheel ships pushed with
`invoke image.push`, the endpoint deployed with `invoke deploy` and asked for a holdout's predictions, which must
match the holdout's labels (accuracy >= 0.9, both classes present). The registry server, `model.fit|register|stage`,
equality with the model's local predictions and the serving scenarios are the in-repo tests'
(tests/integration/test_serving_promotion.py, tests/localstack/test_sagemaker_endpoints.py)."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest
import yaml

from tests.consumer.conftest import Consumer, ok

pytestmark = [pytest.mark.localstack, pytest.mark.xdist_group("consumer")]  # one venv and LocalStack

PROJECT, ENV, ACCOUNT, VERSION = "mdl", "live", "474747474747", "1"
CONFIG = "serving.yml"
# The model from the wheel's code: trained on the job's checks over generated sample input (the job's image source,
# shipped in the wheel) by mlflow_ops in the registry venv. The holdout keeps complete rows only (the endpoint would
# impute an empty field); the in-repo SageMaker tests compare answers with the model's local predictions.
MAKE_MODEL = r"""
from pathlib import Path
from dsplatform.registry.models import run_ops, sample_training_csv
Path("build").mkdir(exist_ok=True)
Path("build/train.csv").write_bytes(sample_training_csv(400, 0))
header, *rows = sample_training_csv(80, 1).splitlines()
Path("build/holdout.csv").write_bytes(b"\n".join([header, *[row for row in rows if all(row.split(b","))]]) + b"\n")
run_ops("file:///nonexistent", "save", "--data", "build/train.csv", "--out", "build/model.tar.gz", "--seed", "0")
"""
HIGH_VALUE_AT = 100  # the sample model's label: amount x quantity >= 100 (docs/mlops.md)


def _write_config(consumer: Consumer, sha256: str | None = None) -> None:
    serving = {"model_version": VERSION, **({"model_sha256": sha256} if sha256 else {})}
    doc = {"project": {"name": PROJECT}, "localstack": {"endpoint_url": consumer.endpoint_url},
           "components": {"stock": ["storage", "alerts"], "plugins": ["serving"]},
           "environments": {ENV: {"account_id": ACCOUNT, "region": "us-east-1", "target": "localstack",
                                  "settings": {"serving": serving}}}}
    (consumer.repo / CONFIG).write_text(yaml.safe_dump(doc))


def test_serving_from_the_wheel_lints_refuses_without_its_model_then_serves_the_trained_model(
        consumer: Consumer) -> None:
    assert not (consumer.repo / "containers" / "serving").exists()  # the image source is the wheel's
    _write_config(consumer)
    options = ("--env", ENV, "--config", CONFIG)
    consumer.ok("invoke", "synth", *options)
    assert (consumer.repo / "build" / ENV / f"{PROJECT}-{ENV}-serving.json").is_file()
    consumer.ok("invoke", "lint", *options)
    refused = consumer.run("invoke", "deploy", *options)
    assert refused.returncode == 2 and f"{PROJECT}-model v{VERSION}'s model.tar.gz" in refused.stderr, \
        refused.stdout[-2000:] + refused.stderr[-2000:]

    consumer.ok("python", "-c", MAKE_MODEL, timeout=900)
    archive = (consumer.repo / "build" / "model.tar.gz").read_bytes()
    _write_config(consumer, hashlib.sha256(archive).hexdigest())  # the container checks it before loading
    try:
        consumer.ok("invoke", "deploy", *options, "--stacks", "storage")
        outputs = json.loads(consumer.ok("invoke", "outputs", *options, "--json"))
        consumer.client("s3", ACCOUNT).put_object(Bucket=outputs[f"{PROJECT}-{ENV}-storage"]["ArtifactBucketName"],
                                           Key=f"models/{PROJECT}-model/{VERSION}/model.tar.gz", Body=archive)
        consumer.ok("invoke", "image.push", *options)
        consumer.ok("invoke", "deploy", *options, timeout=900)  # it maps the image to its folder on LocalStack
        serving = json.loads(consumer.ok("invoke", "outputs", *options, "--json"))[f"{PROJECT}-{ENV}-serving"]

        # The Model names the pushed image by digest, and that image is the wheel's containers/serving.
        pushed = consumer.client("ecr", ACCOUNT).describe_images(repositoryName=f"{PROJECT}-serving")["imageDetails"]
        model = consumer.client("sagemaker", ACCOUNT).describe_model(ModelName=serving["ModelName"])
        folder, shipped = consumer.shipped_image("serving")
        assert "site-packages" in folder
        assert [model["PrimaryContainer"]["Image"].rsplit("@", 1)[1]] == [i["imageDigest"] for i in pushed] == [shipped]

        holdout = (consumer.repo / "build" / "holdout.csv").read_bytes()
        answer = consumer.client("sagemaker-runtime", ACCOUNT).invoke_endpoint(
            EndpointName=serving["EndpointName"], ContentType="text/csv", Accept="application/json", Body=holdout)
        served = json.loads(answer["Body"].read())["predictions"]
        rows = list(csv.DictReader(io.StringIO(holdout.decode())))
        labels = [int(float(r["amount"]) * float(r["quantity"]) >= HIGH_VALUE_AT) for r in rows]
        assert len(served) == len(labels) and 0 < sum(labels) < len(labels)  # one answer per row; both classes
        accuracy = sum(p == y for p, y in zip(served, labels, strict=True)) / len(labels)
        assert accuracy >= 0.9, (accuracy, served, labels)  # the trained model answers, not a constant
    finally:
        destroyed = consumer.run("invoke", "destroy", *options, "--purge-data", "--json", timeout=900)
    ok(destroyed)
