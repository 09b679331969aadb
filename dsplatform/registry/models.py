"""The sample predictive model's life in the registry: fit, register, stage (alias + model.tar.gz + SSM).

MLflow itself runs in the registry's venv (``mlflow_ops.py``); this side prepares data, uploads the exported
archive to the environment's artifact bucket and records the staged version in SSM.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsplatform.registry.errors import RegistryError, RegistryUsageError
from dsplatform.registry.settings import RegistrySettings
from dsplatform.registry.venv import ensure_venv

OPS_SCRIPT = Path(__file__).with_name("mlflow_ops.py")
MODEL_VERSION_PARAMETER = "model-version"  # the parameters stack's key under the job's SSM prefix
TRAINING_COLUMNS = ("amount", "quantity", "category", "region")
SHA_METADATA_KEY = "sha256"


@dataclass(frozen=True)
class FitResult:
    """A training run in the registry: its id, holdout accuracy and row count."""

    run_id: str
    accuracy: float
    rows: int


@dataclass(frozen=True)
class StagedModel:
    """A version under the staging alias, exported for SageMaker, and where SSM records it."""

    name: str
    version: str
    alias: str
    model_data_url: str
    sha256: str
    parameter: str


def run_ops(uri: str, *args: str, settings: RegistrySettings | None = None) -> dict[str, Any]:
    """Run one ``mlflow_ops`` command in the registry venv against ``uri``; its JSON result or a one-line error."""
    venv = ensure_venv(settings or RegistrySettings(artifacts_destination=""))
    result = subprocess.run([str(venv / "bin" / "python"), str(OPS_SCRIPT), "--uri", uri, *args],
                            capture_output=True, text=True, check=False)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    try:
        data = json.loads(lines[-1]) if lines else None
    except ValueError:
        data = None
    if isinstance(data, dict) and "error" in data:
        raise RegistryUsageError(str(data["error"]))
    if result.returncode != 0 or not isinstance(data, dict):
        tail = " | ".join(result.stderr.strip().splitlines()[-3:])
        raise RegistryError(f"mlflow {args[0]} failed against {uri} (exit {result.returncode}): {tail}")
    return data


def sample_training_csv(rows: int = 2000, seed: int = 0) -> bytes:
    """The job's output for generated sample input: the valid rows' feature columns, checked row by row."""
    from dsplatform.jobdata import job_module

    # The job's own code, from its image source (an installed wheel has no ds_preprocessing package).
    sample, schema = job_module("sample"), job_module("schema")

    reader = csv.DictReader(io.StringIO(sample.generate_csv(rows, seed=seed).decode("utf-8")))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=TRAINING_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in reader:
        if None not in row and not schema.validate_row(row):  # a None key is a row with extra fields
            writer.writerow(row)
    return out.getvalue().encode("utf-8")


def fit(uri: str, data: bytes, experiment: str, seed: int = 0) -> FitResult:
    """Train the sample model on job output (CSV bytes) and log it, with its holdout accuracy, to the registry."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "output.csv"
        path.write_bytes(data)
        result = run_ops(uri, "fit", "--data", str(path), "--experiment", experiment, "--seed", str(seed))
    return FitResult(str(result["run_id"]), float(result["accuracy"]), int(result["rows"]))


def register(uri: str, run_id: str, name: str) -> str:
    """Register the run's model as a new version of ``name``; return the version."""
    return str(run_ops(uri, "register", "--run", run_id, "--name", name)["version"])


def model_key(name: str, version: str) -> str:
    """Artifact-bucket key of an exported version (the serving component reads the same key)."""
    from dsplatform.components.serving import model_key as serving_key

    return serving_key(name, version)


def parameter_value(name: str, version: str) -> str:
    """What the SSM model-version parameter holds for a version: ``models:/<name>/<version>``."""
    return f"models:/{name}/{version}"


def tasks_own_parameter(env: str, configured: str | None, name: str, version: str) -> bool:
    """Who writes the SSM model-version parameter: one source of truth per environment.

    With ``settings.parameters.model_version`` set, the parameters stack owns it (every deploy writes the
    configured value): the model tasks then write nothing and refuse a version the config does not name, since the
    next deploy would set the parameter back. Unset, the parameters stack leaves it alone and the tasks own it.
    """
    if configured is None:
        return True
    wanted = parameter_value(name, version)
    if configured != wanted:
        raise RegistryUsageError(
            f"environments.{env}.settings.parameters.model_version is {configured!r}: the parameters stack owns the "
            f"SSM model-version, so {name} v{version} would be set back by the next deploy; set it to {wanted!r} "
            f"and deploy first, or remove the key so the model tasks record the version")
    return False


def stage(plan: Any, clients: Any, uri: str, name: str, version: str,
          configured_parameter: str | None = None) -> StagedModel:
    """Alias the version ``staging``, upload its model.tar.gz (with SHA-256) and record it in SSM.

    ``configured_parameter`` is the environment's ``settings.parameters.model_version``: when set, the parameters
    stack owns SSM's model-version (``tasks_own_parameter``), checked before anything changes.
    """
    from dsplatform.jobdata import job_locations

    write_parameter = tasks_own_parameter(plan.target.env, configured_parameter, name, version)
    where = job_locations(plan, clients)
    bucket = where.own_artifact_bucket
    alias = str(run_ops(uri, "stage", "--name", name, "--version", version)["alias"])
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "model.tar.gz"
        exported = run_ops(uri, "export", "--name", name, "--version", version, "--out", str(archive))
        sha = hashlib.sha256(archive.read_bytes()).hexdigest()
        if sha != exported["sha256"]:
            raise RegistryError(f"model.tar.gz of {name} v{version} changed after export; export again")
        key = model_key(name, version)
        clients.client("s3").upload_file(str(archive), bucket, key, ExtraArgs={
            "Metadata": {SHA_METADATA_KEY: sha, "model-version": f"{name}/{version}"},
            "ContentType": "application/gzip"})
    url = f"s3://{bucket}/{key}"
    run_ops(uri, "tag", "--name", name, "--version", version, f"model_data_url={url}", f"sha256={sha}")
    parameter = _parameter_name(plan, clients)
    if write_parameter:
        clients.client("ssm").put_parameter(Name=parameter, Value=parameter_value(name, version), Type="String",
                                            Overwrite=True, Description="dsplatform: the staged model version")
    return StagedModel(name, version, alias, url, sha, parameter)


def _parameter_name(plan: Any, clients: Any) -> str:
    from blueprints.parameters import ParametersOutputs
    from dsplatform.deployer.outputs import read_deployed

    return str(read_deployed(plan, clients).get(ParametersOutputs).parameter_prefix) + MODEL_VERSION_PARAMETER


def check_name(name: str) -> str:
    """A registered model name the registry and S3 keys accept; RegistryUsageError naming the fix otherwise."""
    if not name or len(name) > 100 or not all(c.isalnum() or c in "-_." for c in name):
        raise RegistryUsageError(f"--name {name!r} is not a model name; use letters, digits and - _ . (<= 100), "
                                 f"e.g. ds-model")
    return name
