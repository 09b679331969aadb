"""A conftest for pytester runs: the plugin's fixtures overridden by an in-process moto 'deployment'.

The execution fixture runs the real preprocessing job in-process (``ds_preprocessing.job.run``) against
moto, so the scenarios' checks meet real job output without LocalStack. ``BREAK_JOB`` in the
environment makes the job deliberately wrong, to prove the checks catch it.
"""

CONFTEST = r'''
from __future__ import annotations

import io
import os

import boto3
import pytest
from moto import mock_aws

from harness.execution import Execution
from harness.platform import Platform

REGION = "us-east-1"
PREFIX = "/ds/preprocessing/"


@pytest.fixture(scope="session")
def _aws():
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=REGION)
    with mock_aws():
        yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


class Clients:
    def client(self, service):
        return boto3.client(service, region_name=REGION)


@pytest.fixture(scope="session")
def ds_clients(_aws):
    return Clients()


@pytest.fixture(scope="session")
def ds_platform(ds_clients):
    s3, ssm = ds_clients.client("s3"), ds_clients.client("ssm")
    names = {"input": "ds-input-dev", "output": "ds-output-dev", "artifact": "ds-artifacts-dev"}
    for name in names.values():
        s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=names["artifact"], VersioningConfiguration={"Status": "Enabled"})
    params = {"input-bucket": names["input"], "output-bucket": names["output"],
              "artifact-bucket": names["artifact"], "input-key": "raw/monthly_data.csv",
              "model-key": "models/preprocessing_model.pkl"}
    for key, value in params.items():
        ssm.put_parameter(Name=PREFIX + key, Value=value, Type="String")
    fake = "arn:aws:fake:us-east-1:123456789012:x"
    return Platform(env="dev", account_id="123456789012", region=REGION, input_bucket=names["input"],
                    output_bucket=names["output"], artifact_bucket=names["artifact"],
                    repository_name="ds-preprocessing", repository_uri="fake", ssm_prefix=PREFIX,
                    topic_arn=fake, cluster_arn=fake, cluster_name="c", task_definition_arn=fake,
                    task_role_arn=fake, execution_role_arn=fake, log_group="/ecs/ds-preprocessing",
                    container_name="preprocessing", state_machine_arn=fake, state_machine_name="sm",
                    rule_name="r", failed_alarm="a1", timed_out_alarm="a2", throttled_alarm="a3")


def _break_job(monkeypatch):
    """The job applies a subtly different scaler than the model it was given (a stale-model bug)."""
    import copy
    import dataclasses

    from ds_preprocessing import model

    original = model.load_model

    def stale(*args, **kwargs):
        loaded = original(*args, **kwargs)
        pipeline = copy.deepcopy(loaded.pipeline)
        scaler = pipeline.named_steps["features"].named_transformers_["num"].named_steps["scale"]
        scaler.mean_ = scaler.mean_ + 0.01 * scaler.scale_
        return dataclasses.replace(loaded, pipeline=pipeline)

    monkeypatch.setattr(model, "load_model", stale)


@pytest.fixture
def ds_execution(ds_platform, monkeypatch):
    from ds_preprocessing import job
    from ds_preprocessing.logs import JsonLogger

    if os.environ.get("BREAK_JOB"):
        _break_job(monkeypatch)

    def execute(run, input_key=None, wait=None, arn=None):
        run.expect_outputs()
        stream = io.StringIO()
        env = {"DS_SSM_PREFIX": ds_platform.ssm_prefix, "DS_RUN_ID": run.id, "DS_INPUT_KEY": input_key or ""}
        code = job.run(env, logger=JsonLogger(run.id, stream=stream))
        logs = stream.getvalue().splitlines()
        return Execution(arn=f"arn:fake:{run.id}", name=run.id, input=env,
                         status="SUCCEEDED" if code == 0 else "FAILED", cause=(logs or [""])[-1], logs=logs)

    return execute


@pytest.fixture(scope="session")
def trained_model():
    from ds_preprocessing.model import train_on_sample

    return train_on_sample(rows=400, seed=11)


@pytest.fixture(scope="session")
def sample_input():
    from ds_preprocessing.sample import generate_csv

    return generate_csv(150, seed=5, dirty_fraction=0.1)
'''
