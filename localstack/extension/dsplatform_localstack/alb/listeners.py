"""A real HTTP server on 127.0.0.1 for every ALB listener: rules, round-robin over healthy targets, draining.

Each listener gets its own free local port (its AWS port, 80 or 443, is usually taken or privileged here).
The local URL is published as the listener's tag `dsplatform:local-url` (for example `http://127.0.0.1:41234`),
which clients find with DescribeListeners + DescribeTags. TLS is not terminated: an HTTPS listener serves
plain HTTP locally (named in the fidelity report).
"""

from __future__ import annotations

import itertools
import logging
import threading
from typing import Any

from dsplatform_localstack import ports
from dsplatform_localstack.alb import access_logs, log_entry, routing, targets

LOG = logging.getLogger(__name__)
LOCAL_URL_TAG = "dsplatform:local-url"
_SERVERS: dict[str, ListenerServer] = {}
_COUNTERS: dict[str, itertools.count[int]] = {}
_LOCK = threading.Lock()
_INSTALLED = False


def pick(group_arn: str) -> targets.Target | None:
    """Round-robin over the group's routable targets; the chosen one's in-flight count goes up."""
    with targets._LOCK:  # chosen and counted at once: a drain that starts now waits for this request
        candidates = targets.routable(group_arn)
        if not candidates:
            return None
        counter = _COUNTERS.setdefault(group_arn, itertools.count())
        target = candidates[next(counter) % len(candidates)]
        target.in_flight += 1
        return target


def _listener(account: str, region: str, listener_arn: str) -> Any:
    from moto.elbv2.models import elbv2_backends

    backend = elbv2_backends[account][region]
    for balancer in backend.load_balancers.values():
        if listener_arn in balancer.listeners:
            return balancer.listeners[listener_arn]
    return None


class ListenerServer:
    """One listener's local HTTP server (LocalStack's GatewayServer, requests forwarded with rolo's Proxy)."""

    def __init__(self, account: str, region: str, listener_arn: str) -> None:
        from localstack.aws.gateway import Gateway
        from localstack.config import HostAndPort
        from localstack.http.hypercorn import GatewayServer

        self.account, self.region, self.listener_arn = account, region, listener_arn
        self.port = ports.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._proxies: dict[str, Any] = {}
        gateway = Gateway(request_handlers=[self._handle])
        self.server = GatewayServer(gateway, HostAndPort("127.0.0.1", self.port), threads=64)

    def start(self) -> None:
        """Serve in the background and wait until the port answers."""
        self.server.start()
        if not self.server.wait_is_up(timeout=15):
            raise RuntimeError(f"local listener for {self.listener_arn} did not start on {self.url}")

    def stop(self) -> None:
        """Stop serving."""
        try:
            self.server.shutdown()
        except Exception:  # a server that never came up has nothing to shut down
            LOG.debug("listener %s: shutdown", self.listener_arn, exc_info=True)

    def _proxy(self, address: str) -> Any:
        from rolo.client import SimpleRequestsClient
        from rolo.proxy import Proxy

        with _LOCK:
            if address not in self._proxies:
                # A load balancer passes redirects through to the client; it never follows them.
                client = SimpleRequestsClient(follow_redirects=False)
                self._proxies[address] = Proxy(f"http://{address}", client=client, preserve_host=True)
            return self._proxies[address]

    def _handle(self, chain: Any, context: Any, response: Any) -> None:
        request = context.request
        listener = _listener(self.account, self.region, self.listener_arn)
        if listener is None:
            response.status_code, response.data = 503, b"listener deleted\n"
            return
        exchange = log_entry.Exchange(listener, request)
        try:
            self._route(listener, exchange, context, response)
        finally:
            if access_logs.enabled(listener.load_balancer_arn):
                access_logs.record(listener.load_balancer_arn, exchange.entry(response))

    def _route(self, listener: Any, exchange: log_entry.Exchange, context: Any, response: Any) -> None:
        request = context.request
        priority, actions = routing.match(
            listener, request.method, request.host, request.path, request.headers, request.args
        )
        for action in sorted(actions, key=lambda a: int(getattr(a, "data", {}).get("Order") or 0)):
            kind = action.type
            if kind == "redirect":
                config = action.data.get("RedirectConfig") or {}
                location = routing.redirect_location(
                    config,
                    "https" if listener.protocol == "HTTPS" else "http",
                    request.host,
                    int(listener.port),
                    request.path,
                    request.query_string.decode(),
                )
                exchange.routed(priority, kind, location)
                response.status_code = 301 if config.get("StatusCode") == "HTTP_301" else 302
                response.headers["Location"] = location
                return
            if kind == "fixed-response":
                exchange.routed(priority, kind)
                config = action.data.get("FixedResponseConfig") or {}
                response.status_code = int(config.get("StatusCode") or 200)
                response.headers["Content-Type"] = config.get("ContentType") or "text/plain"
                response.data = (config.get("MessageBody") or "").encode()
                return
            if kind == "forward":
                exchange.routed(priority, kind)
                self._forward(routing.forward_group(action), listener, exchange, context, response)
                return
        response.status_code, response.data = 503, b"no action\n"

    def _forward(
        self, group_arn: str | None, listener: Any, exchange: log_entry.Exchange, context: Any, response: Any
    ) -> None:
        exchange.group = group_arn or "-"  # logged even when the group has no target to send to
        target = pick(group_arn) if group_arn else None
        if target is None:
            response.status_code, response.data = 503, b"503 Service Temporarily Unavailable\n"
            return
        headers = {"X-Forwarded-Port": str(listener.port), "X-Amzn-Trace-Id": exchange.trace_id}
        try:
            exchange.sent_to(target.address)
            proxied = self._proxy(target.address).forward(context.request, headers=headers)
            exchange.target_responded(proxied.status_code)
            response.update_from(proxied)
        except Exception as err:  # connection refused or reset: the target is gone, as ALB answers 502
            LOG.debug("listener %s -> %s: %s", self.listener_arn, target.address, err)
            response.status_code, response.data = 502, b"502 Bad Gateway\n"
        finally:
            with targets._LOCK:
                target.in_flight -= 1


def start_listener(backend: Any, listener: Any) -> ListenerServer:
    """Serve a new listener locally and tag it with its local URL."""
    server = ListenerServer(backend.account_id, backend.region_name, listener.arn)
    server.start()
    with _LOCK:
        _SERVERS[listener.arn] = server
    backend.tagging_service.tag_resource(listener.arn, [{"Key": LOCAL_URL_TAG, "Value": server.url}])
    LOG.info("ALB listener %s (port %s) serves locally at %s", listener.arn, listener.port, server.url)
    return server


def stop_listener(listener_arn: str) -> None:
    """Stop a deleted listener's server."""
    with _LOCK:
        server = _SERVERS.pop(listener_arn, None)
    if server is not None:
        server.stop()


def stop_all() -> None:
    """Stop every listener server (LocalStack shutdown)."""
    for arn in list(_SERVERS):
        stop_listener(arn)


def url_of(listener_arn: str) -> str | None:
    """The local URL of a listener, if it is served."""
    server = _SERVERS.get(listener_arn)
    return server.url if server else None


def install() -> None:
    """Patch moto's ELBv2 backend so listeners are served and stop with their listener or load balancer."""
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.elbv2.models import ELBv2Backend

    original_create, original_delete = ELBv2Backend.create_listener, ELBv2Backend.delete_listener
    original_delete_lb = ELBv2Backend.delete_load_balancer

    def _create(self: Any, *args: Any, **kwargs: Any) -> Any:
        listener = original_create(self, *args, **kwargs)
        start_listener(self, listener)
        return listener

    def _delete(self: Any, arn: str) -> Any:
        listener = original_delete(self, arn)
        stop_listener(arn)
        return listener

    def _delete_lb(self: Any, arn: str) -> None:
        balancer = self.load_balancers.get(arn)
        arns = list(balancer.listeners) if balancer is not None else []
        original_delete_lb(self, arn)
        for listener_arn in arns:
            stop_listener(listener_arn)

    ELBv2Backend.create_listener = _create  # type: ignore[method-assign]
    ELBv2Backend.delete_listener = _delete  # type: ignore[method-assign]
    ELBv2Backend.delete_load_balancer = _delete_lb  # type: ignore[method-assign]
    _INSTALLED = True
