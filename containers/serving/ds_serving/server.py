"""SageMaker's inference HTTP contract: GET /ping, POST /invocations, on one port, threaded."""

from __future__ import annotations

import json
import logging
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from ds_serving.config import ServingConfig
from ds_serving.payload import PayloadError, media_type, parse, predictions_body

LOG = logging.getLogger("ds_serving")


class Model(Protocol):
    """What the server needs of a model: its input columns (if known) and ``predict``."""

    input_columns: list[str] | None

    def predict(self, frame: Any) -> Any:
        """Score a DataFrame."""


def make_server(config: ServingConfig, model: Model) -> ThreadingHTTPServer:
    """A bound (not yet serving) HTTP server for ``model``."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as SageMaker's front end uses it

        def log_message(self, format: str, *args: Any) -> None:
            LOG.info("%s %s", self.address_string(), format % args)

        def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: int, reason: str) -> None:
            self._send(status, json.dumps({"error": reason}).encode())

        def do_GET(self) -> None:
            if self.path == "/ping":
                self._send(200, b"{}")
            else:
                self._error(404, f"no route GET {self.path}; use GET /ping or POST /invocations")

        def do_POST(self) -> None:
            if self.path != "/invocations":
                self._drain()
                self._error(404, f"no route POST {self.path}; use POST /invocations")
                return
            try:
                body = self._body()
                accept = media_type(self.headers.get("Accept"))
                if accept not in ("", "*/*", "application/json"):
                    raise PayloadError(406, f"Accept {accept!r} is not supported; predictions are application/json")
                frame = parse(self.headers.get("Content-Type"), body, model.input_columns)
                result = predictions_body(model.predict(frame))
            except PayloadError as err:
                self._error(err.status, err.reason)
                return
            except Exception as err:
                LOG.exception("prediction failed")
                self._error(500, f"the model failed: {type(err).__name__}: {err}")
                return
            self._send(200, result)

        def _body(self) -> bytes:
            raw = self.headers.get("Content-Length")
            if raw is None:
                raise PayloadError(411, "Content-Length is required")
            try:
                length = int(raw)
            except ValueError:
                raise PayloadError(400, f"Content-Length {raw!r} is not a number") from None
            if length > config.max_payload_bytes:
                self.close_connection = True  # the unread body must not be parsed as the next request
                raise PayloadError(413, f"the body has {length} bytes; the limit is {config.max_payload_bytes}")
            return self.rfile.read(length)

        def _drain(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if 0 < length <= config.max_payload_bytes:
                self.rfile.read(length)
            elif length:
                self.close_connection = True

    return ThreadingHTTPServer((config.host, config.port), Handler)


def serve(config: ServingConfig, model: Model) -> None:
    """Serve until SIGTERM (SageMaker's stop) or SIGINT."""
    server = make_server(config, model)

    def _stop(signum: int, _frame: Any) -> None:
        LOG.info("signal %d: shutting down", signum)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    LOG.info("serving on %s:%d", config.host, config.port)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
