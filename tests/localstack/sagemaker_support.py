"""Models for the SageMaker tests: real MLflow pyfunc archives built in the registry venv, and a broken one."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

from dsplatform.registry.models import run_ops, sample_training_csv

SERVING_SOURCE = Path(__file__).resolve().parents[2] / "containers" / "serving"
IMAGE = "000000000000.dkr.ecr.us-east-1.localhost.localstack.cloud:4566/ds-serving:latest"  # -> containers/serving
ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"
WAITER = {"Delay": 1, "MaxAttempts": 900}  # the first endpoint waits for the serving image's venv (pip)


def register_serving_image(localstack: Any) -> None:
    """Map repository ds-serving to containers/serving on the session's instance (not a stock component's image)."""
    from dsplatform.localstack import register_image_sources
    from tests.localstack.support import settings_for

    register_image_sources(settings_for(localstack), {"ds-serving": SERVING_SOURCE})


def train_archive(folder: Path, seed: int = 0) -> tuple[Path, Path]:
    """(model.tar.gz of the sample model, the CSV it was trained on), without a registry server."""
    data = folder / f"train-{seed}.csv"
    data.write_bytes(sample_training_csv(rows=600, seed=seed))
    out = folder / f"model-{seed}.tar.gz"
    run_ops("file:///nonexistent", "save", "--data", str(data), "--out", str(out), "--seed", str(seed))
    return out, data


def local_predictions(archive: Path, data: Path) -> list[int]:
    """The archive's predictions for the CSV, computed with MLflow directly (what the endpoint must answer)."""
    return list(run_ops("file:///nonexistent", "predict", "--model", str(archive), "--data", str(data))["predictions"])


def broken_archive() -> bytes:
    """A model.tar.gz whose MLmodel names a flavour whose pickle is garbage: loading it fails."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in (("MLmodel", b"flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n"
                                          b"    model_path: model.pkl\n    python_version: 3.11.7\n"),
                              ("model.pkl", b"not a pickle")):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def create_model(sagemaker: Any, name: str, model_data_url: str, image: str = IMAGE) -> None:
    """CreateModel + CreateEndpointConfig (variant named like the model) under the same name."""
    sagemaker.create_model(ModelName=name, ExecutionRoleArn=ROLE,
                           PrimaryContainer={"Image": image, "ModelDataUrl": model_data_url})
    sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[{
        "VariantName": name[-20:], "ModelName": name, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
