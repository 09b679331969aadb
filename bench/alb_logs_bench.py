"""ALB access logs on LocalStack: what logging costs a request through a listener, and how soon lines arrive.

Against a running LocalStack with the project's extension (``DSPLATFORM_LOCALSTACK_URL``, default :4566):
a load balancer whose listener forwards to a small HTTP target on loopback (started here). Sequential GETs in
blocks, logging on and off alternating in the same run, each mode first in every other round (``--rounds`` of
``--requests`` each): p50/p99 latency per mode and the on/off ratio of the medians. Then the delivery lag: seconds
from a request to its line in S3, which the extension bounds by its interval (``DSPLATFORM_ACCESS_LOG_SECONDS``
of the LocalStack process, default 5). Everything it creates is deleted. Usage:
  python bench/alb_logs_bench.py [--requests 200] [--rounds 4] [--json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dsplatform.localstack.endpoints import listener_url  # noqa: E402

ACCOUNT = "121212121212"  # an account of its own, so nothing else's resources are met
ELB_ACCOUNT = "127311923021"  # us-east-1's Elastic Load Balancing account


class _Target(BaseHTTPRequestHandler):
    """The target: a small JSON body (HTTP/1.0, a connection per request)."""

    def do_GET(self) -> None:
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        """Quiet."""


def _client(service: str) -> Any:
    import boto3

    url = os.environ.get("DSPLATFORM_LOCALSTACK_URL", "http://127.0.0.1:4566")
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id=ACCOUNT,
                        aws_secret_access_key="test")


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _timed(url: str) -> float:
    began = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as response:
        response.read()
    return (time.perf_counter() - began) * 1000


def _logging(elbv2: Any, arn: str, bucket: str | None) -> None:
    attributes = [{"Key": "access_logs.s3.enabled", "Value": "true" if bucket else "false"}]
    if bucket:
        attributes += [{"Key": "access_logs.s3.bucket", "Value": bucket},
                       {"Key": "access_logs.s3.prefix", "Value": "b"}]
    elbv2.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=attributes)


def _lines(s3: Any, bucket: str) -> list[str]:
    found = s3.list_objects_v2(Bucket=bucket, Prefix=f"b/AWSLogs/{ACCOUNT}/elasticloadbalancing/").get("Contents", [])
    bodies = [gzip.decompress(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()).decode() for o in found]
    return [line for body in bodies for line in body.splitlines()]


def run(requests: int, rounds: int) -> dict[str, Any]:
    """Set up, measure, tear down; the figures."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Target)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ec2, elbv2, s3 = _client("ec2"), _client("elbv2"), _client("s3")
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    name = f"bench-{uuid.uuid4().hex[:8]}"
    arn = elbv2.create_load_balancer(Name=name, Subnets=[s["SubnetId"] for s in subnets[:2]], Scheme="internal")[
        "LoadBalancers"][0]["LoadBalancerArn"]
    group = elbv2.create_target_group(Name=name, Protocol="HTTP", Port=server.server_address[1], TargetType="ip",
                                      VpcId=subnets[0]["VpcId"])["TargetGroups"][0]["TargetGroupArn"]
    s3.create_bucket(Bucket=name)
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ELB_ACCOUNT}:root"}, "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{name}/b/AWSLogs/{ACCOUNT}/*"}]}))
    try:
        elbv2.register_targets(TargetGroupArn=group, Targets=[{"Id": "127.0.0.1", "Port": server.server_address[1]}])
        elbv2.create_listener(LoadBalancerArn=arn, Protocol="HTTP", Port=80,
                              DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])
        url = listener_url(elbv2, arn, 80) + "/bench"
        for _ in range(20):  # warm-up: the target's first health check, connections, imports
            _timed(url)
        times: dict[str, list[float]] = {"off": [], "on": []}
        for round_ in range(rounds):
            for mode in ("off", "on") if round_ % 2 == 0 else ("on", "off"):  # neither mode always goes first
                _logging(elbv2, arn, name if mode == "on" else None)
                times[mode] += [_timed(url) for _ in range(requests)]
        _logging(elbv2, arn, name)
        lags = []
        for _ in range(3):  # one request at a time: seconds until its line is in S3
            before = len(_lines(s3, name))
            sent = time.monotonic()
            _timed(url + "?lag")
            while len(_lines(s3, name)) <= before and time.monotonic() - sent < 60:
                time.sleep(0.1)
            lags.append(time.monotonic() - sent)
        logged = len(_lines(s3, name))
    finally:
        elbv2.delete_load_balancer(LoadBalancerArn=arn)
        elbv2.delete_target_group(TargetGroupArn=group)
        server.shutdown()
        for o in s3.list_objects_v2(Bucket=name).get("Contents", []):
            s3.delete_object(Bucket=name, Key=o["Key"])
        s3.delete_bucket(Bucket=name)
    p50 = {mode: statistics.median(values) for mode, values in times.items()}
    return {
        "requests_per_mode": len(times["on"]),
        "p50_ms": p50, "p99_ms": {mode: _pct(values, 99) for mode, values in times.items()},
        "on_off_ratio_p50": p50["on"] / p50["off"],
        "lines_logged": logged, "expected_lines": len(times["on"]) + len(lags),
        "delivery_lag_s": sorted(lags), "load_average_1m": os.getloadavg()[0],
    }


def main() -> None:
    """Parse the flags, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="GETs per block")
    parser.add_argument("--rounds", type=int, default=4, help="blocks per mode, alternating off/on")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    result = run(args.requests, args.rounds)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{result['requests_per_mode']} GETs per mode through the listener (sequential, alternating blocks)")
    for mode in ("off", "on"):
        print(f"  logging {mode:>3}: p50 {result['p50_ms'][mode]:.2f} ms  p99 {result['p99_ms'][mode]:.2f} ms")
    print(f"  on/off p50 ratio: {result['on_off_ratio_p50']:.3f}")
    print(f"  lines logged: {result['lines_logged']} of {result['expected_lines']}")
    lags = ", ".join(f"{lag:.2f}" for lag in result["delivery_lag_s"])
    print(f"  delivery lag: {lags} s; load average {result['load_average_1m']:.1f}")


if __name__ == "__main__":
    main()
