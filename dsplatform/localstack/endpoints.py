"""Where a load balancer deployed on LocalStack really answers: its listeners' local URLs.

On AWS a client calls `http(s)://<DNSName>:<listener port>`. On LocalStack the extension serves each listener
on 127.0.0.1 at a free port and tags the listener with `dsplatform:local-url` (e.g. `http://127.0.0.1:41234`);
this module reads that tag, so harnesses and benchmarks translate the URL the stack outputs.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

LOCAL_URL_TAG = "dsplatform:local-url"  # written by localstack/extension/dsplatform_localstack/alb/listeners.py


class NoLocalListenerError(LookupError):
    """The load balancer has no listener served locally on that port (not deployed on LocalStack?)."""


def listener_url(elbv2: Any, load_balancer: str, port: int | None = None) -> str:
    """The local URL of a load balancer's listener (by ARN or DNS name; the only listener if port is None)."""
    if load_balancer.startswith("arn:"):
        balancer_arn = load_balancer
    else:
        balancers = elbv2.describe_load_balancers()["LoadBalancers"]
        matches = [b["LoadBalancerArn"] for b in balancers if b["DNSName"].lower() == load_balancer.lower()]
        if not matches:
            raise NoLocalListenerError(f"no load balancer with DNS name {load_balancer!r}")
        balancer_arn = matches[0]
    listeners = elbv2.describe_listeners(LoadBalancerArn=balancer_arn)["Listeners"]
    chosen = [item for item in listeners if port is None or int(item["Port"]) == int(port)]
    if not chosen or (port is None and len(chosen) > 1):
        ports = sorted(int(item["Port"]) for item in listeners)
        raise NoLocalListenerError(f"load balancer {balancer_arn}: listener port {port} not among {ports}")
    tags = elbv2.describe_tags(ResourceArns=[chosen[0]["ListenerArn"]])["TagDescriptions"][0]["Tags"]
    for tag in tags:
        if tag["Key"] == LOCAL_URL_TAG:
            return str(tag["Value"])
    raise NoLocalListenerError(f"listener {chosen[0]['ListenerArn']} has no {LOCAL_URL_TAG} tag (not on LocalStack?)")


def local_url(elbv2: Any, url: str) -> str:
    """Translate `http(s)://<DNSName>[:port]/path` (as a stack outputs it) to the listener's local URL + path."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    base = urlsplit(listener_url(elbv2, parts.hostname or "", port))
    return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, parts.fragment))
