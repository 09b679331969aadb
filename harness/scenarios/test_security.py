"""Security facts on the deployed resources: bucket encryption, public access, TLS-only, task-role scope."""

from __future__ import annotations

import json

import pytest

from harness.iam import allows, role_statements, wildcard_actions

BUCKETS = ("input_bucket", "output_bucket", "artifact_bucket")


@pytest.mark.parametrize("which", BUCKETS)
def test_bucket_encrypted_private_tls_only(ds_clients, ds_platform, which):
    """Default encryption on, all four public-access blocks on, a Deny for requests without TLS."""
    s3 = ds_clients.client("s3")
    bucket = getattr(ds_platform, which)
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    algorithms = {r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in rules}
    assert algorithms & {"AES256", "aws:kms", "aws:kms:dsse"}, algorithms
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.get(k) for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                                      "RestrictPublicBuckets")), block
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    statements = policy["Statement"] if isinstance(policy["Statement"], list) else [policy["Statement"]]
    tls = [
        s for s in statements
        if s.get("Effect") == "Deny"
        and str(s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport", "")).lower() == "false"
    ]
    assert tls, f"no TLS-only Deny statement in the policy of {bucket}"
    resources = tls[0]["Resource"] if isinstance(tls[0]["Resource"], list) else [tls[0]["Resource"]]
    assert f"arn:aws:s3:::{bucket}/*" in resources and f"arn:aws:s3:::{bucket}" in resources, resources


def test_task_role_scope_from_deployed_policies(ds_clients, ds_platform):
    """The task role's policies allow reading input and writing output, not writing input; no wildcard actions."""
    statements = role_statements(ds_clients, ds_platform.task_role_arn)
    input_obj = f"arn:aws:s3:::{ds_platform.input_bucket}/raw/x.csv"
    output_obj = f"arn:aws:s3:::{ds_platform.output_bucket}/processed/x/data.parquet"
    assert allows(statements, "s3:GetObject", input_obj)
    assert allows(statements, "s3:PutObject", output_obj)
    assert not allows(statements, "s3:PutObject", input_obj)
    assert not allows(statements, "s3:DeleteObject", input_obj)
    assert wildcard_actions(statements) == []


@pytest.mark.ds_aws_only(reason="LocalStack's community IAM has no policy simulator that evaluates real policies")
def test_task_role_scope_with_policy_simulator(ds_clients, ds_platform):
    """The IAM policy simulator agrees: read input, write output, no write on input."""
    iam = ds_clients.client("iam")

    def decision(action: str, resource: str) -> str:
        result = iam.simulate_principal_policy(
            PolicySourceArn=ds_platform.task_role_arn, ActionNames=[action], ResourceArns=[resource]
        )
        return str(result["EvaluationResults"][0]["EvalDecision"])

    assert decision("s3:GetObject", f"arn:aws:s3:::{ds_platform.input_bucket}/raw/x.csv") == "allowed"
    assert decision("s3:PutObject", f"arn:aws:s3:::{ds_platform.output_bucket}/processed/x") == "allowed"
    assert decision("s3:PutObject", f"arn:aws:s3:::{ds_platform.input_bucket}/raw/x.csv") != "allowed"
