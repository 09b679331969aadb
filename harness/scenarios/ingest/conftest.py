"""Fixtures of the ingest scenarios: the deployed ingest component's outputs, and files put under raw/."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def ingest(ds_deployed: Any) -> Any:
    """The ingest component's typed outputs (IngestOutputs); the scenarios are skipped where it is not deployed."""
    if "ingest" not in ds_deployed:
        pytest.skip("component ingest is not in this environment's plan (components.stock leaves it out)")
    return ds_deployed["ingest"]


@pytest.fixture
def put_raw(ds_run: Any, ds_platform: Any, ds_clients: Any) -> Callable[..., tuple[Any, str]]:
    """Put bytes under raw/<run-id>/ in the input bucket; the catalogue item is removed with the run."""

    def put(data: bytes, name: str = "input.csv", table: str | None = None) -> tuple[Any, str]:
        run = ds_run("ingest")
        key = run.put_input(data, key=f"raw/{run.id}/{name}")
        if table:
            ddb = ds_clients.client("dynamodb")
            run.add_cleanup(f"catalogue item {key}",
                            lambda: ddb.delete_item(TableName=table, Key={"object_key": {"S": key}}))
        return run, key

    return put


def catalogue_item(ds_clients: Any, ds_wait: Any, table: str, key: str,
                   done: Callable[[dict[str, Any]], bool] | None = None, timeout: float = 60) -> dict[str, Any]:
    """The catalogue item of ``key`` (plain values), once it exists (and ``done`` holds)."""
    ddb = ds_clients.client("dynamodb")

    def probe() -> dict[str, Any]:
        item = ddb.get_item(TableName=table, Key={"object_key": {"S": key}}, ConsistentRead=True).get("Item") or {}
        return {name: _plain(value) for name, value in item.items()}

    return ds_wait.until(probe, lambda item: bool(item) and (done is None or done(item)),
                         what=f"the catalogue item of {key} in {table}", timeout=timeout, interval=0.3)


def _plain(value: dict[str, Any]) -> Any:
    kind, raw = next(iter(value.items()))
    if kind == "N":
        return int(raw)
    if kind == "L":
        return [_plain(v) for v in raw]
    return raw


def records_of(data: bytes) -> tuple[list[str], int]:
    """Header and record count computed independently of the function (the csv module over the whole text)."""
    rows = [row for row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")) if row]
    return rows[0], len(rows) - 1


def executions_for(ds_clients: Any, state_machine_arn: str, key: str) -> list[str]:
    """ARNs of the pipeline's executions whose input names ``key``."""
    sfn = ds_clients.client("stepfunctions")
    found = []
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=state_machine_arn):
        for execution in page["executions"]:
            described = sfn.describe_execution(executionArn=execution["executionArn"])
            if json.loads(described.get("input") or "{}").get("input_key") == key:
                found.append(execution["executionArn"])
    return found
