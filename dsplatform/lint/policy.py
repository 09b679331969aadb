"""The platform's own policy rules over rendered templates (what cfn-lint does not check).

- every bucket: encrypted, all four public-access blocks on, a TLS-only (aws:SecureTransport) deny,
  and Retain on deletion and replacement (data is never lost with a stack);
- no Allow statement with a wildcard action (``*``, ``s3:*``, ``s3:Get*``) in any IAM, bucket or key policy;
- ``Resource: "*"`` only for actions without resource-level permissions (``blueprints.grants.UNSCOPED_ACTIONS``)
  or in a KMS key policy (where ``*`` means the key itself); ``allowed_unscoped`` lists each such case;
- every log group has a retention;
- every SNS topic is encrypted with a KMS key (``KmsMasterKeyId``);
- every state machine logs to a log group at level ERROR or ALL, without execution data.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from blueprints.grants import UNSCOPED_ACTIONS
from dsplatform.lint.findings import Finding

POLICY_PROPERTIES = {
    "AWS::IAM::Role": "Policies",
    "AWS::IAM::Policy": "PolicyDocument",
    "AWS::IAM::ManagedPolicy": "PolicyDocument",
    "AWS::S3::BucketPolicy": "PolicyDocument",
    "AWS::KMS::Key": "KeyPolicy",
}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _documents(resource: dict[str, Any]) -> Iterator[dict[str, Any]]:
    kind, props = resource.get("Type"), resource.get("Properties", {})
    prop = POLICY_PROPERTIES.get(kind or "")
    if prop is None or prop not in props:
        return
    if kind == "AWS::IAM::Role":
        for item in props["Policies"]:
            yield item.get("PolicyDocument", {})
    else:
        yield props[prop]


def _statements(resource: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for document in _documents(resource):
        yield from _as_list(document.get("Statement", []))


def _bucket_checks(stack: str, name: str, bucket: dict[str, Any], resources: dict[str, Any]) -> list[Finding]:
    props, out = bucket.get("Properties", {}), []
    rules = props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
    if not rules:
        out.append(Finding(stack, name, "DSP001", "bucket is not encrypted; set BucketEncryption"))
    block = props.get("PublicAccessBlockConfiguration", {})
    missing = [k for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
               if block.get(k) is not True]
    if missing:
        out.append(Finding(stack, name, "DSP002", f"public access not blocked: {', '.join(missing)} must be true"))
    tls_only = False
    for res in resources.values():
        if res.get("Type") == "AWS::S3::BucketPolicy" and res["Properties"].get("Bucket") == {"Ref": name}:
            for st in _statements(res):
                cond = st.get("Condition", {}).get("Bool", {})
                if st.get("Effect") == "Deny" and str(cond.get("aws:SecureTransport")).lower() == "false":
                    tls_only = True
    if not tls_only:
        out.append(Finding(stack, name, "DSP003", "no TLS-only bucket policy (Deny when aws:SecureTransport false)"))
    if bucket.get("DeletionPolicy") != "Retain" or bucket.get("UpdateReplacePolicy") != "Retain":
        out.append(Finding(stack, name, "DSP004", "data bucket not retained; set DeletionPolicy and "
                                                  "UpdateReplacePolicy to Retain"))
    return out


def _is_wildcard(action: Any) -> bool:
    return isinstance(action, str) and "*" in action


def _statement_checks(stack: str, name: str, resource: dict[str, Any]) -> list[Finding]:
    out = []
    for st in _statements(resource):
        if st.get("Effect") != "Allow":
            continue  # a Deny with a wildcard narrows access; it grants nothing
        actions = _as_list(st.get("Action", []))
        wild = [a for a in actions if _is_wildcard(a)]
        if wild or "NotAction" in st:
            out.append(Finding(stack, name, "DSP010", f"statement {st.get('Sid', '?')} allows wildcard actions "
                                                      f"{wild or 'NotAction'}; list the actions explicitly"))
        if "*" in _as_list(st.get("Resource", [])) and resource.get("Type") != "AWS::KMS::Key":
            scoped = [a for a in actions if a not in UNSCOPED_ACTIONS]
            if scoped:
                out.append(Finding(stack, name, "DSP011", f"statement {st.get('Sid', '?')} uses Resource '*' for "
                                                          f"{scoped}, which support resource-level permissions"))
    return out


def _topic_checks(stack: str, name: str, topic: dict[str, Any]) -> list[Finding]:
    if topic.get("Properties", {}).get("KmsMasterKeyId"):
        return []
    return [Finding(stack, name, "DSP030", "SNS topic is not encrypted; set KmsMasterKeyId to a KMS key")]


def _state_machine_checks(stack: str, name: str, machine: dict[str, Any]) -> list[Finding]:
    logging = machine.get("Properties", {}).get("LoggingConfiguration")
    if not isinstance(logging, dict):
        return [Finding(stack, name, "DSP031", "state machine has no LoggingConfiguration; log level ERROR or ALL "
                                               "to a log group with retention")]
    problems = []
    if logging.get("Level") not in ("ERROR", "ALL"):
        problems.append(f"Level {logging.get('Level')!r} (use ERROR or ALL)")
    groups = [d.get("CloudWatchLogsLogGroup", {}).get("LogGroupArn") for d in _as_list(logging.get("Destinations", []))]
    if not any(groups):
        problems.append("no CloudWatchLogsLogGroup destination")
    if logging.get("IncludeExecutionData") not in (False, "false", None):
        problems.append("IncludeExecutionData is true (inputs and outputs would be logged; set false)")
    if not problems:
        return []
    return [Finding(stack, name, "DSP031", f"state machine logging: {'; '.join(problems)}")]


def check_policies(stack: str, template: dict[str, Any]) -> list[Finding]:
    """Every policy-rule violation in one template."""
    resources: dict[str, Any] = template.get("Resources", {})
    findings: list[Finding] = []
    for name, resource in sorted(resources.items()):
        kind = resource.get("Type")
        if kind == "AWS::S3::Bucket":
            findings += _bucket_checks(stack, name, resource, resources)
        if kind == "AWS::Logs::LogGroup" and "RetentionInDays" not in resource.get("Properties", {}):
            findings.append(Finding(stack, name, "DSP020", "log group has no RetentionInDays"))
        if kind == "AWS::SNS::Topic":
            findings += _topic_checks(stack, name, resource)
        if kind == "AWS::StepFunctions::StateMachine":
            findings += _state_machine_checks(stack, name, resource)
        findings += _statement_checks(stack, name, resource)
    return findings


def allowed_unscoped(stack: str, template: dict[str, Any]) -> list[Finding]:
    """The accepted ``Resource: "*"`` cases, each with its reason (info-level findings)."""
    out = []
    for name, resource in sorted(template.get("Resources", {}).items()):
        for st in _statements(resource):
            if st.get("Effect") != "Allow" or "*" not in _as_list(st.get("Resource", [])):
                continue
            if resource.get("Type") == "AWS::KMS::Key":
                reason = "in a key policy, '*' is the key itself"
            else:
                unscoped = [a for a in _as_list(st["Action"]) if a in UNSCOPED_ACTIONS]
                reason = "; ".join(f"{a}: {UNSCOPED_ACTIONS[a]}" for a in unscoped)
            message = f"statement {st.get('Sid', '?')}: Resource '*' accepted: {reason}"
            out.append(Finding(stack, name, "DSP011", message, level="info"))
    return out
