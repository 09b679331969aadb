"""Least-privilege IAM statements built with awacs over constant action lists (CDK's bucket-grants style).

Every list names actions explicitly: no wildcard actions anywhere. Where an AWS action has no
resource-level permissions it is listed in ``UNSCOPED_ACTIONS`` with the reason, and only those may use
``Resource: "*"`` (the lint task enforces both rules).
"""

from __future__ import annotations

from awacs import ecr, iam, kms, logs, s3, ssm, states, sts
from awacs.aws import Action, Allow, Condition, PolicyDocument, Principal, Statement, StringEquals
from troposphere import Join, Sub

S3_READ = (s3.GetObject, s3.GetObjectVersion)
S3_LIST = (s3.ListBucket,)
# Write includes delete and multipart clean-up: a re-run replaces its earlier output.
S3_WRITE = (s3.PutObject, s3.DeleteObject, s3.AbortMultipartUpload, s3.ListMultipartUploadParts)
SSM_READ = (ssm.GetParameter, ssm.GetParameters, ssm.GetParametersByPath)
KMS_DECRYPT = (kms.Decrypt, kms.DescribeKey)
KMS_ENCRYPT = (kms.Encrypt, kms.GenerateDataKey, kms.Decrypt, kms.DescribeKey)
ECR_PULL = (ecr.BatchCheckLayerAvailability, ecr.GetDownloadUrlForLayer, ecr.BatchGetImage)
LOGS_WRITE = (logs.CreateLogStream, logs.PutLogEvents)
STATES_START = (states.StartExecution,)
# What a publisher needs on the KMS key of an encrypted SNS topic (SNS encrypts with a data key on its behalf).
KMS_PUBLISH = (kms.GenerateDataKey, kms.Decrypt)
# Explicit key-policy actions for the account's administrators (no kms:* wildcard).
KMS_KEY_ADMIN = (
    kms.DescribeKey, kms.GetKeyPolicy, kms.PutKeyPolicy, kms.GetKeyRotationStatus, kms.EnableKeyRotation,
    kms.EnableKey, kms.DisableKey, kms.ListResourceTags, kms.TagResource, kms.UntagResource,
    kms.UpdateKeyDescription, kms.ScheduleKeyDeletion, kms.CancelKeyDeletion, kms.CreateGrant, kms.ListGrants,
    kms.RevokeGrant, kms.Encrypt, kms.Decrypt, kms.ReEncryptFrom, kms.ReEncryptTo, kms.GenerateDataKey,
    kms.GenerateDataKeyWithoutPlaintext,
)
# Step Functions delivers execution logs through CloudWatch Logs' vended-log delivery (AWS docs,
# "Logging using CloudWatch Logs"); the role that owns the state machine needs these.
LOGS_DELIVERY = (
    logs.CreateLogDelivery, logs.GetLogDelivery, logs.UpdateLogDelivery, logs.DeleteLogDelivery,
    logs.ListLogDeliveries, logs.PutResourcePolicy, logs.DescribeResourcePolicies, logs.DescribeLogGroups,
)

_VENDED = "CloudWatch Logs vended-log delivery (state machine logging) has no resource-level permission for it"
UNSCOPED_ACTIONS: dict[str, str] = {
    "ecr:GetAuthorizationToken": "the registry token is account-wide; ECR has no resource-level permission for it",
    "logs:CreateLogDelivery": _VENDED,
    "logs:GetLogDelivery": _VENDED,
    "logs:UpdateLogDelivery": _VENDED,
    "logs:DeleteLogDelivery": _VENDED,
    "logs:ListLogDeliveries": _VENDED,
    "logs:PutResourcePolicy": "the log resource policy that lets delivery write is account-wide, not per group",
    "logs:DescribeResourcePolicies": "lists the account's log resource policies; no resource-level permission",
    "logs:DescribeLogGroups": "a list call over the account's log groups; delivery set-up calls it unscoped",
}


def assume_role_policy(service: str, source_account: object | None = None) -> PolicyDocument:
    """Trust policy for an AWS service principal, optionally pinned to this account (confused deputy)."""
    condition = Condition(StringEquals({"aws:SourceAccount": source_account})) if source_account else None
    kwargs = {"Condition": condition} if condition else {}
    return PolicyDocument(Version="2012-10-17", Statement=[
        Statement(Effect=Allow, Principal=Principal("Service", [service]), Action=[sts.AssumeRole], **kwargs)])


def statement(sid: str, actions: tuple[Action, ...], resources: list[object], **kwargs: object) -> Statement:
    """One Allow statement with a stable Sid."""
    return Statement(Sid=sid, Effect=Allow, Action=list(actions), Resource=resources, **kwargs)


def objects_of(bucket_arn: object) -> object:
    """ARN pattern of every object in a bucket."""
    return Join("", [bucket_arn, "/*"])


def grant_read(sid: str, bucket_arn: object) -> list[Statement]:
    """Read objects (and list keys) of one bucket."""
    return [statement(f"{sid}Objects", S3_READ, [objects_of(bucket_arn)]),
            statement(f"{sid}List", S3_LIST, [bucket_arn])]


def grant_write(sid: str, bucket_arn: object) -> list[Statement]:
    """Write, replace and delete objects of one bucket, and list its keys."""
    return [statement(f"{sid}Objects", S3_WRITE, [objects_of(bucket_arn)]),
            statement(f"{sid}List", S3_LIST, [bucket_arn])]


def grant_parameters(sid: str, prefix: str) -> list[Statement]:
    """Read every SSM parameter under ``prefix`` (which starts and ends with '/')."""
    base = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"
    return [statement(sid, SSM_READ, [Sub(base + prefix.rstrip("/")), Sub(base + prefix + "*")])]


def grant_pass_role(sid: str, role_arns: list[object], service: str) -> Statement:
    """Pass these roles to one service only."""
    return statement(sid, (iam.PassRole,), role_arns,
                     Condition=Condition(StringEquals({"iam:PassedToService": service})))


def policy(*statements: Statement | list[Statement]) -> PolicyDocument:
    """A policy document from statements and lists of statements."""
    flat: list[Statement] = []
    for item in statements:
        flat.extend(item if isinstance(item, list) else [item])
    return PolicyDocument(Version="2012-10-17", Statement=flat)
