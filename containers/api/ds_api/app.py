"""The FastAPI app: /health, /ready, /v1/model and POST /v1/transform over the batch job's model."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from ds_preprocessing.errors import JobError
from ds_preprocessing.logs import JsonLogger
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ds_api import records
from ds_api.limits import BodyLimit
from ds_api.logs import RequestLog
from ds_api.service import ModelState
from ds_api.settings import load_limits, load_model_location


def _error(status: int, field: str, value: Any, rule: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"detail": [{"field": field, "value": value, "rule": rule, "message": message}]}, status_code=status
    )


def create_app(
    env: Mapping[str, str] | None = None,
    s3_client: Any = None,
    ssm_client: Any = None,
    logger: JsonLogger | None = None,
) -> Any:
    """Build the app; the model is loaded (and verified) when it starts. Clients default to boto3's."""
    env = dict(os.environ if env is None else env)
    log = logger or JsonLogger(run_id="api")
    limits = load_limits(env)
    state = ModelState()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        log.stage = "startup"
        try:
            import boto3

            ssm = ssm_client or boto3.client("ssm")
            s3 = s3_client or boto3.client("s3")
            location = await run_in_threadpool(load_model_location, ssm, env)
            await run_in_threadpool(state.load, s3, location)
            log.info(
                "model verified and loaded",
                sha256=state.loaded.sha256 if state.loaded else None,
                model_version=state.loaded.version if state.loaded else None,
            )
        except JobError as exc:
            state.fail(exc.message)
            log.error(exc.message, error=type(exc).__name__)
        except Exception as exc:  # SDK not configured, network: not ready, and say why
            state.fail(f"{type(exc).__name__}: {exc}"[:400])
            log.error(state.error or "", error=type(exc).__name__)
        log.stage = "serve"
        yield

    app = FastAPI(title="ds-api", lifespan=lifespan, docs_url=None, redoc_url=None)

    release = env.get("DS_API_RELEASE", "")

    def _features(items: list[Any]) -> tuple[list[dict[str, Any]], list[records.Problem]]:
        """The job's rules, then (all valid) its features: (rows, []) or ([], problems)."""
        valid, problems = records.check(items)
        return ([], problems) if problems else (state.transform(valid), [])

    @app.get("/health")
    async def health() -> dict[str, str]:
        """Liveness: the process answers (with the deployment's DS_API_RELEASE, to tell versions apart)."""
        return {"status": "ok", "release": release}

    @app.get("/ready")
    async def ready() -> JSONResponse:
        """Readiness: the model is loaded and verified."""
        if state.loaded is None:
            return JSONResponse({"ready": False, "reason": state.error}, status_code=503)
        return JSONResponse({"ready": True, "version": state.loaded.version, "sha256": state.loaded.sha256})

    @app.get("/v1/model")
    async def model() -> JSONResponse:
        """The served model: version (SSM model-version, else the object's metadata), SHA-256, features."""
        if state.loaded is None:
            return JSONResponse({"detail": state.error}, status_code=503)
        return JSONResponse(state.describe())

    @app.post("/v1/transform")
    async def transform(request: Request) -> JSONResponse:
        """One record (an object) or many (a list, or {"records": [...]}) -> the job's output rows."""
        if state.loaded is None:
            return JSONResponse({"detail": state.error}, status_code=503)
        try:
            payload = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError) as exc:
            return _error(422, "body", None, "json", f"the body is not JSON: {exc}"[:200])
        many = isinstance(payload, list) or (isinstance(payload, dict) and "records" in payload)
        items = payload.get("records") if isinstance(payload, dict) and many else payload if many else [payload]
        if not isinstance(items, list) or not items:
            return _error(422, "records", None, "records", "give one record object, or a non-empty list of them")
        if len(items) > limits.max_records:
            return _error(
                422,
                "records",
                len(items),
                "max_records",
                f"at most {limits.max_records} records per request; split the batch",
            )
        # One hop to the thread pool for validation and features: each hop costs a context switch, which on a
        # loaded host is a good part of a one-record request.
        rows, problems = await run_in_threadpool(_features, items)
        if problems:
            return JSONResponse({"detail": [p.to_json() for p in problems]}, status_code=422)
        assert state.loaded is not None
        body = {"model": {"version": state.loaded.version, "sha256": state.loaded.sha256}}
        return JSONResponse({**body, "records": rows} if many else {**body, "record": rows[0]})

    return BodyLimit(RequestLog(app, log), limits.max_body_bytes)


app = create_app()
