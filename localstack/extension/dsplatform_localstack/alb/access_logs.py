"""ALB access logs: each request a listener handles, as one line of ELB's format, delivered gzipped to S3.

Enabling (`access_logs.s3.enabled=true` through ModifyLoadBalancerAttributes, which CloudFormation's
LoadBalancerAttributes also call) is checked as ELB checks it: the bucket must exist and its policy must let ELB
write under ``<prefix>/AWSLogs/<account>/`` (`log_policy`), else InvalidConfigurationRequest "Access Denied for
bucket" and nothing changes; then ELB's test object is written. AWS delivers every 5 minutes; here every
``DSPLATFORM_ACCESS_LOG_SECONDS`` seconds (default 5), and what is pending is delivered when logging is turned
off, moved, or the load balancer deleted. Objects are written as the bucket's owner. Patches moto's
``ELBv2Backend.modify_load_balancer_attributes`` / ``delete_load_balancer``; reads LocalStack's ``s3_stores``.
"""

from __future__ import annotations

import gzip
import logging
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dsplatform_localstack.alb.log_entry import Entry, resource_id, timestamp
from dsplatform_localstack.alb.log_policy import allows_delivery, probe_key

LOG = logging.getLogger(__name__)
INTERVAL_ENV = "DSPLATFORM_ACCESS_LOG_SECONDS"
NODE_IP = "127.0.0.1"  # the load balancer "node": every listener serves on this address
_LOCK = threading.Lock()
_DESTINATIONS: dict[str, Destination] = {}  # load balancer ARN -> where its logs go
_PENDING: dict[str, list[str]] = {}  # load balancer ARN -> lines not delivered yet
_STOP = threading.Event()
_THREAD: threading.Thread | None = None
_INSTALLED = False


def interval() -> float:
    """Seconds between deliveries (``DSPLATFORM_ACCESS_LOG_SECONDS``, default 5; AWS: 300)."""
    try:
        return max(0.1, float(os.environ.get(INTERVAL_ENV) or 5))
    except ValueError:
        LOG.warning("%s=%r is not a number of seconds; using 5", INTERVAL_ENV, os.environ.get(INTERVAL_ENV))
        return 5.0


@dataclass(frozen=True)
class Destination:
    """Where a load balancer's logs go: bucket, prefix, the bucket's owner; the balancer's account and region."""

    bucket: str
    prefix: str
    owner: str
    account: str
    region: str


def object_key(destination: Destination, load_balancer_arn: str, end: datetime, random: str) -> str:
    """The documented key: <prefix>/AWSLogs/<account>/elasticloadbalancing/<region>/yyyy/mm/dd/<file>.log.gz."""
    account, region = destination.account, destination.region
    name = resource_id(load_balancer_arn).replace("/", ".")
    file = f"{account}_elasticloadbalancing_{region}_{name}_{end:%Y%m%dT%H%MZ}_{NODE_IP}_{random}.log.gz"
    folder = f"AWSLogs/{account}/elasticloadbalancing/{region}/{end:%Y/%m/%d}"
    prefix = destination.prefix.strip("/")
    return f"{prefix}/{folder}/{file}" if prefix else f"{folder}/{file}"


def enabled(load_balancer_arn: str) -> bool:
    """True while the load balancer's access logs are on."""
    return load_balancer_arn in _DESTINATIONS


def record(load_balancer_arn: str, entry: Entry) -> None:
    """Queue one request's line for the next delivery (nothing when logging is off)."""
    line = entry.line(load_balancer_arn)
    with _LOCK:
        if load_balancer_arn in _DESTINATIONS:
            _PENDING.setdefault(load_balancer_arn, []).append(line)


def _s3(account: str, region: str) -> Any:
    from localstack.aws.connect import connect_to

    return connect_to(aws_access_key_id=account, aws_secret_access_key="test", region_name=region).s3


def _bucket_owner(account: str, region: str, bucket: str) -> str | None:
    from localstack.services.s3.models import s3_stores

    return s3_stores[account][region].global_bucket_map.get(bucket)  # one map across accounts


def _deliver(load_balancer_arn: str, destination: Destination, lines: list[str]) -> None:
    now = datetime.now(UTC)
    key = object_key(destination, load_balancer_arn, now, secrets.token_hex(4))
    body = gzip.compress(("\n".join(lines) + "\n").encode())
    _s3(destination.owner, destination.region).put_object(Bucket=destination.bucket, Key=key, Body=body)
    LOG.debug("access logs of %s: %d lines to s3://%s/%s", load_balancer_arn, len(lines), destination.bucket, key)


def _send(load_balancer_arn: str, destination: Destination, lines: list[str]) -> bool:
    try:
        _deliver(load_balancer_arn, destination, lines)
        return True
    except Exception as err:  # bucket gone or S3 down: reported, and the caller decides on a retry
        LOG.warning("access logs of %s not delivered to s3://%s: %s", load_balancer_arn, destination.bucket, err)
        return False


def flush(load_balancer_arn: str) -> None:
    """Deliver the pending lines now; kept for the next interval if S3 refuses them (as ELB retries)."""
    with _LOCK:
        lines = _PENDING.pop(load_balancer_arn, [])
        destination = _DESTINATIONS.get(load_balancer_arn)
    if not lines or destination is None or _send(load_balancer_arn, destination, lines):
        return
    with _LOCK:
        if _DESTINATIONS.get(load_balancer_arn) == destination:
            _PENDING[load_balancer_arn] = lines + _PENDING.get(load_balancer_arn, [])


def _loop() -> None:
    while not _STOP.wait(interval()):
        for arn in list(_DESTINATIONS):
            try:
                flush(arn)
            except Exception:  # one load balancer's trouble must not end delivery for the others
                LOG.exception("access logs of %s: delivery failed", arn)


def _ensure_thread() -> None:
    global _THREAD
    with _LOCK:
        if _THREAD is None or not _THREAD.is_alive():
            _STOP.clear()
            _THREAD = threading.Thread(target=_loop, daemon=True, name="alb-access-logs")
            _THREAD.start()


def _invalid(message: str) -> Exception:
    """ELB's InvalidConfigurationRequest error, which ModifyLoadBalancerAttributes answers."""
    from moto.core.exceptions import RESTError

    return RESTError("InvalidConfigurationRequest", message)


def _denied(bucket: str) -> Exception:
    return _invalid(f"Access Denied for bucket: {bucket}. Please check S3bucket permission")  # ELB's wording


def check(account: str, region: str, load_balancer_arn: str, bucket: str, prefix: str) -> Destination:
    """ELB's check when logging is enabled: bucket exists in the region, policy allows it, test object written."""
    if "AWSLogs" in prefix:
        raise _invalid(f"access_logs.s3.prefix must not contain 'AWSLogs' (ELB adds it after the prefix): {prefix!r}")
    owner = _bucket_owner(account, region, bucket) if bucket else None
    if owner is None:
        raise _denied(bucket)
    client = _s3(owner, region)
    location = client.get_bucket_location(Bucket=bucket).get("LocationConstraint") or "us-east-1"
    if location != region:  # ELB delivers only to a bucket in the load balancer's region
        raise _denied(bucket)
    try:
        policy = client.get_bucket_policy(Bucket=bucket)["Policy"]
    except Exception:  # NoSuchBucketPolicy: nobody but the owner may write
        policy = None
    if not allows_delivery(policy, bucket, prefix, account, region, load_balancer_arn):
        raise _denied(bucket)
    name = resource_id(load_balancer_arn).split("/")[1]
    body = f"Enable AccessLog for ELB: {name} at {timestamp(datetime.now(UTC))}"
    client.put_object(Bucket=bucket, Key=probe_key(prefix, account), Body=body.encode())
    return Destination(bucket, prefix, owner, account, region)


def _apply(load_balancer_arn: str, destination: Destination | None) -> None:
    """Switch a load balancer's destination; lines pending for the old one are delivered there first."""
    with _LOCK:
        previous = _DESTINATIONS.pop(load_balancer_arn, None)
        if destination is not None:
            _DESTINATIONS[load_balancer_arn] = destination
        lines = _PENDING.pop(load_balancer_arn, []) if previous != destination else []
    if previous is not None and lines:
        _send(load_balancer_arn, previous, lines)  # the last delivery to a bucket no longer used: no retry
    if destination is not None:
        _ensure_thread()


def install() -> None:
    """Patch moto's ELBv2 backend: enabling checks the bucket, deleting a load balancer delivers its last lines."""
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.elbv2.models import ELBv2Backend

    original_modify, original_delete = ELBv2Backend.modify_load_balancer_attributes, ELBv2Backend.delete_load_balancer

    def _modify(self: Any, arn: str, attrs: dict[str, Any]) -> Any:
        balancer = self.load_balancers.get(arn)
        if balancer is None or not any(key.startswith("access_logs.s3.") for key in attrs):
            return original_modify(self, arn, attrs)
        merged = {**balancer.attrs, **attrs}
        destination = None
        if str(merged.get("access_logs.s3.enabled", "false")).lower() == "true":
            bucket, prefix = (str(merged.get(f"access_logs.s3.{key}") or "") for key in ("bucket", "prefix"))
            destination = check(self.account_id, self.region_name, arn, bucket, prefix)
        result = original_modify(self, arn, attrs)
        _apply(arn, destination)
        return result

    def _delete(self: Any, arn: str) -> Any:
        result = original_delete(self, arn)
        _apply(arn, None)
        return result

    ELBv2Backend.modify_load_balancer_attributes = _modify  # type: ignore[method-assign]
    ELBv2Backend.delete_load_balancer = _delete  # type: ignore[method-assign]
    _INSTALLED = True


def shutdown() -> None:
    """Stop the delivery thread (LocalStack shutdown; its S3, which holds the buckets, is going away too)."""
    _STOP.set()
