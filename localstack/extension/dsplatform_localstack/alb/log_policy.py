"""Whether a bucket policy lets Elastic Load Balancing write an ALB's access logs, as ELB checks when they are enabled.

ELB writes as the region's Elastic Load Balancing account (regions opened before August 2022) or as the
``logdelivery.elasticloadbalancing.amazonaws.com`` service principal, over TLS, one object under
``<prefix>/AWSLogs/<account>/``
(docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html).
Pure: the policy document in, a yes or no out. LocalStack enforces no bucket policy, so this is the only check.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"
TEST_FILE = "ELBAccessLogTestFile"  # what ELB writes when logging is enabled, to prove it may

# The Elastic Load Balancing account of each region opened before August 2022 (AWS's published list; the
# project's blueprints/access_logs.py grants the same accounts, tests/localstack/test_alb_log_units.py compares them).
ELB_ACCOUNTS: dict[str, str] = {
    "us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980",
    "us-west-2": "797873946194", "af-south-1": "098369216593", "ap-east-1": "754344448648",
    "ap-southeast-3": "589379963580", "ap-south-1": "718504428378", "ap-northeast-3": "383597477331",
    "ap-northeast-2": "600734575887", "ap-southeast-1": "114774131450", "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864", "ca-central-1": "985666609251", "eu-central-1": "054676820928",
    "eu-west-1": "156460612806", "eu-west-2": "652711504416", "eu-south-1": "635631232127",
    "eu-west-3": "009996457667", "eu-north-1": "897822967062", "me-south-1": "076674570225",
    "sa-east-1": "507241528517", "us-gov-west-1": "048591011584", "us-gov-east-1": "190560391635",
    "cn-north-1": "638102146993", "cn-northwest-1": "037604701340",
}


def probe_key(prefix: str, account: str) -> str:
    """The key of ELB's test object for a prefix and the load balancer's account."""
    return f"{prefix.strip('/')}/AWSLogs/{account}/{TEST_FILE}".lstrip("/")


def _listed(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _principal_matches(principal: Any, region: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    elb_account = ELB_ACCOUNTS.get(region)
    for value in _listed(principal.get("AWS", [])):
        if value == "*" or (elb_account and value in (elb_account, f"arn:aws:iam::{elb_account}:root")):
            return True
    return LOG_DELIVERY_SERVICE in _listed(principal.get("Service", []))


def _any_match(patterns: Any, value: str, case_sensitive: bool = True) -> bool:
    if case_sensitive:
        return any(fnmatch.fnmatchcase(value, p) for p in _listed(patterns))
    return any(fnmatch.fnmatchcase(value.lower(), p.lower()) for p in _listed(patterns))


def _condition_holds(condition: dict[str, Any], facts: dict[str, str]) -> bool:
    """Every operator/key of a Condition block against what ELB's write carries; unknown keys never hold."""
    for operator, tests in condition.items():
        for key, expected in (tests or {}).items():
            actual = facts.get(key.lower())  # condition keys are case-insensitive
            if actual is None:
                return False
            base = operator.removesuffix("IfExists")
            if base in ("StringEquals", "ArnEquals", "Bool"):
                held = actual.lower() in [e.lower() for e in _listed(expected)] if base == "Bool" \
                    else actual in _listed(expected)
            elif base in ("StringLike", "ArnLike"):
                held = _any_match(expected, actual)
            elif base in ("StringNotEquals", "ArnNotEquals"):
                held = actual not in _listed(expected)
            elif base in ("StringNotLike", "ArnNotLike"):
                held = not _any_match(expected, actual)
            else:
                return False
            if not held:
                return False
    return True


def _applies(statement: dict[str, Any], resource: str, region: str, facts: dict[str, str]) -> bool:
    if not _principal_matches(statement.get("Principal"), region):
        return False
    if "Action" not in statement or not _any_match(statement["Action"], "s3:PutObject", case_sensitive=False):
        return False
    if "Resource" not in statement or not _any_match(statement["Resource"], resource):
        return False
    return _condition_holds(statement.get("Condition") or {}, facts)


def allows_delivery(policy: str | None, bucket: str, prefix: str, account: str, region: str,
                    load_balancer_arn: str) -> bool:
    """True if the policy lets ELB put the test object (an Allow applies and no Deny does)."""
    if not policy:
        return False
    try:
        statements = json.loads(policy).get("Statement") or []
    except (ValueError, AttributeError):
        return False
    statements = statements if isinstance(statements, list) else [statements]
    resource = f"arn:aws:s3:::{bucket}/{probe_key(prefix, account)}"
    # What ELB's write carries: it comes over TLS, on behalf of this account's load balancer.
    facts = {"aws:securetransport": "true", "aws:sourceaccount": account, "aws:sourcearn": load_balancer_arn}
    applying = [s for s in statements if isinstance(s, dict) and _applies(s, resource, region, facts)]
    return any(s.get("Effect") == "Allow" for s in applying) and not any(s.get("Effect") == "Deny" for s in applying)
