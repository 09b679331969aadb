"""Request bodies -> DataFrames, predictions -> JSON, and the settings read from the environment."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ds_serving.config import ConfigError, from_env
from ds_serving.payload import PayloadError, parse, predictions_body

COLUMNS = ["amount", "quantity", "category", "region"]


def test_dataframe_split_keeps_columns_and_rows() -> None:
    body = json.dumps({"dataframe_split": {"columns": COLUMNS, "data": [[1.5, 2, "toys", "west"]]}}).encode()
    frame = parse("application/json; charset=utf-8", body)
    assert list(frame.columns) == COLUMNS
    assert frame.iloc[0].tolist() == [1.5, 2, "toys", "west"]


def test_records_and_instances_of_lists_use_the_signature_columns() -> None:
    records = parse("application/json", json.dumps({"dataframe_records": [{"amount": 1.0, "region": "x"}]}).encode())
    assert records.to_dict(orient="records") == [{"amount": 1.0, "region": "x"}]
    lists = parse("application/json", json.dumps({"instances": [[1.0, 2, "a", "b"]]}).encode(), COLUMNS)
    assert list(lists.columns) == COLUMNS


def test_csv_with_header() -> None:
    frame = parse("text/csv", b"amount,quantity,category,region\n3.5,1,toys,\n4,2,food,east\n")
    assert frame.shape == (2, 4)
    assert frame["amount"].tolist() == [3.5, 4.0]


@pytest.mark.parametrize(
    ("content_type", "body", "status", "words"),
    [
        ("application/json", b"{not json", 400, "not valid JSON"),
        ("application/json", b'{"rows": []}', 400, "exactly one of"),
        ("application/json", b'{"instances": [[1, 2]]}', 400, "needs 4 values"),
        ("application/json", b'{"instances": [1, 2]}', 400, "all be objects or all be lists"),
        ("application/json", b'{"dataframe_split": {"columns": ["a"], "data": [[1, 2]]}}', 400, "dataframe_split"),
        ("text/csv", b"amount,quantity\n", 400, "no rows"),
        ("text/plain", b"1,2", 415, "text/plain"),
        ("application/json", b"  ", 400, "empty"),
    ],
)
def test_bad_bodies_name_the_reason(content_type: str, body: bytes, status: int, words: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse(content_type, body, COLUMNS)
    assert caught.value.status == status
    assert words in caught.value.reason


def test_predictions_body_from_numpy_and_frames() -> None:
    assert json.loads(predictions_body(np.array([1, 0, np.int64(1)]))) == {"predictions": [1, 0, 1]}
    frame = pd.DataFrame({"p": [0.25]})
    assert json.loads(predictions_body(frame)) == {"predictions": [{"p": 0.25}]}


def test_config_from_sagemaker_variables() -> None:
    cfg = from_env({"SAGEMAKER_BIND_TO_PORT": "9090", "PORT": "7000", "DS_SERVING_MODEL_DIR": "/tmp/m"})
    assert (cfg.port, cfg.model_dir, cfg.host) == (9090, Path("/tmp/m"), "0.0.0.0")
    defaults = from_env({})
    assert (defaults.port, defaults.model_dir) == (8080, Path("/opt/ml/model"))
    assert from_env({"PORT": "7000"}).port == 7000


@pytest.mark.parametrize("value", ["eighty", "0", "70000"])
def test_bad_port_names_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match=f"PORT={value!r}"):
        from_env({"PORT": value})


def test_integer_columns_the_signature_wants_as_floats_are_widened() -> None:
    from ds_serving.model import widen_integers

    frame = parse("text/csv", b"amount,quantity,category\n3,1,toys\n")
    widened = widen_integers(frame, ("amount", "quantity", "absent"))
    assert [str(t) for t in widened.dtypes][:2] == ["float64", "float64"]
    assert widened["category"].tolist() == ["toys"]
    assert widen_integers(frame, ()) is frame


def test_schema_failures_keep_only_mlflows_reason() -> None:
    from ds_serving.model import schema_reason

    message = "Failed to enforce schema of data '   a  b\n 0 1 2' with schema '[...]'. Error: Incompatible input x."
    assert schema_reason(message) == "the input does not match the model's signature: Incompatible input x."
    assert schema_reason("other\nproblem") == "other problem"
