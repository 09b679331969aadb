"""Data and model for the deployed job: train and upload the model, make and upload sample input.

Bucket names and keys are read from the deployed environment (stack outputs and the job's SSM
parameters), never from local config, so the files land exactly where the job will look.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsplatform.errors import DsPlatformError
from dsplatform.stackspec import Plan


class ForeignArtifactBucketError(DsPlatformError):
    """The environment reads its models from another environment's bucket; upload there instead."""

    exit_code = 2


@dataclass(frozen=True)
class JobLocations:
    """Where the deployed job reads: its SSM settings and its environment's own artifact bucket."""

    settings: dict[str, str]
    own_artifact_bucket: str

    def get(self, key: str) -> str:
        """One required setting, e.g. ``model-key``."""
        return self.settings[key]


def job_locations(plan: Plan, clients: Any) -> JobLocations:
    """Read the job's SSM parameters (under the deployed prefix) and this environment's artifact bucket."""
    from blueprints.parameters import ParametersOutputs
    from blueprints.storage import StorageOutputs
    from dsplatform.deployer.outputs import read_deployed

    deployed = read_deployed(plan, clients)
    prefix = deployed.get(ParametersOutputs).parameter_prefix
    pages = clients.client("ssm").get_paginator("get_parameters_by_path").paginate(Path=prefix, Recursive=False)
    settings = {p["Name"][len(prefix):]: p["Value"] for page in pages for p in page["Parameters"]}
    return JobLocations(settings=settings, own_artifact_bucket=deployed.get(StorageOutputs).artifact_bucket_name)


def job_code(plan: Plan | None = None, module: str = "ds_preprocessing") -> Any:
    """The stock job's own package (its schema, model and sample code), imported from its image source.

    The job is not a dependency of dsplatform: its code lives in the image's source folder (the plan's, else
    the project's ``containers/preprocessing`` under the cwd, else the copy dsplatform ships), which is put on
    ``sys.path`` (once) when the package is not installed.
    """
    from dsplatform.components.model import Image
    from dsplatform.components.stock._pipeline import JOB

    sources = [str(image.source) for image in (plan.images if plan else ()) if image.job == JOB]
    if plan is None:
        sources = [str(Image(JOB, bundled=True).source_dir(Path.cwd()))]
    for source in sources:
        if source not in sys.path:
            sys.path.append(source)
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise DsPlatformError(f"the job's package {module!r} cannot be imported ({err}); it lives in the job's "
                              f"image source ({', '.join(sources) or 'containers/' + JOB}) under the project "
                              f"root") from err


def job_module(name: str, plan: Plan | None = None) -> Any:
    """One module of the stock job's package, e.g. ``job_module("model").train_on_sample``."""
    return importlib.import_module(f"{job_code(plan).__name__}.{name}")


def train_and_upload(plan: Plan, clients: Any, rows: int = 2000, seed: int = 0) -> tuple[str, str, str]:
    """Fit the model on generated sample data and upload it with its SHA-256; return (bucket, key, sha256)."""
    model = job_module("model", plan)
    where = job_locations(plan, clients)
    bucket, key = where.get("artifact-bucket"), where.get("model-key")
    if bucket != where.own_artifact_bucket:
        raise ForeignArtifactBucketError(
            f"{plan.target.env} reads models from {bucket!r}, another environment's artifact bucket; train and "
            f"upload there with the owning environment (settings.parameters.artifacts_from), e.g. "
            f"invoke model.train --env stg")
    pipeline = model.train_on_sample(rows=rows, seed=seed)
    version = where.settings.get("model-version")
    sha = model.upload_model(clients.client("s3"), bucket, key, pipeline, version=version)
    return bucket, key, sha


def provide_model(plan: Plan, clients: Any) -> None:
    """A ``Requirement.provide`` hook: fit the model on sample data and upload it (test environments)."""
    train_and_upload(plan, clients)


def sample_csv(rows: int, seed: int = 0, dirty_fraction: float = 0.05, plan: Plan | None = None) -> bytes:
    """Realistic sample input with dirty rows (see docs/job.md for the schema)."""
    sample = job_module("sample", plan)
    return sample.generate_csv(rows, seed=seed, dirty_fraction=dirty_fraction)


def upload_sample(plan: Plan, clients: Any, data: bytes | Path, key: str | None = None) -> tuple[str, str]:
    """Upload sample input (bytes, or a file streamed from disk) to the deployed input bucket at ``key``."""
    where = job_locations(plan, clients)
    bucket, key = where.get("input-bucket"), key or where.get("input-key")
    if isinstance(data, Path):
        with data.open("rb") as body:
            clients.client("s3").put_object(Bucket=bucket, Key=key, Body=body)
    else:
        clients.client("s3").put_object(Bucket=bucket, Key=key, Body=data)
    return bucket, key


def check_sample_out(raw: str) -> Path:
    """``raw`` as a path a file can be written to; UsageError naming --out and the fix otherwise (nothing created)."""
    from dsplatform.display import shown
    from dsplatform.errors import UsageError

    out = Path(raw)
    if not raw.strip() or out.name in ("", ".", ".."):
        raise UsageError(f"--out {shown(raw)} is not a file name; e.g. --out build/sample/monthly_data.csv")
    if out.is_dir():
        raise UsageError(f"--out {str(out)!r} is a folder; give a file path such as {out / 'monthly_data.csv'}")
    for parent in out.parents:
        if parent.exists() and not parent.is_dir():
            raise UsageError(f"--out {str(out)!r}: {str(parent)!r} is a file, not a folder; choose another path")
        if parent.is_dir():
            import os

            if not os.access(parent, os.W_OK):
                raise UsageError(f"--out {str(out)!r}: folder {str(parent)!r} is not writable; choose another path")
            break
    return out


def write_sample_stream(out: Path, rows: int, seed: int = 0, dirty_fraction: float = 0.05) -> Path:
    """Write sample input to ``out`` chunk by chunk (never whole in memory); a partial file never remains."""
    import os
    import tempfile

    sample = job_module("sample")  # from the job's image source: the wheel holds no ds_preprocessing package
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    except OSError as exc:
        raise DsPlatformError(f"--out {str(out)!r}: cannot write there ({exc.strerror}); choose another path") from None
    try:
        with os.fdopen(handle, "wb") as file:
            for chunk in sample.generate_csv_chunks(rows, seed=seed, dirty_fraction=dirty_fraction):
                file.write(chunk)
        os.replace(temp, out)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return out
