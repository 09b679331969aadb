"""Turn an /invocations request body (JSON or CSV) into a DataFrame, and predictions into a JSON body."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pandas as pd

JSON_TYPES = ("application/json",)
CSV_TYPES = ("text/csv", "application/csv")
JSON_FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")


class PayloadError(Exception):
    """The request cannot be scored; ``status`` is the 4xx code and the message the reason shown to the caller."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type header, lower-cased, without parameters."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def parse(content_type: str | None, body: bytes, columns: list[str] | None = None) -> pd.DataFrame:
    """Parse a JSON (MLflow's scoring formats) or CSV (with a header row) body; PayloadError on anything else."""
    kind = media_type(content_type)
    if not body.strip():
        raise PayloadError(400, "the request body is empty; send rows as JSON or CSV")
    if kind in JSON_TYPES:
        return _from_json(body, columns)
    if kind in CSV_TYPES:
        return _from_csv(body)
    raise PayloadError(415, f"Content-Type {content_type!r} is not supported; use application/json or text/csv")


def _from_json(body: bytes, columns: list[str] | None) -> pd.DataFrame:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as err:
        raise PayloadError(400, f"the body is not valid JSON: {err}") from None
    if not isinstance(data, dict) or len(set(data) & set(JSON_FORMATS)) != 1:
        raise PayloadError(400, f"a JSON body must be an object with exactly one of {', '.join(JSON_FORMATS)}, "
                                f'e.g. {{"dataframe_split": {{"columns": [...], "data": [[...]]}}}}')
    key = next(k for k in JSON_FORMATS if k in data)
    value = data[key]
    try:
        if key == "dataframe_split":
            if not isinstance(value, dict) or not isinstance(value.get("data"), list):
                raise PayloadError(400, "dataframe_split needs an object with 'columns' and a 'data' list of rows")
            return pd.DataFrame(value["data"], columns=value.get("columns"))
        if not isinstance(value, list) or not value:
            raise PayloadError(400, f"{key} must be a non-empty list of rows")
        if all(isinstance(row, dict) for row in value):
            return pd.DataFrame.from_records(value)
        if all(isinstance(row, list) for row in value):
            if columns and any(len(row) != len(columns) for row in value):
                raise PayloadError(400, f"{key}: every row needs {len(columns)} values ({', '.join(columns)})")
            return pd.DataFrame(value, columns=columns)
        raise PayloadError(400, f"{key}: rows must all be objects or all be lists")
    except (ValueError, TypeError) as err:  # pandas: ragged rows, columns that don't match the data
        raise PayloadError(400, f"{key}: {err}") from None


def _from_csv(body: bytes) -> pd.DataFrame:
    try:
        frame = pd.read_csv(io.BytesIO(body))
    except (UnicodeDecodeError, ValueError, pd.errors.ParserError) as err:
        raise PayloadError(400, f"the body is not CSV with a header row: {str(err).strip()}") from None
    if frame.empty:
        raise PayloadError(400, "the CSV body has a header but no rows")
    return frame


def predictions_body(predictions: Any) -> bytes:
    """``{"predictions": [...]}`` from what the model returned (array, Series, DataFrame or list)."""
    if isinstance(predictions, pd.DataFrame):
        values: Any = predictions.to_dict(orient="records")
    elif isinstance(predictions, pd.Series | np.ndarray):
        values = predictions.tolist()
    else:
        values = predictions
    return json.dumps({"predictions": values}, default=_jsonable).encode()


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
