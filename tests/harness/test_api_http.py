"""The api scenarios' HTTP helpers against a real local server: a load balancer's plain-text error page (its own
`502 Bad Gateway`, not the app's JSON) is recorded as a failed answer, never lost with the load's thread."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator

import pytest

from harness.scenarios_api._http import Load, call


class _BadGateway(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"502 Bad Gateway"
        self.send_response(502)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def bad_gateway() -> Iterator[str]:
    """A loopback server whose every GET is a plain-text 502, as the local ALB answers with no healthy target."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _BadGateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/health"
    finally:
        server.shutdown()
        server.server_close()


def test_a_plain_text_error_page_is_a_status_with_its_text(bad_gateway: str) -> None:
    status, body = call(bad_gateway, timeout=5)
    assert status == 502 and body == {"error": "not JSON: '502 Bad Gateway'"}


def test_the_load_records_every_502_and_keeps_going(bad_gateway: str) -> None:
    load = Load(bad_gateway, rate=50)
    deadline = time.monotonic() + 10
    while len(load.results) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    results = load.stop()
    assert len(results) >= 3, results  # the thread outlived the first non-JSON answer
    assert set(results) == {(502, "not JSON: '502 Bad Gateway'")}
    assert load.failures() == results


def test_an_answer_that_is_not_an_object_is_a_failure_not_the_end_of_the_load() -> None:
    class _List(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"[1, 2]"  # JSON, but no object: .get() on it raises in the load's thread
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            """Quiet."""

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _List)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        load = Load(f"http://127.0.0.1:{server.server_address[1]}/", rate=50)
        deadline = time.monotonic() + 10
        while len(load.results) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        results = load.stop()
    finally:
        server.shutdown()
        server.server_close()
    assert len(results) >= 3 and {status for status, _ in results} == {-1}, results
    assert load.failures() == results


def _load_with(sent: list[float]) -> Load:
    """A stopped load whose send times are ``sent`` (its thread ends at once on a refused connection)."""
    load = Load("http://127.0.0.1:9/", rate=1, limit=0)
    load.stop()
    load.sent[:] = sent
    return load


def test_longest_gap_spans_the_change_from_the_last_request_before_to_the_first_after() -> None:
    load = _load_with([0.0, 0.5, 1.0, 3.5, 4.0, 6.0])
    assert load.longest_gap(0.8, 5.0) == 2.5  # 1.0 -> 3.5 inside; 4.0 -> 6.0 across the end is 2.0
    assert load.longest_gap(1.0, 4.0) == 2.5  # a request sent exactly at a bound counts on that side
    assert load.longest_gap(0.2, 0.4) == 0.5


def test_longest_gap_is_infinite_when_the_load_started_late_or_stopped_early() -> None:
    load = _load_with([1.0, 2.0, 3.0])
    assert load.longest_gap(0.5, 2.5) == float("inf")  # nothing sent before the change began
    assert load.longest_gap(1.5, 3.5) == float("inf")  # nothing sent after it ended
    assert _load_with([]).longest_gap(0, 1) == float("inf")


def test_a_running_load_records_when_it_sent_each_request(bad_gateway: str) -> None:
    began = time.monotonic()
    load = Load(bad_gateway, rate=50)
    time.sleep(0.5)
    middle = time.monotonic()
    time.sleep(0.5)
    ended = time.monotonic()
    time.sleep(0.2)
    results = load.stop()
    assert len(load.sent) == len(results) and load.sent == sorted(load.sent) and load.sent[0] >= began
    assert load.longest_gap(middle, ended) < 0.5
