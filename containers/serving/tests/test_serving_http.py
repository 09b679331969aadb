"""The HTTP contract over a real socket: /ping, /invocations, and 4xx with the reason for bad requests."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import pytest
from ds_serving.config import ServingConfig
from ds_serving.model import ModelLoadError, find_model_dir
from ds_serving.payload import PayloadError
from ds_serving.server import make_server


class DoubleAmount:
    """A model whose predictions are computable by hand: amount * 2; a frame without amount is refused."""

    input_columns: ClassVar[list[str]] = ["amount", "category"]

    def predict(self, frame: pd.DataFrame) -> Any:
        if "amount" not in frame:
            raise PayloadError(400, "missing column 'amount'")
        return (frame["amount"] * 2).to_numpy()


@pytest.fixture
def port() -> Iterator[int]:
    server = make_server(ServingConfig("127.0.0.1", 0, Path("/nonexistent"), 1024), DoubleAmount())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _request(port: int, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, json.loads(data) if data else {}


def test_ping_answers_200(port: int) -> None:
    assert _request(port, "GET", "/ping")[0] == 200


def test_invocations_json_and_csv(port: int) -> None:
    body = json.dumps({"dataframe_split": {"columns": ["amount", "category"], "data": [[1.5, "a"], [4, "b"]]}})
    assert _request(port, "POST", "/invocations", body.encode(), {"Content-Type": "application/json"}) == (
        200, {"predictions": [3.0, 8.0]})
    status, data = _request(port, "POST", "/invocations", b"amount,category\n2,a\n", {"Content-Type": "text/csv"})
    assert (status, data) == (200, {"predictions": [4]})


@pytest.mark.parametrize(
    ("body", "headers", "status", "words"),
    [
        (b"{oops", {"Content-Type": "application/json"}, 400, "not valid JSON"),
        (b"x" * 2000, {"Content-Type": "text/csv"}, 413, "limit is 1024"),
        (b"a,b", {"Content-Type": "application/xml"}, 415, "application/xml"),
        (b"category\nq\n", {"Content-Type": "text/csv"}, 400, "missing column 'amount'"),
        (b"amount\n1\n", {"Content-Type": "text/csv", "Accept": "text/html"}, 406, "text/html"),
    ],
)
def test_bad_requests_get_4xx_with_the_reason(port: int, body: bytes, headers: dict[str, str], status: int,
                                              words: str) -> None:
    got, data = _request(port, "POST", "/invocations", body, headers)
    assert got == status
    assert words in data["error"]


def test_unknown_routes_are_404(port: int) -> None:
    assert _request(port, "GET", "/invocations")[0] == 404
    assert _request(port, "POST", "/predict", b"{}", {"Content-Type": "application/json"})[0] == 404


def test_find_model_dir_accepts_root_or_one_subfolder(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "MLmodel").write_text("flavors: {}\n")
    assert find_model_dir(tmp_path) == tmp_path / "model"
    (tmp_path / "MLmodel").write_text("flavors: {}\n")
    assert find_model_dir(tmp_path) == tmp_path
    with pytest.raises(ModelLoadError, match="does not exist"):
        find_model_dir(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="no MLflow model"):
        find_model_dir(tmp_path / "empty")
