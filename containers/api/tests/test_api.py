"""The API on FastAPI's TestClient, over moto S3/SSM: readiness, the job's results, 422s, 413, logs."""

from __future__ import annotations

import io
import json
import math
from typing import Any

import pyarrow as pa
import pytest
from ds_preprocessing import process, reader, validate

GOOD = {
    "id": 7,
    "event_date": "2026-01-15",
    "amount": 9.5,
    "quantity": 2,
    "category": "toys",
    "region": "west",
    "description": 'a, "quoted" text',
}
CSV = (
    "id,event_date,amount,quantity,category,region,description\n"
    '7,2026-01-15,9.5,2,toys,west,"a, ""quoted"" text"\n'
    "8,2026-02-01,,,books,,\n"
)


def _batch_rows(trained: Any) -> list[dict[str, Any]]:
    """What the batch job writes for CSV (its reader, validation and output step): the independent result."""
    chunks = list(reader.iter_chunks(io.BytesIO(CSV.encode()), "test"))
    valid = pa.concat_tables([validate.split(c.batch).valid for c in chunks])
    return process.to_output(valid, trained).to_pylist()


def test_health_ready_and_model_report_the_verified_model_and_the_ssm_version(client: Any, aws: Any) -> None:
    api = client(DS_API_RELEASE="r7")
    assert api.get("/health").json() == {"status": "ok", "release": "r7"}
    ready = api.get("/ready")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    model = api.get("/v1/model").json()
    assert model["version"] == "2026.11.30"  # the SSM parameter wins over the object's metadata, as in the job
    assert model["sha256"] == aws["sha256"]
    assert "amount_scaled" in model["features"]


def test_records_get_the_features_the_batch_job_computes(client: Any, trained: Any) -> None:
    expected = _batch_rows(trained)
    second = {
        "id": 8,
        "event_date": "2026-02-01",
        "amount": None,
        "quantity": "",
        "category": "books",
        "region": None,
        "description": "",
    }
    answer = client().post("/v1/transform", json={"records": [GOOD, second]})
    assert answer.status_code == 200, answer.text
    got = answer.json()["records"]
    assert len(got) == 2
    for online, batch in zip(got, expected, strict=True):
        assert online["id"] == batch["id"] and online["event_date"] == batch["event_date"].isoformat()
        for name, value in batch.items():
            if isinstance(value, float):
                assert math.isclose(online[name], value, rel_tol=1e-12, abs_tol=1e-12), name
    single = client().post("/v1/transform", json=GOOD).json()
    assert single["record"] == got[0] and single["model"]["version"] == "2026.11.30"


@pytest.mark.parametrize(
    ("record", "field", "value", "rule"),
    [
        ({**GOOD, "amount": "abc"}, "amount", "abc", "bad_amount"),
        ({**GOOD, "event_date": "2026-02-30"}, "event_date", "2026-02-30", "bad_event_date"),
        ({**GOOD, "id": 0}, "id", 0, "bad_id"),
        ({**GOOD, "category": ""}, "category", "", "missing_category"),
        ({**GOOD, "quantity": -1}, "quantity", -1, "bad_quantity"),
        ({**GOOD, "amount": True}, "amount", True, "bad_type"),
        ({**GOOD, "ammount": 3}, "ammount", 3, "unknown_field"),
    ],
)
def test_an_invalid_record_gets_422_naming_field_value_and_rule(
    client: Any, record: dict[str, Any], field: str, value: Any, rule: str
) -> None:
    answer = client().post("/v1/transform", json={"records": [GOOD, record]})
    assert answer.status_code == 422
    problems = answer.json()["detail"]
    assert {"record": 1, "field": field, "value": value, "rule": rule} in [
        {k: p[k] for k in ("record", "field", "value", "rule")} for p in problems
    ]
    assert all(p["message"] for p in problems)


def test_the_api_and_the_job_reject_the_same_rows(client: Any) -> None:
    rows = [{**GOOD, "id": i, "amount": a} for i, a in enumerate(["1e3", "1_000", " 5", "nan", ".5", "inf"], start=1)]
    answer = client().post("/v1/transform", json=rows)
    table = pa.table({k: pa.array([str(r[k]) for r in rows]) for k in GOOD})
    rejected_by_job = {int(i) for i in validate.split(table).rejected["id"].to_pylist()}
    assert {p["record"] + 1 for p in answer.json()["detail"]} == rejected_by_job == {2, 3, 4, 6}


def test_a_body_over_the_limit_gets_413_and_too_many_records_422(client: Any) -> None:
    api = client(DS_MAX_BODY_BYTES="300", DS_MAX_RECORDS="2")
    big = api.post("/v1/transform", content=json.dumps([GOOD] * 5), headers={"content-type": "application/json"})
    assert big.status_code == 413 and big.json()["detail"][0]["rule"] == "max_body_bytes"

    def chunks() -> Any:  # no Content-Length: the limit still holds on the bytes actually sent
        yield json.dumps([GOOD] * 5).encode()

    streamed = api.post("/v1/transform", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    many = client(DS_MAX_RECORDS="2").post("/v1/transform", json=[GOOD] * 3)
    assert many.status_code == 422 and many.json()["detail"][0]["rule"] == "max_records"
    assert client().post("/v1/transform", content=b"{not json").json()["detail"][0]["rule"] == "json"


def test_a_tampered_model_is_refused_and_the_service_is_not_ready(client: Any, aws: Any) -> None:
    aws["s3"].put_object(Bucket=aws["bucket"], Key=aws["model_key"], Body=b"not the model",
                         Metadata={"sha256": aws["sha256"]})
    api = client()
    ready = api.get("/ready")
    assert ready.status_code == 503 and "failed its checksum" in ready.json()["reason"]
    assert api.post("/v1/transform", json=GOOD).status_code == 503
    assert api.get("/health").status_code == 200  # alive, just not ready


def test_a_missing_parameter_is_named(client: Any, aws: Any) -> None:
    aws["ssm"].delete_parameter(Name=aws["prefix"] + "model-key")
    reason = client().get("/ready").json()["reason"]
    assert f"{aws['prefix']}model-key" in reason


def test_bad_limits_fail_at_start_with_one_line(aws: Any) -> None:
    from ds_api.app import create_app
    from ds_preprocessing.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="DS_MAX_BODY_BYTES '10k' is invalid: use a positive integer"):
        create_app({"DS_MAX_BODY_BYTES": "10k"}, aws["s3"], aws["ssm"])


def test_json_logs_carry_the_request_id_and_no_body(client: Any) -> None:
    api = client()
    answer = api.post("/v1/transform", json={**GOOD, "description": "secret-text"}, headers={"X-Request-Id": "abc-1"})
    assert answer.headers["x-request-id"] == "abc-1"
    generated = api.get("/health", headers={"X-Request-Id": "bad id\nforged"}).headers["x-request-id"]
    assert generated != "bad id\nforged" and len(generated) == 32
    lines = [json.loads(line) for line in api.log.getvalue().splitlines()]
    requests = [e for e in lines if e["message"] == "request"]
    assert {"request_id": "abc-1", "method": "POST", "path": "/v1/transform", "status": 200}.items() <= requests[
        0
    ].items()
    assert "secret-text" not in api.log.getvalue()
