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


def _task_role_requests(platform) -> list[tuple[str, str, bool]]:
    """(action, resource, allowed?) that state the task role's scope; one table for both evaluators."""
    s3, ssm = "arn:aws:s3:::", f"arn:aws:ssm:{platform.region}:{platform.account_id}:parameter"
    other_bucket = f"{platform.input_bucket}-not-ours"
    return [
        ("s3:GetObject", f"{s3}{platform.input_bucket}/raw/x.csv", True),
        ("s3:ListBucket", f"{s3}{platform.input_bucket}", True),
        ("s3:PutObject", f"{s3}{platform.output_bucket}/processed/x/data.parquet", True),
        ("ssm:GetParameter", f"{ssm}{platform.ssm_prefix}input-bucket", True),
        ("ssm:GetParametersByPath", f"{ssm}{platform.ssm_prefix.rstrip('/')}", True),
        ("s3:PutObject", f"{s3}{platform.input_bucket}/raw/x.csv", False),
        ("s3:DeleteObject", f"{s3}{platform.input_bucket}/raw/x.csv", False),
        ("s3:GetObject", f"{s3}{other_bucket}/x.csv", False),
        ("s3:ListBucket", f"{s3}{other_bucket}", False),
        ("s3:PutBucketPolicy", f"{s3}{platform.output_bucket}", False),
        ("ssm:GetParameter", f"{ssm}/other/prefix/secret", False),
        ("ssm:PutParameter", f"{ssm}{platform.ssm_prefix}input-bucket", False),
        ("iam:PassRole", platform.task_role_arn, False),
    ]


def test_task_role_scope_from_deployed_policies(ds_clients, ds_platform):
    """The deployed task role's policies, evaluated with AWS's rules: its exact scope, and no wildcard actions."""
    statements = role_statements(ds_clients, ds_platform.task_role_arn)
    assert statements, f"no policy read back from {ds_platform.task_role_arn}"
    context = {"aws:SecureTransport": True, "aws:PrincipalAccount": ds_platform.account_id}
    wrong = [(action, resource, expected) for action, resource, expected in _task_role_requests(ds_platform)
             if allows(statements, action, resource, context) is not expected]
    assert wrong == [], f"decisions that differ from the expected scope (action, resource, expected): {wrong}"
    assert wildcard_actions(statements) == []


@pytest.mark.ds_aws_only(reason="the IAM policy simulator is AWS's own; LocalStack has none (the evaluator above "
                                "checks the same table locally)")
def test_task_role_scope_with_policy_simulator(ds_clients, ds_platform):
    """The IAM policy simulator agrees with the same table of expected decisions."""
    iam = ds_clients.client("iam")
    wrong = []
    for action, resource, expected in _task_role_requests(ds_platform):
        result = iam.simulate_principal_policy(
            PolicySourceArn=ds_platform.task_role_arn, ActionNames=[action], ResourceArns=[resource])
        if (result["EvaluationResults"][0]["EvalDecision"] == "allowed") is not expected:
            wrong.append((action, resource, expected))
    assert wrong == [], f"simulator decisions that differ from the expected scope: {wrong}"


def test_alert_topic_is_kms_encrypted_and_state_machine_logs_errors_without_data(ds_clients, ds_platform):
    """The deployed topic names a KMS key; the state machine logs (ERROR or ALL, no execution data) to a log
    group that has a retention."""
    attributes = ds_clients.client("sns").get_topic_attributes(TopicArn=ds_platform.topic_arn)["Attributes"]
    assert attributes.get("KmsMasterKeyId", "").startswith("arn:"), attributes.get("KmsMasterKeyId")
    machine = ds_clients.client("stepfunctions").describe_state_machine(stateMachineArn=ds_platform.state_machine_arn)
    logging = machine.get("loggingConfiguration") or {}
    assert logging.get("level") in ("ERROR", "ALL") and logging.get("includeExecutionData") is False, logging
    [destination] = logging.get("destinations", [])
    group = destination["cloudWatchLogsLogGroup"]["logGroupArn"].split(":log-group:", 1)[1].removesuffix(":*")
    found = ds_clients.client("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert any(g["logGroupName"] == group and g.get("retentionInDays") for g in found), found
