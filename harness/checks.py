"""Independent expectations for the job's output, computed from the input and the model's fitted parameters."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Expected:
    """What a correct run must produce for one input and model."""

    rows_read: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    # id -> {output column: expected float}
    features: dict[int, dict[str, float]] = field(default_factory=dict)

    @property
    def rows_written(self) -> int:
        """Rows that pass validation."""
        return len(self.features)


def expected_output(csv_bytes: bytes, pipeline: Any) -> Expected:
    """Validate rows with the schema's plain-Python validator and apply the fitted parameters with numpy.

    This deliberately avoids the job's own code path (its vectorised validation, ``transform``): it
    reads the imputer medians, the scaler's mean/scale and the encoder's categories off the model.
    """
    from dsplatform.jobdata import job_module

    schema = job_module("schema")

    columns = pipeline.named_steps["features"]
    numeric = columns.named_transformers_["num"]
    medians = np.asarray(numeric.named_steps["impute"].statistics_, dtype="float64")
    means = np.asarray(numeric.named_steps["scale"].mean_, dtype="float64")
    scales = np.asarray(numeric.named_steps["scale"].scale_, dtype="float64")
    categorical = columns.named_transformers_["cat"]
    categories = [list(c) for c in categorical.named_steps["onehot"].categories_]
    fill = categorical.named_steps["impute"].fill_value

    expected = Expected()
    reader = csv.reader(io.StringIO(csv_bytes.decode("utf-8")))
    header = next(reader)
    for values in reader:
        expected.rows_read += 1
        if len(values) != len(header):
            expected.rejected += 1
            expected.reasons[schema.MALFORMED_ROW] = expected.reasons.get(schema.MALFORMED_ROW, 0) + 1
            continue
        row = dict(zip(header, values, strict=True))
        reasons = schema.validate_row(row)
        if reasons:
            expected.rejected += 1
            for reason in reasons:
                expected.reasons[reason] = expected.reasons.get(reason, 0) + 1
            continue
        raw = np.array([float(row[n]) if row[n] != "" else math.nan for n in schema.NUMERIC_FEATURES])
        raw = np.where(np.isnan(raw), medians, raw)
        scaled = (raw - means) / scales
        feats = {f"{n}_scaled": float(v) for n, v in zip(schema.NUMERIC_FEATURES, scaled, strict=True)}
        for name, cats in zip(schema.CATEGORICAL_FEATURES, categories, strict=True):
            value = row[name] if row[name] != "" else fill
            for cat in cats:
                feats[f"{name}_{cat}"] = 1.0 if value == cat else 0.0
        expected.features[int(row["id"])] = feats
    return expected


def compare_features(expected: Expected, frame: Any, id_column: str = "id", tol: float = 1e-6) -> list[str]:
    """Differences between expected features and a processed output frame (empty list: they match)."""
    problems: list[str] = []
    if len(frame) != expected.rows_written:
        problems.append(f"output has {len(frame)} rows, expected {expected.rows_written}")
    records = frame.to_dict(orient="records")
    seen: set[int] = set()
    for record in records:
        row_id = int(record[id_column])
        seen.add(row_id)
        want = expected.features.get(row_id)
        if want is None:
            problems.append(f"id {row_id} is in the output but should have been rejected")
            continue
        for column, value in want.items():
            got = record.get(column)
            if got is None or not math.isclose(float(got), value, rel_tol=tol, abs_tol=tol):
                problems.append(f"id {row_id} {column}: got {got!r}, expected {value!r}")
        if len(problems) > 20:
            problems.append("... (more differences not listed)")
            break
    missing = sorted(set(expected.features) - seen)
    if missing:
        problems.append(f"{len(missing)} valid row(s) missing from the output, e.g. ids {missing[:5]}")
    return problems
