"""A tiny HTTP service run as an ECS task in the local ALB tests (standard library only).

The Dockerfile runs `python server.py --host 0.0.0.0 --port 8080`; the local ECS maps 0.0.0.0 to the
task's own loopback address.
GET / answers {"version", "task", "address"}; GET /ready answers 200, or 503 when READY=0 (a version that never
becomes ready); GET /slow?ms=N answers after N milliseconds. SIGTERM stops accepting and finishes in-flight
requests before exiting, as a well-behaved web server does.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class Handler(BaseHTTPRequestHandler):
    """The three routes."""

    def do_GET(self) -> None:
        """Route GET requests."""
        url = urlparse(self.path)
        if url.path == "/ready":
            ready = os.environ.get("READY", "1") == "1"
            self._reply(200 if ready else 503, {"ready": ready})
        elif url.path == "/slow":
            time.sleep(int(parse_qs(url.query).get("ms", ["100"])[0]) / 1000)
            self._reply(200, self._identity())
        else:
            self._reply(200, self._identity())

    def _identity(self) -> dict[str, str]:
        host, port = self.server.server_address[:2]
        return {
            "version": os.environ.get("VERSION", "v1"),
            "task": os.environ.get("HOSTNAME", ""),
            "address": f"{host}:{port}",
        }

    def _reply(self, status: int, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: one line per request would flood the task's log."""


def main() -> None:
    """Serve until SIGTERM, then drain."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = False  # server_close() then waits for requests in flight
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"listening on {args.host}:{args.port}", flush=True)
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
