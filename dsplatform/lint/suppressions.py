"""Every lint suppression of the project, each once, with its reason: cfn-lint rules and checkov checks.

Adding an entry here is the only way to silence a finding for every template; the one other way is a
resource's own ``Metadata.checkov.skip`` with its reason (the api's plain-HTTP listener on a LocalStack target,
``blueprints.api_alb``). ``invoke lint`` prints both, so a suppression is never invisible.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# cfn-lint rules switched off for every template.
CFN_LINT_IGNORED: dict[str, str] = {}

# checkov checks switched off for every template.
CHECKOV_SKIPS: dict[str, str] = {
    "CKV_AWS_18": "S3 server access logs need a log bucket of their own per account; the account's audit trail "
                  "of object access is CloudTrail data events, which the organisation owns, not this platform",
    "CKV_AWS_158": "log groups are encrypted at rest by CloudWatch Logs with service keys; the job logs counts and "
                   "reasons, never row values, and the state machine never logs execution data (DSP031)",
    "CKV_AWS_136": "images are encrypted at rest with AES256 by ECR; a customer key would add a key policy to every "
                   "puller (task execution roles in each account) and protect nothing more: images hold code, "
                   "not data",
    "CKV_AWS_51": "tag mutability is a per-environment setting (registry.tag_mutability): dev and stg re-push a "
                  "tag while iterating; protected environments are IMMUTABLE by default, and tasks run an image "
                  "by digest, which no re-push can change",
    "CKV_AWS_116": "Lambda failures go to an on-failure destination (EventInvokeConfig: the event with the error "
                   "and context), which a dead-letter queue would duplicate with less",
    "CKV_AWS_117": "the ingest functions reach S3, DynamoDB and Step Functions through IAM-authorised AWS endpoints; "
                   "a VPC would add endpoints or a NAT for no isolation gained (they expose nothing)",
    "CKV_AWS_115": "arrivals bound the ingest functions' concurrency; reserving some would take it from the "
                   "account's shared pool, and the Errors alarm reports failures",
    "CKV_AWS_173": "the functions' environment holds resource names and ARNs, no secret; Lambda encrypts it at rest "
                   "with its service key",
    "CKV_AWS_119": "the catalogue table is encrypted at rest (SSE with the AWS-managed key); it holds object keys, "
                   "counts and header names, never data rows, so a customer key would add key policies for nothing",
}


def template_skips(stack: str, template: Mapping[str, Any]) -> dict[str, str]:
    """The checkov skips in a template's resource metadata: ``"<check> (<stack> <resource>)"`` -> reason."""
    out = {}
    for logical, resource in (template.get("Resources") or {}).items():
        for skip in ((resource.get("Metadata") or {}).get("checkov") or {}).get("skip") or []:
            out[f"{skip.get('id')} ({stack} {logical})"] = str(skip.get("comment") or "no reason given")
    return out
