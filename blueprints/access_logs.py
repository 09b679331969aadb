"""The ALB's access-log bucket: SSE-S3, private, TLS-only, versioned, expiring, retained, writable by ELB only.

ALB access logs support SSE-S3 only (not SSE-KMS). Log delivery writes as the region's Elastic Load Balancing
account (regions opened before August 2022) or as the ``logdelivery.elasticloadbalancing.amazonaws.com``
service principal (regions opened since), only under ``<prefix>/AWSLogs/<this account>/``
(docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html).
"""

from __future__ import annotations

from awacs import s3 as s3_actions
from awacs.aws import Allow, Bool, Condition, Deny, PolicyDocument, Principal, Statement
from troposphere import GetAtt, Ref, Sub, Template, s3

from blueprints.common import retain
from blueprints.grants import objects_of

LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"

# The Elastic Load Balancing account of each region opened before August 2022 (AWS's published list).
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


def log_delivery_principal(region: str) -> Principal:
    """Who writes a region's ALB access logs: its ELB account, or the log-delivery service in newer regions."""
    account = ELB_ACCOUNTS.get(region)
    if account is None:
        return Principal("Service", [LOG_DELIVERY_SERVICE])
    return Principal("AWS", [Sub(f"arn:${{AWS::Partition}}:iam::{account}:root")])


def access_log_bucket(template: Template, *, name: str, region: str, prefix: str,
                      expiration_days: int) -> tuple[s3.Bucket, s3.BucketPolicy]:
    """The bucket and its policy; the load balancer must depend on the policy (AWS checks it when logging starts)."""
    bucket = template.add_resource(retain(s3.Bucket(
        "AccessLogBucket", BucketName=name,
        # SSE-S3: the only encryption ALB log delivery supports.
        BucketEncryption=s3.BucketEncryption(ServerSideEncryptionConfiguration=[s3.ServerSideEncryptionRule(
            ServerSideEncryptionByDefault=s3.ServerSideEncryptionByDefault(SSEAlgorithm="AES256"))]),
        PublicAccessBlockConfiguration=s3.PublicAccessBlockConfiguration(
            BlockPublicAcls=True, BlockPublicPolicy=True, IgnorePublicAcls=True, RestrictPublicBuckets=True),
        OwnershipControls=s3.OwnershipControls(Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]),
        VersioningConfiguration=s3.VersioningConfiguration(Status="Enabled"),
        LifecycleConfiguration=s3.LifecycleConfiguration(Rules=[
            s3.LifecycleRule(Id="ExpireLogs", Status="Enabled", Prefix="", ExpirationInDays=expiration_days,
                             NoncurrentVersionExpiration=s3.NoncurrentVersionExpiration(NoncurrentDays=1),
                             AbortIncompleteMultipartUpload=s3.AbortIncompleteMultipartUpload(
                                 DaysAfterInitiation=1))]))))
    arn = GetAtt(bucket, "Arn")
    policy = template.add_resource(s3.BucketPolicy(
        "AccessLogBucketPolicy", Bucket=Ref(bucket), PolicyDocument=PolicyDocument(Version="2012-10-17", Statement=[
            # A Deny on every S3 action is the documented TLS-only pattern; it narrows access, it grants nothing.
            Statement(Sid="DenyInsecureTransport", Effect=Deny, Principal=Principal("*"),
                      Action=[s3_actions.Action("*")], Resource=[arn, objects_of(arn)],
                      Condition=Condition(Bool({"aws:SecureTransport": "false"}))),
            Statement(Sid="LoadBalancerWritesLogs", Effect=Allow, Principal=log_delivery_principal(region),
                      Action=[s3_actions.PutObject],
                      Resource=[Sub(f"${{Arn}}/{prefix}/AWSLogs/${{AWS::AccountId}}/*", Arn=arn)])])))
    return bucket, policy
