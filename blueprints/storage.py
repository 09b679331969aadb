"""Storage: the input, output and artifact buckets, secure by default and retained with their data.

Every bucket: encryption (S3-managed, or a KMS key with rotation), public access blocked, bucket-owner
object ownership, a TLS-only bucket policy, lifecycle rules, and ``Retain`` on deletion and replacement.
The artifact bucket is always versioned and readable by the task roles in ``artifact_reader_roles`` (the jobs
of environments promoted from this one), each by ARN and account, and by whole accounts only where config
lists them in ``artifact_readers``.
"""

from __future__ import annotations

from dataclasses import dataclass

from awacs import kms as kms_actions
from awacs import s3 as s3_actions
from awacs.aws import Allow, ArnEquals, Bool, Condition, Deny, PolicyDocument, Principal, Statement, StringEquals
from troposphere import GetAtt, Ref, Sub, Template, kms, s3

from blueprints.common import new_template, retain
from blueprints.grants import KMS_KEY_ADMIN, S3_LIST, S3_READ, objects_of
from blueprints.outputs import Key, Outputs

# Explicit key-policy actions for the account's administrators (no kms:* wildcard).
KEY_ADMIN_ACTIONS = KMS_KEY_ADMIN


class StorageOutputs(Outputs):
    """Outputs of the storage stack."""

    input_bucket_name = Key("input bucket name")
    input_bucket_arn = Key("input bucket ARN")
    output_bucket_name = Key("output bucket name")
    output_bucket_arn = Key("output bucket ARN")
    artifact_bucket_name = Key("artifact bucket name")
    artifact_bucket_arn = Key("artifact bucket ARN")
    data_key_arn = Key("KMS key encrypting the data buckets", required=False)  # only with encryption: kms


_BUCKET_OUTPUTS = {
    "Input": (StorageOutputs.input_bucket_name, StorageOutputs.input_bucket_arn),
    "Output": (StorageOutputs.output_bucket_name, StorageOutputs.output_bucket_arn),
    "Artifact": (StorageOutputs.artifact_bucket_name, StorageOutputs.artifact_bucket_arn),
}


@dataclass(frozen=True)
class StorageProps:
    """Inputs of the storage blueprint."""

    input_bucket: str
    output_bucket: str
    artifact_bucket: str
    encryption: str = "s3"  # "s3" or "kms"
    versioning: bool = True
    input_expiration_days: int | None = None
    output_expiration_days: int | None = None
    noncurrent_expiration_days: int = 30
    abort_multipart_days: int = 7
    artifact_readers: tuple[str, ...] = ()  # whole accounts, only where config says so
    artifact_reader_roles: tuple[str, ...] = ()  # role ARNs (another account's job task roles)


def _encryption(props: StorageProps, key: kms.Key | None) -> s3.BucketEncryption:
    if key is None:
        default = s3.ServerSideEncryptionByDefault(SSEAlgorithm="AES256")
        return s3.BucketEncryption(ServerSideEncryptionConfiguration=[
            s3.ServerSideEncryptionRule(ServerSideEncryptionByDefault=default)])
    default = s3.ServerSideEncryptionByDefault(SSEAlgorithm="aws:kms", KMSMasterKeyID=GetAtt(key, "Arn"))
    return s3.BucketEncryption(ServerSideEncryptionConfiguration=[
        s3.ServerSideEncryptionRule(ServerSideEncryptionByDefault=default, BucketKeyEnabled=True)])


def _lifecycle(props: StorageProps, expiration_days: int | None) -> s3.LifecycleConfiguration:
    rules = [
        s3.LifecycleRule(Id="AbortIncompleteMultipartUploads", Status="Enabled", Prefix="",
                         AbortIncompleteMultipartUpload=s3.AbortIncompleteMultipartUpload(
                             DaysAfterInitiation=props.abort_multipart_days)),
        s3.LifecycleRule(Id="ExpireNoncurrentVersions", Status="Enabled", Prefix="",
                         NoncurrentVersionExpiration=s3.NoncurrentVersionExpiration(
                             NoncurrentDays=props.noncurrent_expiration_days)),
    ]
    if expiration_days:
        rules.append(s3.LifecycleRule(Id="ExpireObjects", Status="Enabled", Prefix="",
                                      ExpirationInDays=expiration_days))
    return s3.LifecycleConfiguration(Rules=rules)


def _bucket(template: Template, logical: str, name: str, props: StorageProps, key: kms.Key | None,
            versioned: bool, expiration_days: int | None, events: bool = False) -> s3.Bucket:
    extra = {}
    if events:
        # Object events go to EventBridge, where any component (the ingest function) subscribes with a rule:
        # a direct notification would make this stack depend on its consumers.
        extra["NotificationConfiguration"] = s3.NotificationConfiguration(
            EventBridgeConfiguration=s3.EventBridgeConfiguration(EventBridgeEnabled=True))
    bucket = s3.Bucket(
        logical, BucketName=name, BucketEncryption=_encryption(props, key),
        PublicAccessBlockConfiguration=s3.PublicAccessBlockConfiguration(
            BlockPublicAcls=True, BlockPublicPolicy=True, IgnorePublicAcls=True, RestrictPublicBuckets=True),
        OwnershipControls=s3.OwnershipControls(Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]),
        VersioningConfiguration=s3.VersioningConfiguration(Status="Enabled" if versioned else "Suspended"),
        LifecycleConfiguration=_lifecycle(props, expiration_days), **extra)
    return template.add_resource(retain(bucket))


def _tls_only(bucket: s3.Bucket) -> Statement:
    # A Deny on every S3 action is the documented TLS-only pattern; it narrows access, it grants nothing.
    return Statement(Sid="DenyInsecureTransport", Effect=Deny, Principal=Principal("*"),
                     Action=[s3_actions.Action("*")],
                     Resource=[GetAtt(bucket, "Arn"), objects_of(GetAtt(bucket, "Arn"))],
                     Condition=Condition(Bool({"aws:SecureTransport": "false"})))


def _account_of(role_arn: str) -> str:
    return role_arn.split(":")[4]


def _role_condition(roles: tuple[str, ...]) -> Condition:
    # Principal is the roles' account root, narrowed to the roles by ARN: a bucket or key policy naming a role
    # directly is refused until that role exists, and the reader environment deploys after this one.
    return Condition([ArnEquals({"aws:PrincipalArn": list(roles)}),
                      StringEquals({"aws:PrincipalAccount": sorted({_account_of(r) for r in roles})})])


def _reader_principals(props: StorageProps) -> list[tuple[str, list[str], Condition | None]]:
    """(Sid prefix, principals, condition) of each kind of artifact reader."""
    out: list[tuple[str, list[str], Condition | None]] = []
    if props.artifact_reader_roles:
        accounts = sorted({_account_of(r) for r in props.artifact_reader_roles})
        out.append(("ReaderRoles", [f"arn:aws:iam::{a}:root" for a in accounts],
                    _role_condition(props.artifact_reader_roles)))
    if props.artifact_readers:
        out.append(("ReaderAccounts", [f"arn:aws:iam::{a}:root" for a in props.artifact_readers], None))
    return out


def _readers_statement(bucket: s3.Bucket, props: StorageProps) -> list[Statement]:
    arn = GetAtt(bucket, "Arn")
    out = []
    for sid, principals, condition in _reader_principals(props):
        extra = {"Condition": condition} if condition else {}
        out += [Statement(Sid=f"{sid}ReadObjects", Effect=Allow, Principal=Principal("AWS", principals),
                          Action=list(S3_READ), Resource=[objects_of(arn)], **extra),
                Statement(Sid=f"{sid}List", Effect=Allow, Principal=Principal("AWS", principals),
                          Action=list(S3_LIST), Resource=[arn], **extra)]
    return out


def _key(template: Template, props: StorageProps) -> kms.Key:
    statements = [Statement(Sid="AccountAdministers", Effect=Allow,
                            Principal=Principal("AWS", [Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")]),
                            Action=list(KEY_ADMIN_ACTIONS), Resource=["*"])]
    for sid, principals, condition in _reader_principals(props):
        extra = {"Condition": condition} if condition else {}
        statements.append(Statement(Sid=f"{sid}Decrypt", Effect=Allow, Principal=Principal("AWS", principals),
                                    Action=[kms_actions.Decrypt, kms_actions.DescribeKey], Resource=["*"], **extra))
    key = kms.Key("DataKey", Description="dsplatform data buckets", EnableKeyRotation=True,
                  KeyPolicy=PolicyDocument(Version="2012-10-17", Statement=statements))
    return template.add_resource(retain(key))


def build(props: StorageProps) -> Template:
    """Render the storage template."""
    template = new_template("storage (input, output and artifact buckets)")
    key = _key(template, props) if props.encryption == "kms" else None
    buckets = {
        "Input": _bucket(template, "InputBucket", props.input_bucket, props, key, props.versioning,
                         props.input_expiration_days, events=True),
        "Output": _bucket(template, "OutputBucket", props.output_bucket, props, key, props.versioning,
                          props.output_expiration_days),
        "Artifact": _bucket(template, "ArtifactBucket", props.artifact_bucket, props, key, True, None),
    }
    for label, bucket in buckets.items():
        statements = [_tls_only(bucket)]
        if label == "Artifact":
            statements += _readers_statement(bucket, props)
        template.add_resource(s3.BucketPolicy(
            f"{label}BucketPolicy", Bucket=Ref(bucket),
            PolicyDocument=PolicyDocument(Version="2012-10-17", Statement=statements)))
        name_key, arn_key = _BUCKET_OUTPUTS[label]
        name_key.emit(template, Ref(bucket))
        arn_key.emit(template, GetAtt(bucket, "Arn"))
    if key is not None:
        StorageOutputs.data_key_arn.emit(template, GetAtt(key, "Arn"))
    return template

