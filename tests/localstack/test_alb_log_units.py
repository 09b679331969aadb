"""Pure parts of the local ALB's access logs: ELB's bucket-policy check, the log line and the object key."""

from __future__ import annotations

import json
import re
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from troposphere import Template

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "localstack" / "extension"))

from dsplatform_localstack.alb import log_policy
from dsplatform_localstack.alb.access_logs import Destination, object_key
from dsplatform_localstack.alb.log_entry import Entry, quoted

from blueprints import access_logs as blueprint

ACCOUNT, BUCKET, PREFIX = "123456789012", "logs-bucket", "ds-dev-api"
LB = f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:loadbalancer/app/web-1/50dc6c495c0c9188"


def _resolve(value: Any, region: str) -> Any:
    """CloudFormation's Sub/GetAtt for the blueprint's policy, as the stack would resolve them."""
    names = {"AWS::Partition": "aws", "AWS::AccountId": ACCOUNT, "AWS::Region": region,
             "Arn": f"arn:aws:s3:::{BUCKET}"}
    if isinstance(value, dict) and "Fn::Sub" in value:
        text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
        return re.sub(r"\$\{([^}]+)\}", lambda m: names.get(m.group(1), "?"), text)
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return f"arn:aws:s3:::{BUCKET}"
    if isinstance(value, dict):
        return {k: _resolve(v, region) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, region) for v in value]
    return value


def _blueprint_policy(region: str) -> str:
    template = Template()
    blueprint.access_log_bucket(template, name=BUCKET, region=region, prefix=PREFIX, expiration_days=7)
    document = template.to_dict()["Resources"]["AccessLogBucketPolicy"]["Properties"]["PolicyDocument"]
    return json.dumps(_resolve(document, region))


def _allow(principal: Any, resource: str, condition: dict[str, Any] | None = None, effect: str = "Allow") -> dict:
    statement = {"Effect": effect, "Principal": principal, "Action": "s3:PutObject", "Resource": resource}
    return {**statement, "Condition": condition} if condition else statement


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def test_the_extension_knows_the_same_elb_accounts_as_the_blueprint() -> None:
    assert log_policy.ELB_ACCOUNTS == blueprint.ELB_ACCOUNTS
    assert log_policy.LOG_DELIVERY_SERVICE == blueprint.LOG_DELIVERY_SERVICE


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-5"])  # the last: service principal
def test_the_blueprints_bucket_policy_lets_elb_deliver(region: str) -> None:
    lb = LB.replace("us-east-1", region)
    assert log_policy.allows_delivery(_blueprint_policy(region), BUCKET, PREFIX, ACCOUNT, region, lb)
    # ... under its own prefix only
    assert not log_policy.allows_delivery(_blueprint_policy(region), BUCKET, "other", ACCOUNT, region, lb)


def test_policies_that_do_not_let_elb_write_are_refused() -> None:
    elb = {"AWS": "arn:aws:iam::127311923021:root"}
    objects = f"arn:aws:s3:::{BUCKET}/{PREFIX}/AWSLogs/{ACCOUNT}/*"
    allowed = _policy(_allow(elb, objects))
    assert log_policy.allows_delivery(allowed, BUCKET, PREFIX, ACCOUNT, "us-east-1", LB)
    refused = {
        "no policy": None,
        "another account": _policy(_allow({"AWS": "arn:aws:iam::111111111111:root"}, objects)),
        "another region's ELB": _policy(_allow({"AWS": "arn:aws:iam::156460612806:root"}, objects)),
        "another account's folder": _policy(_allow(elb, f"arn:aws:s3:::{BUCKET}/{PREFIX}/AWSLogs/999999999999/*")),
        "read only": _policy({**_allow(elb, objects), "Action": "s3:GetObject"}),
        "denied": _policy(_allow(elb, objects), _allow("*", objects, effect="Deny")),
        "other source account": _policy(
            _allow(elb, objects, {"StringEquals": {"aws:SourceAccount": "111111111111"}})),
        "unknown condition": _policy(_allow(elb, objects, {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})),
        "not json": "{",
    }
    for reason, policy in refused.items():
        assert not log_policy.allows_delivery(policy, BUCKET, PREFIX, ACCOUNT, "us-east-1", LB), reason
    # A Deny for plain HTTP does not stop ELB (it writes over TLS); a matching SourceArn condition holds.
    tls_only = _allow("*", objects, {"Bool": {"aws:SecureTransport": "false"}}, effect="Deny")
    service = {"Service": log_policy.LOG_DELIVERY_SERVICE}
    scoped = _allow(service, objects, {"ArnLike": {"aws:SourceArn": LB[:60] + "*"}})
    assert log_policy.allows_delivery(_policy(tls_only, scoped), BUCKET, PREFIX, ACCOUNT, "us-east-1", LB)
    assert log_policy.probe_key("", ACCOUNT) == f"AWSLogs/{ACCOUNT}/ELBAccessLogTestFile"


def _entry(**changes: Any) -> Entry:
    when = datetime(2026, 11, 30, 19, 5, 7, 123456, tzinfo=UTC)
    fields: dict[str, Any] = dict(
        kind="http", time=when, client="127.0.0.1:50312", target="127.18.52.3:8080", request_time=0.0004,
        target_time=0.0123, response_time=0.0, elb_status=200, target_status="200", received=120, sent=310,
        request='GET http://web.local:80/a b?q="1" HTTP/1.1', user_agent="curl/8.0", target_group="arn:tg",
        trace_id="Root=1-6927a1f3-0123456789abcdef01234567", rule_priority=0, created=when, actions="forward",
        redirect_url="-", error_reason="-", conn_trace_id="TID_0123")
    return Entry(**{**fields, **changes})


def test_a_line_has_elbs_fields_in_order() -> None:
    fields = shlex.split(_entry().line(LB))
    assert len(fields) == 33
    assert fields[:12] == ["http", "2026-11-30T19:05:07.123456Z", "app/web-1/50dc6c495c0c9188", "127.0.0.1:50312",
                           "127.18.52.3:8080", "0.000", "0.012", "0.000", "200", "200", "120", "310"]
    assert fields[12] == 'GET http://web.local:80/a b?q="1" HTTP/1.1'  # quotes escaped inside the field
    assert fields[13:21] == ["curl/8.0", "-", "-", "arn:tg", "Root=1-6927a1f3-0123456789abcdef01234567", "-", "-", "0"]
    assert fields[21:30] == ["2026-11-30T19:05:07.123456Z", "forward", "-", "-", "127.18.52.3:8080", "200", "-", "-",
                             "TID_0123"]
    assert fields[30:] == ["-", "-", "-"]
    failed = shlex.split(_entry(target="-", request_time=None, target_time=None, response_time=None,
                                elb_status=503, target_status="-").line(LB))
    assert failed[4:10] == ["-", "-1", "-1", "-1", "503", "-"] and failed[25:27] == ["-", "-"]
    assert quoted("é\\") == '"\\xc3\\xa9\\\\"'


def test_objects_are_keyed_as_elb_names_them() -> None:
    end = datetime(2026, 11, 30, 19, 5, 59, tzinfo=UTC)
    destination = Destination(BUCKET, PREFIX + "/", "000000000000", ACCOUNT, "us-east-1")
    assert object_key(destination, LB, end, "1a2b3c4d") == (
        f"{PREFIX}/AWSLogs/{ACCOUNT}/elasticloadbalancing/us-east-1/2026/11/30/"
        f"{ACCOUNT}_elasticloadbalancing_us-east-1_app.web-1.50dc6c495c0c9188_20261130T1905Z_127.0.0.1_1a2b3c4d.log.gz")
    bare = Destination(BUCKET, "", "000000000000", ACCOUNT, "us-east-1")
    assert object_key(bare, LB, end, "x").startswith(f"AWSLogs/{ACCOUNT}/elasticloadbalancing/")
