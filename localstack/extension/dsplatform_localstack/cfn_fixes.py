"""Apply properties the community CloudFormation providers accept but silently drop.

Covered: AWS::S3::Bucket LifecycleConfiguration, BucketEncryption, PublicAccessBlockConfiguration,
OwnershipControls and the default private ACL (the community provider makes buckets without AccessControl
public-read), and AWS::Logs::LogGroup RetentionInDays; on create and on update (LocalStack's update of these
types is a no-op that keeps the previous state); AWS::EC2::SecurityGroup inline ingress/egress rules (create),
AWS::EC2::VPC DNS attributes and AWS::IAM::Role Description; AWS::DynamoDB::Table
PointInTimeRecoverySpecification (never applied) and TimeToLiveSpecification (applied on create only).
"""

from __future__ import annotations

import functools
import re
from typing import Any

_CONTEXT_KEY = "dsplatform_desired_properties"

APPLIED = {
    "AWS::S3::Bucket": (
        "LifecycleConfiguration",
        "BucketEncryption",
        "PublicAccessBlockConfiguration",
        "OwnershipControls",
        "AccessControl",
    ),
    "AWS::Logs::LogGroup": ("RetentionInDays",),
    "AWS::EC2::SecurityGroup": ("SecurityGroupIngress", "SecurityGroupEgress"),
    "AWS::EC2::VPC": ("EnableDnsHostnames", "EnableDnsSupport"),
    "AWS::IAM::Role": ("Description",),
    "AWS::DynamoDB::Table": ("PointInTimeRecoverySpecification", "TimeToLiveSpecification"),
}


def lifecycle_rules(cfn: dict[str, Any]) -> list[dict[str, Any]]:
    """Translate CloudFormation's LifecycleConfiguration.Rules into PutBucketLifecycleConfiguration rules."""
    rules = []
    for rule in cfn.get("Rules", []):
        api: dict[str, Any] = {"Status": rule.get("Status", "Enabled")}
        if rule.get("Id"):
            api["ID"] = rule["Id"]
        tag_filters = [{"Key": t["Key"], "Value": t["Value"]} for t in rule.get("TagFilters", [])]
        prefix = rule.get("Prefix", "")
        if tag_filters:
            api["Filter"] = (
                {"And": {"Prefix": prefix, "Tags": tag_filters}}
                if prefix or len(tag_filters) > 1
                else {"Tag": tag_filters[0]}
            )
        else:
            api["Filter"] = {"Prefix": prefix}
        expiration: dict[str, Any] = {}
        if "ExpirationInDays" in rule:
            expiration["Days"] = int(rule["ExpirationInDays"])
        if "ExpirationDate" in rule:
            expiration["Date"] = rule["ExpirationDate"]
        if "ExpiredObjectDeleteMarker" in rule:
            expiration["ExpiredObjectDeleteMarker"] = bool(rule["ExpiredObjectDeleteMarker"])
        if expiration:
            api["Expiration"] = expiration
        transitions = list(rule.get("Transitions", [])) + ([rule["Transition"]] if "Transition" in rule else [])
        if transitions:
            api["Transitions"] = [
                {"Days": int(t["TransitionInDays"]), "StorageClass": t["StorageClass"]} for t in transitions
            ]
        noncurrent = rule.get("NoncurrentVersionExpiration") or (
            {"NoncurrentDays": rule["NoncurrentVersionExpirationInDays"]}
            if "NoncurrentVersionExpirationInDays" in rule
            else None
        )
        if noncurrent:
            api["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(noncurrent["NoncurrentDays"])}
        nc_transitions = list(rule.get("NoncurrentVersionTransitions", [])) + (
            [rule["NoncurrentVersionTransition"]] if "NoncurrentVersionTransition" in rule else []
        )
        if nc_transitions:
            api["NoncurrentVersionTransitions"] = [
                {"NoncurrentDays": int(t["TransitionInDays"]), "StorageClass": t["StorageClass"]}
                for t in nc_transitions
            ]
        if "AbortIncompleteMultipartUpload" in rule:
            api["AbortIncompleteMultipartUpload"] = {
                "DaysAfterInitiation": int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
            }
        rules.append(api)
    return rules


def _apply_bucket(request: Any, model: dict[str, Any], desired: dict[str, Any], creating: bool) -> None:
    s3 = request.aws_client_factory.s3
    bucket = model.get("BucketName")
    previous = request.previous_state or {}
    if not bucket:
        return
    if desired.get("LifecycleConfiguration"):
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket, LifecycleConfiguration={"Rules": lifecycle_rules(desired["LifecycleConfiguration"])}
        )
    elif previous.get("LifecycleConfiguration"):
        s3.delete_bucket_lifecycle(Bucket=bucket)
    if desired.get("BucketEncryption"):
        rules = [
            {
                "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                **({"BucketKeyEnabled": bool(rule["BucketKeyEnabled"])} if "BucketKeyEnabled" in rule else {}),
            }
            for rule in desired["BucketEncryption"].get("ServerSideEncryptionConfiguration", [])
        ]
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": rules})
    if desired.get("PublicAccessBlockConfiguration"):
        block = {k: str(v).lower() == "true" for k, v in desired["PublicAccessBlockConfiguration"].items()}
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=block)
    elif previous.get("PublicAccessBlockConfiguration"):
        s3.delete_public_access_block(Bucket=bucket)
    if desired.get("OwnershipControls"):
        s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=desired["OwnershipControls"])
    if creating and not desired.get("AccessControl"):
        s3.put_bucket_acl(Bucket=bucket, ACL="private")  # AWS's default; the community provider uses public-read


def _apply_log_group(request: Any, model: dict[str, Any], desired: dict[str, Any], creating: bool) -> None:
    logs = request.aws_client_factory.logs
    name = model.get("LogGroupName")
    days = desired.get("RetentionInDays")
    if not name:
        return
    if days:
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(days))
    elif request.previous_state and request.previous_state.get("RetentionInDays"):
        logs.delete_retention_policy(logGroupName=name)


def ip_permission(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation inline security group rule as an EC2 IpPermission."""
    permission: dict[str, Any] = {"IpProtocol": str(rule.get("IpProtocol", "-1"))}
    if permission["IpProtocol"] not in ("-1", "all"):
        permission["FromPort"] = int(rule.get("FromPort", -1))
        permission["ToPort"] = int(rule.get("ToPort", -1))
    description = {"Description": rule["Description"]} if rule.get("Description") else {}
    if rule.get("CidrIp"):
        permission["IpRanges"] = [{"CidrIp": rule["CidrIp"], **description}]
    if rule.get("CidrIpv6"):
        permission["Ipv6Ranges"] = [{"CidrIpv6": rule["CidrIpv6"], **description}]
    group = rule.get("SourceSecurityGroupId") or rule.get("DestinationSecurityGroupId")
    if group:
        permission["UserIdGroupPairs"] = [{"GroupId": group, **description}]
    if rule.get("DestinationPrefixListId") or rule.get("SourcePrefixListId"):
        permission["PrefixListIds"] = [
            {"PrefixListId": rule.get("DestinationPrefixListId") or rule["SourcePrefixListId"]}
        ]
    return permission


def _apply_security_group(request: Any, model: dict[str, Any], desired: dict[str, Any], creating: bool) -> None:
    # Only on create: rule diffs on update are not tracked (listed as a gap if ever needed).
    if not creating or not model.get("GroupId"):
        return
    ec2, group = request.aws_client_factory.ec2, model["GroupId"]
    ingress = [ip_permission(r) for r in desired.get("SecurityGroupIngress") or []]
    if ingress:
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=ingress)
    egress = desired.get("SecurityGroupEgress")
    if egress is not None and model.get("VpcId"):
        # As on AWS: declaring egress rules replaces the default allow-all rule.
        ec2.revoke_security_group_egress(
            GroupId=group, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
        )
        if egress:
            ec2.authorize_security_group_egress(GroupId=group, IpPermissions=[ip_permission(r) for r in egress])


def _apply_vpc(request: Any, model: dict[str, Any], desired: dict[str, Any], creating: bool) -> None:
    ec2, vpc = request.aws_client_factory.ec2, model.get("VpcId")
    for prop in ("EnableDnsSupport", "EnableDnsHostnames"):
        if vpc and desired.get(prop) is not None:
            value = str(desired[prop]).lower() == "true"
            ec2.modify_vpc_attribute(VpcId=vpc, **{prop: {"Value": value}})
            model[prop] = value  # the provider read the attribute back before we set it


def _apply_role(request: Any, model: dict[str, Any], desired: dict[str, Any], creating: bool) -> None:
    if model.get("RoleName") and desired.get("Description") is not None:
        request.aws_client_factory.iam.update_role(RoleName=model["RoleName"], Description=desired["Description"])


def _enabled(spec: Any, flag: str) -> bool:
    return bool(spec) and str(spec.get(flag, False)).lower() == "true"


def _apply_table(request: Any, model: dict[str, Any], desired: dict[str, Any], creating: bool) -> None:
    ddb, table = request.aws_client_factory.dynamodb, model.get("TableName")
    previous = request.previous_state or {}
    if not table:
        return
    pitr = desired.get("PointInTimeRecoverySpecification")
    if pitr or previous.get("PointInTimeRecoverySpecification"):
        enabled = _enabled(pitr, "PointInTimeRecoveryEnabled")
        ddb.update_continuous_backups(
            TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": enabled}
        )
    # The provider sets TTL on create; on update it kept the old one. TTL can only be toggled, one attribute at a time.
    new_ttl, old_ttl = desired.get("TimeToLiveSpecification"), previous.get("TimeToLiveSpecification")
    if creating or new_ttl == old_ttl:
        return
    if _enabled(old_ttl, "Enabled"):
        ddb.update_time_to_live(
            TableName=table, TimeToLiveSpecification={"AttributeName": old_ttl["AttributeName"], "Enabled": False}
        )
    if _enabled(new_ttl, "Enabled"):
        ddb.update_time_to_live(
            TableName=table, TimeToLiveSpecification={"AttributeName": new_ttl["AttributeName"], "Enabled": True}
        )


_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def bucket_name_problem(name: str | None) -> str | None:
    """Why S3 would refuse this bucket name, or None (the community provider lower-cases names, then
    silently skips creating a bucket whose name is still invalid)."""
    if not name:
        return None
    if not _BUCKET_NAME.match(name) or ".." in name or re.match(r"^\d+\.\d+\.\d+\.\d+$", name):
        return (
            f"Invalid bucket name {name!r}: use 3-63 lowercase letters, digits, dots and hyphens,"
            " starting and ending with a letter or digit"
        )
    return None


def _validate_bucket(request: Any) -> str | None:
    return bucket_name_problem(request.desired_state.get("BucketName"))


def _wrap(cls: type, properties: tuple[str, ...], apply: Any, validate: Any = None) -> None:
    original_create, original_update = cls.create, cls.update

    @functools.wraps(original_create)
    def create(self, request):  # type: ignore[no-untyped-def]
        problem = validate(request) if validate and _CONTEXT_KEY not in request.custom_context else None
        if problem:
            from localstack.services.cloudformation.resource_provider import OperationStatus, ProgressEvent

            return ProgressEvent(
                status=OperationStatus.FAILED, resource_model={}, message=problem, error_code="InvalidRequest"
            )
        # Multi-step providers (e.g. the VPC's) replace desired_state with what they read back after the
        # first step, so keep the template's values from the first invocation in the callback context.
        desired = request.custom_context.setdefault(
            _CONTEXT_KEY, {p: request.desired_state[p] for p in properties if p in request.desired_state}
        )
        event = original_create(self, request)
        if event.status.name == "SUCCESS" and event.resource_model:
            apply(request, event.resource_model, desired, True)
        return event

    @functools.wraps(original_update)
    def update(self, request):  # type: ignore[no-untyped-def]
        # The community update is "not implemented" (the engine then keeps the previous state): apply our
        # properties to the live resource first, then let the engine carry on as it would.
        model = dict(request.previous_state or {})
        model.update({k: v for k, v in request.desired_state.items() if v is not None})
        apply(request, model, dict(request.desired_state), False)
        return original_update(self, request)

    cls.create, cls.update = create, update


def install() -> None:
    """Wrap the create/update of the providers listed in APPLIED."""
    from localstack.services.dynamodb.resource_providers.aws_dynamodb_table import DynamoDBTableProvider
    from localstack.services.ec2.resource_providers.aws_ec2_securitygroup import EC2SecurityGroupProvider
    from localstack.services.ec2.resource_providers.aws_ec2_vpc import EC2VPCProvider
    from localstack.services.iam.resource_providers.aws_iam_role import IAMRoleProvider
    from localstack.services.logs.resource_providers.aws_logs_loggroup import LogsLogGroupProvider
    from localstack.services.s3.resource_providers.aws_s3_bucket import S3BucketProvider

    _wrap(S3BucketProvider, APPLIED[S3BucketProvider.TYPE], _apply_bucket, _validate_bucket)
    for provider, apply in (
        (LogsLogGroupProvider, _apply_log_group),
        (EC2SecurityGroupProvider, _apply_security_group),
        (EC2VPCProvider, _apply_vpc),
        (IAMRoleProvider, _apply_role),
        (DynamoDBTableProvider, _apply_table),
    ):
        _wrap(provider, APPLIED[provider.TYPE], apply)
