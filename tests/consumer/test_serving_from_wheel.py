"""The model side from the installed wheel on the consumer's LocalStack, one flow through the venv's `invoke` only:
a project of the consumer repo (its own name, two environments in their own accounts, ``components.plugins:
[serving]``, no ``containers/serving`` of its own) synthesized and linted, refused without its model; then the
wheel's MLflow registry server started (`invoke registry.start`), the sample model fitted, registered and staged
(`invoke model.fit|register|stage`: model.tar.gz with its SHA-256 in the artifact bucket, SSM's model-version),
the serving image the wheel ships pushed and the endpoint deployed, its answers for a holdout checked against the
labels; a promotion to the next environment refused without evidence; `invoke e2e` running the wheel's serving
scenarios (harness/scenarios_serving from site-packages) against the endpoint and recording the evidence; then
`invoke model.promote` serving the tested artifact and digest in the next environment, where the registry alias and
SSM follow."""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest
import yaml

from tests.consumer.conftest import Consumer, ok
from tests.ports import free_port

pytestmark = [pytest.mark.localstack, pytest.mark.xdist_group("consumer")]  # one venv and LocalStack

PROJECT, CONFIG = "mdl", "serving.yml"
ENV, ACCOUNT = "live", "474747474747"  # where the model is staged and its scenarios run
NEXT, NEXT_ACCOUNT = "gold", "484848484848"  # the next environment: it gets the model by model.promote only
MODEL = f"{PROJECT}-model"
SCENARIOS = {"test_the_endpoint_predicts_what_the_registered_model_predicts_locally",
             "test_the_endpoint_meets_the_quality_bar_on_the_holdout",
             "test_a_bad_payload_is_a_4xx_with_the_reason",
             "test_a_blue_green_update_to_a_broken_model_fails_with_the_reason_and_the_old_model_keeps_serving",
             "test_the_registry_alias_and_the_ssm_model_version_name_the_served_version"}
# A labelled holdout from the wheel's code (the job's checks over sample input of another seed than training's),
# complete rows only: the endpoint would impute an empty field.
HOLDOUT = r"""
from pathlib import Path
from dsplatform.registry.models import sample_training_csv
header, *rows = sample_training_csv(80, 1).splitlines()
Path("build").mkdir(exist_ok=True)
Path("build/holdout.csv").write_bytes(b"\n".join([header, *[row for row in rows if all(row.split(b","))]]) + b"\n")
"""
HIGH_VALUE_AT = 100  # the sample model's label: amount x quantity >= 100 (docs/mlops.md)


def _write_config(consumer: Consumer, version: str | None = None, sha256: str | None = None) -> None:
    serving = {"model_version": version or "1", **({"model_sha256": sha256} if sha256 else {})}
    doc = {"project": {"name": PROJECT}, "localstack": {"endpoint_url": consumer.endpoint_url},
           "components": {"stock": ["storage", "alerts", "parameters"], "plugins": ["serving"]},
           "environments": {env: {"account_id": account, "region": "us-east-1", "target": "localstack",
                                  "settings": {"serving": serving}}
                            for env, account in ((ENV, ACCOUNT), (NEXT, NEXT_ACCOUNT))}}
    (consumer.repo / CONFIG).write_text(yaml.safe_dump(doc, sort_keys=False))  # the order is the promotion chain


def _printed(pattern: str, output: str) -> str:
    found = re.search(pattern, output)
    assert found, (pattern, output[-2000:])
    return found.group(1)


def _alias(registry: str, alias: str) -> str | None:
    """The version the registry's alias names, read over its REST API (None when the alias is not set)."""
    query = urllib.parse.urlencode({"name": MODEL, "alias": alias})
    try:
        with urllib.request.urlopen(f"{registry}/api/2.0/mlflow/registered-models/alias?{query}", timeout=10) as got:
            return str(json.loads(got.read())["model_version"]["version"])
    except urllib.error.HTTPError as err:
        if err.code in (400, 404):  # MLflow: RESOURCE_DOES_NOT_EXIST / INVALID_PARAMETER_VALUE for a missing alias
            return None
        raise


def _passed(junit: str) -> set[str]:
    """The scenarios' names (parameters dropped) when every case passed: no failure, error or skipped child."""
    cases = list(ET.fromstring(junit).iter("testcase"))
    assert cases and not [case.attrib["name"] for case in cases if list(case)], junit[-3000:]
    return {case.attrib["name"].split("[")[0] for case in cases}


def test_the_model_from_the_wheel_is_fitted_staged_served_tested_and_promoted(consumer: Consumer) -> None:
    assert not (consumer.repo / "containers" / "serving").exists()  # the image source is the wheel's
    registry = f"http://127.0.0.1:{free_port()}"  # a registry of this test's own (one server per port)
    consumer = replace(consumer, env={**consumer.env, "DSPLATFORM_REGISTRY_URL": registry})
    _write_config(consumer)
    options, next_options = ("--env", ENV, "--config", CONFIG), ("--env", NEXT, "--config", CONFIG)
    consumer.ok("invoke", "synth", *options)
    assert (consumer.repo / "build" / ENV / f"{PROJECT}-{ENV}-serving.json").is_file()
    consumer.ok("invoke", "lint", *options)
    refused = consumer.run("invoke", "deploy", *options)
    assert refused.returncode == 2 and f"{MODEL} v1's model.tar.gz" in refused.stderr, \
        refused.stdout[-2000:] + refused.stderr[-2000:]

    try:
        # The registry proxies its artifacts to the deployed artifact bucket; model.stage records SSM's parameter.
        consumer.ok("invoke", "deploy", *options, "--stacks", "storage,parameters")
        outputs = json.loads(consumer.ok("invoke", "outputs", *options, "--json"))
        bucket = outputs[f"{PROJECT}-{ENV}-storage"]["ArtifactBucketName"]
        started = consumer.ok("invoke", "registry.start", *options, timeout=900)
        assert f"{registry} (PID" in started and f"artifacts s3://{bucket}/mlflow" in started, started
        fitted = consumer.ok("invoke", "model.fit", *options, "--rows", "1000", timeout=900)
        run_id = _printed(r"^run (\w+): accuracy 0\.\d+ on a 25% holdout", fitted)
        registered = consumer.ok("invoke", "model.register", *options, "--run", run_id)
        version = _printed(rf"registered {MODEL} version (\d+);", registered)  # 1 unless the port's store is old
        staged = consumer.ok("invoke", "model.stage", *options, "--version", version)
        sha256 = _printed(r"\(sha256 ([0-9a-f]{64})\)", staged)
        s3 = consumer.client("s3", ACCOUNT)
        key = f"models/{MODEL}/{version}/model.tar.gz"
        assert s3.head_object(Bucket=bucket, Key=key)["Metadata"]["sha256"] == sha256
        parameter = outputs[f"{PROJECT}-{ENV}-parameters"]["ParameterPrefix"] + "model-version"
        assert consumer.client("ssm", ACCOUNT).get_parameter(Name=parameter)["Parameter"]["Value"] == \
            f"models:/{MODEL}/{version}"
        assert _alias(registry, "staging") == version

        _write_config(consumer, version, sha256)  # the container checks the SHA-256 before loading
        consumer.ok("invoke", "image.push", *options)
        consumer.ok("invoke", "deploy", *options, timeout=900)  # it maps the image to its folder on LocalStack
        serving = json.loads(consumer.ok("invoke", "outputs", *options, "--json"))[f"{PROJECT}-{ENV}-serving"]

        # The Model names the pushed image by digest, and that image is the wheel's containers/serving.
        pushed = consumer.client("ecr", ACCOUNT).describe_images(repositoryName=f"{PROJECT}-serving")["imageDetails"]
        model = consumer.client("sagemaker", ACCOUNT).describe_model(ModelName=serving["ModelName"])
        folder, shipped = consumer.shipped_image("serving")
        assert "site-packages" in folder
        assert [model["PrimaryContainer"]["Image"].rsplit("@", 1)[1]] == [i["imageDigest"] for i in pushed] == [shipped]

        consumer.ok("python", "-c", HOLDOUT)
        holdout = (consumer.repo / "build" / "holdout.csv").read_bytes()
        answer = consumer.client("sagemaker-runtime", ACCOUNT).invoke_endpoint(
            EndpointName=serving["EndpointName"], ContentType="text/csv", Accept="application/json", Body=holdout)
        served = json.loads(answer["Body"].read())["predictions"]
        rows = list(csv.DictReader(io.StringIO(holdout.decode())))
        labels = [int(float(r["amount"]) * float(r["quantity"]) >= HIGH_VALUE_AT) for r in rows]
        assert len(served) == len(labels) and 0 < sum(labels) < len(labels)  # one answer per row; both classes
        accuracy = sum(p == y for p, y in zip(served, labels, strict=True)) / len(labels)
        assert accuracy >= 0.9, (accuracy, served, labels)  # the trained model answers, not a constant

        # No serving scenarios have passed in live yet: the promotion is refused, one line, and gold stays empty.
        unproven = consumer.run("invoke", "model.promote", "--from", ENV, "--to", NEXT, "--yes", "--config", CONFIG)
        assert unproven.returncode == 2, unproven.stdout[-2000:] + unproven.stderr[-2000:]
        assert f"no passing {ENV} e2e record covers {MODEL} v{version}" in unproven.stderr, unproven.stderr[-2000:]
        assert [s for s in consumer.client("cloudformation", NEXT_ACCOUNT).describe_stacks()["Stacks"]
                if s["StackStatus"] != "DELETE_COMPLETE"] == []

        # The wheel's serving scenarios against the deployed endpoint; their pass is recorded as the evidence.
        e2e = consumer.run("invoke", "e2e", *options, "--stacks", "serving,parameters", "--keep", timeout=900)
        ok(e2e)
        junit = (consumer.repo / "build" / "reports" / "junit.xml").read_text()
        assert _passed(junit) == SCENARIOS, junit[-3000:]

        promoted = consumer.ok("invoke", "model.promote", "--from", ENV, "--to", NEXT, "--yes", "--config", CONFIG,
                               timeout=900)
        digest = model["PrimaryContainer"]["Image"].rsplit("@", 1)[1]
        assert f"promoted {MODEL} v{version} {ENV} -> {NEXT} (image {digest}" in promoted, promoted[-2000:]
        gold = json.loads(consumer.ok("invoke", "outputs", *next_options, "--json"))
        gold_model = consumer.client("sagemaker", NEXT_ACCOUNT).describe_model(
            ModelName=gold[f"{PROJECT}-{NEXT}-serving"]["ModelName"])["PrimaryContainer"]
        assert gold_model["Image"].endswith(f"@{digest}")  # the tested digest, pushed to gold's own repository
        gold_bucket, gold_key = gold_model["ModelDataUrl"][len("s3://"):].split("/", 1)
        copied = consumer.client("s3", NEXT_ACCOUNT).get_object(Bucket=gold_bucket, Key=gold_key)
        assert (gold_key, copied["Metadata"]["sha256"]) == (key, sha256)
        gold_answer = consumer.client("sagemaker-runtime", NEXT_ACCOUNT).invoke_endpoint(
            EndpointName=gold[f"{PROJECT}-{NEXT}-serving"]["EndpointName"], ContentType="text/csv", Body=holdout)
        assert json.loads(gold_answer["Body"].read())["predictions"] == served
        gold_parameter = gold[f"{PROJECT}-{NEXT}-parameters"]["ParameterPrefix"] + "model-version"
        assert consumer.client("ssm", NEXT_ACCOUNT).get_parameter(Name=gold_parameter)["Parameter"]["Value"] == \
            f"models:/{MODEL}/{version}"
        assert _alias(registry, "production") == version
    finally:
        destroyed = [consumer.run("invoke", "destroy", "--env", env, "--config", CONFIG, "--purge-data", "--json",
                                  timeout=900) for env in (NEXT, ENV)]
        stopped = consumer.run("invoke", "registry.stop")
    for result in (*destroyed, stopped):
        ok(result)
