"""The local ALB writes access logs to S3 as ELB does: real LocalStack, real HTTP through the listener to a target."""

from __future__ import annotations

import gzip
import json
import re
import shlex
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dsplatform.localstack.endpoints import listener_url
from tests.localstack.support import ACCOUNT, unique

pytestmark = pytest.mark.localstack
ELB_ACCOUNT = "127311923021"  # us-east-1's Elastic Load Balancing account (AWS's published list)
PREFIX = "edge"
FOLDER = f"{PREFIX}/AWSLogs/{ACCOUNT}/elasticloadbalancing/us-east-1/"
KEY = re.compile(
    rf"{FOLDER}\d{{4}}/\d{{2}}/\d{{2}}/{ACCOUNT}_elasticloadbalancing_us-east-1_app\.(?P<lb>[\w-]+\.[0-9a-f]+)_"
    r"\d{8}T\d{4}Z_127\.0\.0\.1_\w+\.log\.gz"
)


class _Target(BaseHTTPRequestHandler):
    """The load balancer's target: 200 with a small JSON body, 404 under /missing."""

    def do_GET(self) -> None:
        body = json.dumps({"path": self.path}).encode()
        self.send_response(404 if self.path.startswith("/missing") else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@dataclass
class Balancer:
    """A load balancer with one listener forwarding to the target; rules answer /teapot themselves, redirect /old
    and forward /empty to a group without targets."""

    arn: str
    group: str
    empty: str
    url: str
    target: str


@pytest.fixture
def balancer(localstack: Any) -> Iterator[Balancer]:
    """A real HTTP target on loopback behind a load balancer of the extension; removed after."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Target)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    ec2, elbv2 = localstack.client("ec2", ACCOUNT), localstack.client("elbv2", ACCOUNT)
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    name = unique("logs")
    arn = elbv2.create_load_balancer(Name=name, Subnets=[s["SubnetId"] for s in subnets[:2]], Scheme="internal")[
        "LoadBalancers"][0]["LoadBalancerArn"]
    group = elbv2.create_target_group(Name=name, Protocol="HTTP", Port=port, VpcId=subnets[0]["VpcId"],
                                      TargetType="ip", HealthCheckPath="/")["TargetGroups"][0]["TargetGroupArn"]
    elbv2.register_targets(TargetGroupArn=group, Targets=[{"Id": "127.0.0.1", "Port": port}])
    empty = elbv2.create_target_group(Name=f"{name}-e", Protocol="HTTP", Port=port, VpcId=subnets[0]["VpcId"],
                                      TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    listener = elbv2.create_listener(LoadBalancerArn=arn, Protocol="HTTP", Port=80,
                                     DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])
    elbv2.create_rule(ListenerArn=listener["Listeners"][0]["ListenerArn"], Priority=7,
                      Conditions=[{"Field": "path-pattern", "Values": ["/teapot"]}],
                      Actions=[{"Type": "fixed-response", "FixedResponseConfig": {
                          "StatusCode": "418", "ContentType": "text/plain", "MessageBody": "tea"}}])
    elbv2.create_rule(ListenerArn=listener["Listeners"][0]["ListenerArn"], Priority=8,
                      Conditions=[{"Field": "path-pattern", "Values": ["/old"]}],
                      Actions=[{"Type": "redirect", "RedirectConfig": {"Path": "/new", "StatusCode": "HTTP_301"}}])
    elbv2.create_rule(ListenerArn=listener["Listeners"][0]["ListenerArn"], Priority=9,
                      Conditions=[{"Field": "path-pattern", "Values": ["/empty"]}],
                      Actions=[{"Type": "forward", "TargetGroupArn": empty}])
    try:
        yield Balancer(arn, group, empty, listener_url(elbv2, arn, 80), f"127.0.0.1:{port}")
    finally:
        elbv2.delete_load_balancer(LoadBalancerArn=arn)
        for target_group in (group, empty):
            elbv2.delete_target_group(TargetGroupArn=target_group)
        server.shutdown()


def _bucket(s3: Any, policy: dict[str, Any] | None) -> str:
    name = unique("alb-logs")
    s3.create_bucket(Bucket=name)
    if policy is not None:
        s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy).replace("BUCKET", name))
    return name


def _elb_may_write(prefix: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ELB_ACCOUNT}:root"}, "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::BUCKET/{prefix}/AWSLogs/{ACCOUNT}/*"}]}


def _logs(bucket: str, prefix: str = PREFIX) -> list[dict[str, str]]:
    """Attributes to turn logging on into ``bucket`` under ``prefix``."""
    return [{"Key": "access_logs.s3.enabled", "Value": "true"}, {"Key": "access_logs.s3.bucket", "Value": bucket},
            {"Key": "access_logs.s3.prefix", "Value": prefix}]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any) -> None:
        """A load balancer's redirect is the answer under test; it is not followed."""
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _get(url: str) -> int:
    request = urllib.request.Request(url, headers={"User-Agent": "logs-test/1.0"})
    try:
        with _OPENER.open(request, timeout=10) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as err:
        return err.code


def _delivered(s3: Any, bucket: str) -> dict[str, list[str]]:
    """Every log object under the folder: key -> its lines."""
    found = s3.list_objects_v2(Bucket=bucket, Prefix=FOLDER).get("Contents", [])
    return {o["Key"]: gzip.decompress(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()).decode().splitlines()
            for o in found}


def _wait_lines(s3: Any, bucket: str, count: int, timeout: float = 20) -> dict[str, list[str]]:
    deadline = time.monotonic() + timeout
    while True:
        delivered = _delivered(s3, bucket)
        if sum(len(lines) for lines in delivered.values()) >= count or time.monotonic() > deadline:
            return delivered
        time.sleep(0.3)


def test_each_request_through_a_listener_is_one_line_in_elbs_format_and_key(
        localstack: Any, balancer: Balancer) -> None:
    s3, elbv2 = localstack.client("s3", ACCOUNT), localstack.client("elbv2", ACCOUNT)
    bucket = _bucket(s3, _elb_may_write(PREFIX))
    elbv2.modify_load_balancer_attributes(LoadBalancerArn=balancer.arn, Attributes=_logs(bucket))
    # ELB proves it may write with a test object when logging is switched on.
    s3.head_object(Bucket=bucket, Key=f"{PREFIX}/AWSLogs/{ACCOUNT}/ELBAccessLogTestFile")

    paths = ("/hello?x=1", "/missing", "/teapot", "/old", "/empty")
    assert [_get(balancer.url + path) for path in paths] == [200, 404, 418, 301, 503]
    delivered = _wait_lines(s3, bucket, len(paths))  # the delivery interval (DSPLATFORM_ACCESS_LOG_SECONDS) passes
    assert delivered, "no access log delivered"
    lb_id = "/".join(balancer.arn.split("/")[-2:])
    for key in delivered:
        match = KEY.fullmatch(key)
        assert match and match["lb"] == lb_id.replace("/", "."), key
    lines = [shlex.split(line) for lines in delivered.values() for line in lines]
    assert len(lines) == len(paths), lines
    by_path = {fields[12].split()[1].split(":80", 1)[1]: fields for fields in lines}
    assert set(by_path) == set(paths)
    for path, status in (("/hello?x=1", "200"), ("/missing", "404")):
        fields = by_path[path]
        assert (fields[0], fields[2], fields[4]) == ("http", f"app/{lb_id}", balancer.target)
        assert fields[3].startswith("127.0.0.1:") and int(fields[3].split(":")[1]) > 0
        assert float(fields[6]) >= 0 and (fields[8], fields[9]) == (status, status)
        body = len(json.dumps({"path": path}))
        assert int(fields[11]) > body and int(fields[10]) > len(path)  # line + headers + body
        assert fields[12] == f"GET http://{balancer.url.split('//')[1].split(':')[0]}:80{path} HTTP/1.1"
        assert fields[13] == "logs-test/1.0" and fields[16] == balancer.group
        assert fields[17].startswith("Root=1-") and (fields[20], fields[22]) == ("0", "forward")
        assert (fields[25], fields[26]) == (balancer.target, status)
    teapot = by_path["/teapot"]
    assert (teapot[4], teapot[6], teapot[7], teapot[8], teapot[9]) == ("-", "-1", "-1", "418", "-")
    assert (teapot[20], teapot[22]) == ("7", "fixed-response")  # the rule's priority and action
    old = by_path["/old"]
    assert (old[4], old[8], old[9], old[20], old[22]) == ("-", "301", "-", "8", "redirect")
    assert old[23] == f"http://{balancer.url.split('//')[1].split(':')[0]}/new"  # redirect_url: port 80 is implied
    empty = by_path["/empty"]  # no target to send to: -1 for all three times, the group still named
    assert (empty[4], empty[5], empty[6], empty[7], empty[8], empty[9]) == ("-", "-1", "-1", "-1", "503", "-")
    assert (empty[16], empty[20], empty[22]) == (balancer.empty, "9", "forward")

    # Turning logging off delivers what is pending at once; later requests are not logged.
    assert _get(balancer.url + "/last") == 200
    elbv2.modify_load_balancer_attributes(LoadBalancerArn=balancer.arn, Attributes=[
        {"Key": "access_logs.s3.enabled", "Value": "false"}])
    requests = [shlex.split(line)[12] for lines in _delivered(s3, bucket).values() for line in lines]
    assert len(requests) == len(paths) + 1 and any("/last " in r for r in requests)
    assert _get(balancer.url + "/unlogged") == 200
    time.sleep(3)
    assert sum(len(lines) for lines in _delivered(s3, bucket).values()) == len(paths) + 1


def test_a_bucket_elb_may_not_write_is_refused_and_nothing_changes(localstack: Any, balancer: Balancer) -> None:
    s3, elbv2 = localstack.client("s3", ACCOUNT), localstack.client("elbv2", ACCOUNT)
    before = elbv2.describe_load_balancer_attributes(LoadBalancerArn=balancer.arn)["Attributes"]
    west = localstack.client("s3", ACCOUNT, "us-west-2")
    elsewhere = unique("alb-logs-west")
    west.create_bucket(Bucket=elsewhere, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    west.put_bucket_policy(Bucket=elsewhere, Policy=json.dumps(_elb_may_write(PREFIX)).replace("BUCKET", elsewhere))
    cases = {
        "no policy": _bucket(s3, None),
        "another prefix": _bucket(s3, _elb_may_write("other")),
        "missing bucket": unique("alb-logs-missing"),
        "another region": elsewhere,
    }
    for case, bucket in cases.items():
        with pytest.raises(ClientError) as refused:
            elbv2.modify_load_balancer_attributes(LoadBalancerArn=balancer.arn, Attributes=_logs(bucket))
        error = refused.value.response["Error"]
        assert error["Code"] == "InvalidConfigurationRequest", case
        assert error["Message"].startswith(f"Access Denied for bucket: {bucket}."), (case, error)
        assert elbv2.describe_load_balancer_attributes(LoadBalancerArn=balancer.arn)["Attributes"] == before, case
    reserved = _bucket(s3, _elb_may_write("AWSLogs"))
    with pytest.raises(ClientError, match="must not contain 'AWSLogs'"):
        elbv2.modify_load_balancer_attributes(LoadBalancerArn=balancer.arn, Attributes=_logs(reserved, "AWSLogs"))
    assert elbv2.describe_load_balancer_attributes(LoadBalancerArn=balancer.arn)["Attributes"] == before
    assert _get(balancer.url + "/hello") == 200
    for bucket in (cases["no policy"], cases["another prefix"], elsewhere, reserved):
        assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0  # not even ELB's test object


def test_a_stack_whose_log_bucket_elb_may_not_write_fails_and_leaves_no_load_balancer(localstack: Any) -> None:
    cfn, ec2, elbv2 = (localstack.client(s, ACCOUNT) for s in ("cloudformation", "ec2", "elbv2"))
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    name = unique("nologs")
    template = {"Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": name}},  # no policy: ELB may not write
        "LoadBalancer": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {
            "Name": name, "Scheme": "internal", "Subnets": [s["SubnetId"] for s in subnets[:2]],
            "LoadBalancerAttributes": [{"Key": "access_logs.s3.enabled", "Value": "true"},
                                       {"Key": "access_logs.s3.bucket", "Value": {"Ref": "Bucket"}}]}}}}
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))
    try:
        with pytest.raises(Exception, match=r"CREATE_FAILED|ROLLBACK_COMPLETE"):
            cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        events = cfn.describe_stack_events(StackName=name)["StackEvents"]
        reasons = [e.get("ResourceStatusReason", "") for e in events if e["LogicalResourceId"] == "LoadBalancer"]
        assert any(f"Access Denied for bucket: {name}" in r for r in reasons), reasons
        names = [b["LoadBalancerName"] for b in elbv2.describe_load_balancers()["LoadBalancers"]]
        assert name not in names  # the balancer made before its attributes were refused is gone
    finally:
        cfn.delete_stack(StackName=name)
        cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
