"""The model's transform with Arrow and numpy from the fitted parameters, for the pipeline build_pipeline makes.

scikit-learn's transform of a chunk validates, copies and looks up each category string in Python objects;
it was half of the job's time. For a pipeline of exactly the shape ``model.build_pipeline`` builds (impute +
scale numerics, impute + one-hot categoricals), the same arithmetic on the fitted statistics gives the same
float64 values (the same operations in the same order) at a fraction of the cost. Any other shape, or a
setting this module does not reproduce, returns ``None`` from ``compile_pipeline`` and the job keeps using
scikit-learn. Tests compare both on edge data value by value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ds_preprocessing import schema


@dataclass(frozen=True)
class _Numeric:
    name: str
    fill: float
    mean: float | None
    scale: float | None


@dataclass(frozen=True)
class _OneHot:
    name: str
    fill: str
    categories: pa.Array


@dataclass(frozen=True)
class FastTransform:
    """Fitted parameters in transform order; ``onehot_columns`` are the output indexes holding only 0.0 or 1.0."""

    steps: tuple[_Numeric | _OneHot, ...]
    width: int
    onehot_columns: frozenset[int]

    def columns(self, rows: pa.Table) -> list[pa.Array]:
        """Return the features of typed valid rows as float64 arrays, in the model's output order."""
        out: list[pa.Array] = []
        for step in self.steps:
            if isinstance(step, _Numeric):
                values = rows.column(step.name).to_numpy(zero_copy_only=False).astype(np.float64, copy=True)
                values[np.isnan(values)] = step.fill
                if step.mean is not None:
                    values -= step.mean
                if step.scale is not None:
                    values /= step.scale
                out.append(pa.array(values))
                continue
            filled = pc.fill_null(rows.column(step.name), step.fill)
            index = pc.index_in(filled, value_set=step.categories).to_numpy(zero_copy_only=False)
            codes = np.where(np.isnan(index), -1, index).astype(np.int64) if index.dtype.kind == "f" else index
            for code in range(len(step.categories)):
                out.append(pa.array((codes == code).astype(np.float64)))
        return out


def compile_pipeline(pipeline: Any) -> FastTransform | None:
    """Return the fast form of a fitted ``build_pipeline()`` pipeline, or None if it has another shape."""
    try:
        return _compile(pipeline)
    except (AttributeError, KeyError, TypeError, ValueError, IndexError):
        return None


def _compile(pipeline: Any) -> FastTransform | None:
    if not isinstance(pipeline, Pipeline) or len(pipeline.steps) != 1:
        return None
    columns = pipeline.steps[0][1]
    if not isinstance(columns, ColumnTransformer) or columns.sparse_output_:
        return None
    steps: list[_Numeric | _OneHot] = []
    onehot: set[int] = set()
    width = 0
    for name, transformer, selected in columns.transformers_:
        if name == "remainder":
            if transformer != "drop":
                return None
            continue
        if not isinstance(selected, list) or not isinstance(transformer, Pipeline) or len(transformer.steps) != 2:
            return None
        impute, encode = transformer.steps[0][1], transformer.steps[1][1]
        if not _plain_imputer(impute):
            return None
        if set(selected) <= set(schema.NUMERIC_FEATURES) and isinstance(encode, StandardScaler):
            numeric = _numeric_steps(selected, impute, encode)
            if numeric is None:
                return None
            steps += numeric
            width += len(numeric)
        elif set(selected) <= set(schema.CATEGORICAL_FEATURES) and isinstance(encode, OneHotEncoder):
            categorical = _onehot_steps(selected, impute, encode)
            if categorical is None:
                return None
            for step in categorical:
                onehot.update(range(width, width + len(step.categories)))
                width += len(step.categories)
            steps += categorical
        else:
            return None
    return FastTransform(steps=tuple(steps), width=width, onehot_columns=frozenset(onehot))


def _plain_imputer(impute: Any) -> bool:
    missing = impute.missing_values if isinstance(impute, SimpleImputer) else None
    return (isinstance(impute, SimpleImputer) and not impute.add_indicator
            and isinstance(missing, float) and math.isnan(missing))


def _numeric_steps(selected: list[str], impute: SimpleImputer, scale: StandardScaler) -> list[_Numeric] | None:
    fills = np.asarray(impute.statistics_, dtype=np.float64)
    if fills.shape != (len(selected),) or not np.isfinite(fills).all():
        return None  # an all-missing training column is dropped by sklearn: not reproduced here
    means = None if scale.mean_ is None else np.asarray(scale.mean_, dtype=np.float64)
    scales = None if scale.scale_ is None else np.asarray(scale.scale_, dtype=np.float64)
    return [
        _Numeric(name, float(fills[i]), None if means is None else float(means[i]),
                 None if scales is None else float(scales[i]))
        for i, name in enumerate(selected)
    ]


def _onehot_steps(selected: list[str], impute: SimpleImputer, encode: OneHotEncoder) -> list[_OneHot] | None:
    if (impute.strategy != "constant" or not isinstance(impute.fill_value, str) or encode.drop is not None
            or encode.handle_unknown != "ignore" or np.dtype(encode.dtype) != np.float64
            or getattr(encode, "sparse_output", True) or getattr(encode, "_infrequent_enabled", False)):
        return None
    steps = []
    for name, categories in zip(selected, encode.categories_, strict=True):
        values = list(categories)
        if not all(isinstance(v, str) for v in values) or len(set(values)) != len(values):
            return None
        steps.append(_OneHot(name, impute.fill_value, pa.array(values, pa.string())))
    return steps
