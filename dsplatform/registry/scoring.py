"""Scoring a served model: a labelled holdout from the job's sample data, InvokeEndpoint, accuracy.

Shared by the serving scenarios (which measure the quality bar on the staging endpoint) and ``invoke
model.promote`` (whose smoke test compares the prod endpoint's answers with staging's).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

HIGH_VALUE_AT = 100.0  # the sample model's label: amount * quantity reaches this (mlflow_ops.HIGH_VALUE_AT)
HOLDOUT_SEED = 97  # not the training seed (0): rows the model has not seen


def holdout(rows: int = 300, seed: int = HOLDOUT_SEED) -> tuple[bytes, list[int]]:
    """(CSV body of complete feature rows, their labels) from the job's checks over generated sample input."""
    from dsplatform.registry.models import TRAINING_COLUMNS, sample_training_csv

    reader = csv.DictReader(io.StringIO(sample_training_csv(rows, seed).decode("utf-8")))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=TRAINING_COLUMNS, lineterminator="\n")
    writer.writeheader()
    labels = []
    for row in reader:
        if all(row.get(column) for column in TRAINING_COLUMNS):  # a label needs amount and quantity
            writer.writerow(row)
            labels.append(int(float(row["amount"]) * float(row["quantity"]) >= HIGH_VALUE_AT))
    return out.getvalue().encode("utf-8"), labels


def invoke_csv(runtime: Any, endpoint: str, body: bytes) -> list[int]:
    """The endpoint's predictions for a CSV body (sagemaker-runtime InvokeEndpoint)."""
    response = runtime.invoke_endpoint(EndpointName=endpoint, Body=body, ContentType="text/csv",
                                       Accept="application/json")
    return [int(p) for p in json.loads(response["Body"].read())["predictions"]]


def accuracy(predictions: list[int], labels: list[int]) -> float:
    """Share of predictions equal to their labels (ValueError when the lengths differ or nothing was scored)."""
    if len(predictions) != len(labels) or not labels:
        raise ValueError(f"{len(predictions)} predictions for {len(labels)} labels")
    return sum(int(p == y) for p, y in zip(predictions, labels, strict=True)) / len(labels)
