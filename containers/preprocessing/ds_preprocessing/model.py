"""The preprocessing model: a fitted scikit-learn pipeline, stored with joblib and a SHA-256 in S3 metadata."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ds_preprocessing import artifacts, reader, sample, schema, validate
from ds_preprocessing.errors import ModelError

MODEL_VERSION_METADATA_KEY = "model-version"
_UPLOAD_HINT = "re-train and upload it with `invoke model.train` (ds_preprocessing.model.upload_model)"


def build_pipeline() -> Pipeline:
    """Return the unfitted pipeline: median-impute + scale numerics, impute + one-hot categoricals."""
    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    categorical = Pipeline([
        ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
        # Categories never seen in training encode as all zeros instead of failing the run.
        ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
    ])
    columns = ColumnTransformer(
        [("num", numeric, list(schema.NUMERIC_FEATURES)), ("cat", categorical, list(schema.CATEGORICAL_FEATURES))],
        verbose_feature_names_out=False,
    )
    return Pipeline([("features", columns)])


def _model_input(rows: pd.DataFrame | pa.Table) -> pd.DataFrame:
    # Float columns and object columns with NaN for missing: SimpleImputer counts NaN as missing, not None/pd.NA.
    data: dict[str, Any] = {}
    for name in (*schema.NUMERIC_FEATURES, *schema.CATEGORICAL_FEATURES):
        column = rows[name]
        values = column.to_numpy(zero_copy_only=False) if isinstance(rows, pa.Table) else column.to_numpy()
        if name in schema.NUMERIC_FEATURES:
            data[name] = np.asarray(values, dtype="float64")
        else:
            values = np.asarray(values, dtype=object)
            data[name] = np.where(pd.isna(values), np.nan, values)
    return pd.DataFrame(data)


def train(frame: pd.DataFrame | pa.Table) -> Pipeline:
    """Fit the pipeline on typed rows (``validate.split(...).valid``, or a DataFrame with those columns)."""
    if len(frame) == 0:
        raise ValueError("cannot train the preprocessing model on zero rows")
    pipeline = build_pipeline()
    pipeline.fit(_model_input(frame))
    return pipeline


def train_on_sample(rows: int = 2000, seed: int = 0) -> Pipeline:
    """Fit the pipeline on the valid rows of ``rows`` generated sample rows."""
    # Clean rows only, so the categories the dirty rows introduce stay unseen and exercise handle_unknown.
    data = sample.generate_csv(rows, seed=seed, dirty_fraction=0.0)
    tables = [validate.split(chunk.batch).valid for chunk in reader.iter_chunks(io.BytesIO(data), "sample")]
    return train(pa.concat_tables(tables))


def feature_names(pipeline: Pipeline) -> list[str]:
    """Return the output column names of the model's features (numerics get a ``_scaled`` suffix)."""
    names = [str(n) for n in pipeline.named_steps["features"].get_feature_names_out()]
    return [f"{n}_scaled" if n in schema.NUMERIC_FEATURES else n for n in names]


def transform_matrix(pipeline: Pipeline, rows: pd.DataFrame | pa.Table) -> np.ndarray:
    """Apply the model to typed rows and return its features as a float64 matrix (same row order)."""
    try:
        return np.asarray(pipeline.transform(_model_input(rows)), dtype="float64")
    except Exception as exc:  # a model object that loads but does not fit our columns
        raise ModelError(f"model failed to transform a chunk: {type(exc).__name__}: {exc}"[:400]) from exc


def transform(pipeline: Pipeline, rows: pd.DataFrame | pa.Table) -> pd.DataFrame:
    """Apply the model to typed rows and return its features as named float64 columns."""
    return pd.DataFrame(transform_matrix(pipeline, rows), columns=feature_names(pipeline))


def dumps(pipeline: Pipeline) -> bytes:
    """Serialise the pipeline with joblib."""
    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer)
    return buffer.getvalue()


def upload_model(s3_client: Any, bucket: str, key: str, pipeline: Pipeline, version: str | None = None) -> str:
    """Upload the pipeline to ``s3://bucket/key`` with its SHA-256 (and version) in metadata; return the sha256."""
    metadata = {MODEL_VERSION_METADATA_KEY: version} if version else {}
    return artifacts.upload_artifact(s3_client, bucket, key, dumps(pipeline), metadata=metadata)


@dataclass(frozen=True)
class LoadedModel:
    """A verified, loaded model and the facts the manifest records about it."""

    pipeline: Pipeline
    bucket: str
    key: str
    sha256: str
    version: str | None
    etag: str
    version_id: str | None


def load_model(s3_client: Any, bucket: str, key: str, version: str | None = None) -> LoadedModel:
    """Download, verify (SHA-256 before unpickling: loading a pickle runs code) and load the model.

    ``version`` (the model-version parameter) wins over the version recorded in the object's metadata.
    """
    obj = artifacts.download_verified(s3_client, bucket, key, "model", ModelError, _UPLOAD_HINT)
    try:
        pipeline = joblib.load(io.BytesIO(obj.data))
    except Exception as exc:
        raise ModelError(f"model s3://{bucket}/{key} could not be loaded: {type(exc).__name__}: {exc}"[:400]) from exc
    if not isinstance(pipeline, Pipeline) or "features" not in pipeline.named_steps:
        raise ModelError(
            f"model s3://{bucket}/{key} is a {type(pipeline).__name__}, not the preprocessing Pipeline; {_UPLOAD_HINT}"
        )
    return LoadedModel(
        pipeline=pipeline, bucket=bucket, key=key, sha256=obj.sha256,
        version=version or obj.metadata.get(MODEL_VERSION_METADATA_KEY), etag=obj.etag, version_id=obj.version_id,
    )
