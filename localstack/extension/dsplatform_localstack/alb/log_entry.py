"""One access-log line of an application load balancer: the request measured as ELB measures it, in ELB's format.

Fields in the documented order (docs.aws.amazon.com/elasticloadbalancing/latest/application/
load-balancer-access-logs.html):
type time elb client:port target:port request/target/response processing times, elb/target status codes,
received/sent bytes, "request" "user_agent" ssl_cipher ssl_protocol target_group_arn "trace_id" "domain_name"
"chosen_cert_arn" matched_rule_priority request_creation_time "actions_executed" "redirect_url" "error_reason"
"target:port_list" "target_status_code_list" "classification" "classification_reason" conn_trace_id
"transformed_host" "transformed_uri" "request_transform_status". TLS is not terminated locally, so the TLS fields
are "-"; nothing is desync-classified or rewritten. Byte counts are the request/status line, the headers as the
listener saw them and the body's Content-Length (headers the HTTP server adds on the way out are not counted).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


def resource_id(load_balancer_arn: str) -> str:
    """``app/<name>/<id>`` from a load balancer ARN (the log line's elb field)."""
    return load_balancer_arn.split(":loadbalancer/", 1)[1]


def timestamp(when: datetime) -> str:
    """ISO 8601 with microseconds, UTC, as ELB writes times."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def quoted(value: str) -> str:
    """A quoted field: backslash and double quote escaped, other non-printable ASCII as \\xHH."""
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'  # the common case, without a walk over every character
    out = []
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif " " <= char <= "~":
            out.append(char)
        else:
            out.extend(f"\\x{byte:02x}" for byte in char.encode())
    return f'"{"".join(out)}"'


def seconds(value: float | None) -> str:
    """A processing time: seconds with 3 decimals, -1 when the step did not happen."""
    return "-1" if value is None else f"{value:.3f}"


@dataclass
class Entry:
    """What one request's log line says (fields in ELB's order; "-" where the step did not happen)."""

    kind: str
    time: datetime
    client: str
    target: str
    request_time: float | None
    target_time: float | None
    response_time: float | None
    elb_status: int
    target_status: str
    received: int
    sent: int
    request: str
    user_agent: str
    target_group: str
    trace_id: str
    rule_priority: int
    created: datetime
    actions: str
    redirect_url: str
    error_reason: str
    conn_trace_id: str

    def line(self, load_balancer_arn: str) -> str:
        """The access-log line, space-separated fields in the documented order."""
        fields = [
            self.kind, timestamp(self.time), resource_id(load_balancer_arn), self.client, self.target,
            seconds(self.request_time), seconds(self.target_time), seconds(self.response_time),
            str(self.elb_status), self.target_status, str(self.received), str(self.sent),
            quoted(self.request), quoted(self.user_agent),
            "-", "-",  # ssl_cipher, ssl_protocol: TLS is not terminated locally
            self.target_group, quoted(self.trace_id),
            quoted("-"), quoted("-"),  # domain_name (SNI), chosen_cert_arn: no TLS
            str(self.rule_priority), timestamp(self.created), quoted(self.actions), quoted(self.redirect_url),
            quoted(self.error_reason),
            quoted(self.target if self.target != "-" else "-"), quoted(self.target_status),
            quoted("-"), quoted("-"),  # classification, classification_reason: requests are not desync-classified
            self.conn_trace_id,
            quoted("-"), quoted("-"), quoted("-"),  # transformed_host, transformed_uri, request_transform_status
        ]
        return " ".join(fields)


def _headers_size(headers: Any) -> int:
    return sum(len(name) + len(str(value)) + 4 for name, value in headers.items()) + 2  # "k: v\r\n"..., "\r\n"


def _content_length(headers: Any) -> int:
    try:
        return int(headers.get("Content-Length") or 0)
    except ValueError:
        return 0


class Exchange:
    """One request through a listener, timed from its arrival to the response, for its access-log line."""

    def __init__(self, listener: Any, request: Any) -> None:
        self.started, self.created = time.monotonic(), datetime.now(UTC)
        self.kind = "https" if listener.protocol == "HTTPS" else "http"
        self.client = f"{request.remote_addr or '-'}:{request.environ.get('REMOTE_PORT') or 0}"
        version = request.environ.get("SERVER_PROTOCOL") or "HTTP/1.1"
        host = (request.host or "").split(":")[0] or "-"
        query = request.query_string.decode(errors="replace")
        target = f"{request.path}?{query}" if query else request.path
        # ALB logs the listener's own port: the local server's port is an artifact of serving it here.
        self.request = f"{request.method} {self.kind}://{host}:{listener.port}{target} {version}"
        self.user_agent = str(request.headers.get("User-Agent") or "-")
        self.received = len(f"{request.method} {target} {version}\r\n") + _headers_size(request.headers) \
            + _content_length(request.headers)
        self.trace_id = f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"
        # One id per client connection (its address and port), as ELB's conn_trace_id ties a connection's requests.
        digest = hashlib.sha256(f"{listener.arn} {self.client}".encode()).hexdigest()
        self.conn_trace_id = f"TID_{digest[:32]}"
        self.rule_priority, self.actions, self.redirect_url = 0, "-", "-"
        self.target, self.group, self.target_status, self.error_reason = "-", "-", "-", "-"
        self.dispatched: float | None = None
        self.answered: float | None = None

    def routed(self, rule_priority: int, action: str, redirect_url: str = "-") -> None:
        """The rule that matched and the action taken."""
        self.rule_priority, self.actions, self.redirect_url = rule_priority, action, redirect_url

    def sent_to(self, address: str) -> None:
        """The request leaves for a target of the group."""
        self.target, self.dispatched = address, time.monotonic()

    def target_responded(self, status: int) -> None:
        """The target's response arrived."""
        self.target_status, self.answered = str(status), time.monotonic()

    def entry(self, response: Any) -> Entry:
        """The finished request's line fields (``response`` is what the client gets)."""
        end = time.monotonic()
        target_time = response_time = None  # -1 in the line: the request never reached a target or got no answer
        if self.dispatched is not None and self.answered is not None:
            target_time, response_time = self.answered - self.dispatched, end - self.answered
        request_time = (self.dispatched or end) - self.started
        if self.actions == "forward" and self.dispatched is None:
            request_time = None  # no target to dispatch to (503): ELB logs -1
        body = _content_length(response.headers)
        if not body and not response.is_streamed:
            body = len(response.get_data())
        status_line = len(f"HTTP/1.1 {response.status}\r\n")
        return Entry(
            kind=self.kind, time=datetime.now(UTC), client=self.client, target=self.target,
            request_time=request_time, target_time=target_time, response_time=response_time,
            elb_status=int(response.status_code), target_status=self.target_status, received=self.received,
            sent=status_line + _headers_size(response.headers) + body, request=self.request,
            user_agent=self.user_agent, target_group=self.group, trace_id=self.trace_id,
            rule_priority=self.rule_priority, created=self.created, actions=self.actions,
            redirect_url=self.redirect_url, error_reason=self.error_reason, conn_trace_id=self.conn_trace_id,
        )
