"""Apply properties the community CloudFormation providers accept but silently drop.

Covered: AWS::S3::Bucket LifecycleConfiguration and AWS::Logs::LogGroup RetentionInDays, on create and
on update (LocalStack's update of these types is a no-op that keeps the previous state).
"""

from __future__ import annotations

import functools
from typing import Any

APPLIED = {
    "AWS::S3::Bucket": ("LifecycleConfiguration",),
    "AWS::Logs::LogGroup": ("RetentionInDays",),
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
            api["Filter"] = {"And": {"Prefix": prefix, "Tags": tag_filters}} if prefix or len(tag_filters) > 1 else {"Tag": tag_filters[0]}
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
            {"NoncurrentDays": rule["NoncurrentVersionExpirationInDays"]} if "NoncurrentVersionExpirationInDays" in rule else None
        )
        if noncurrent:
            api["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(noncurrent["NoncurrentDays"])}
        nc_transitions = list(rule.get("NoncurrentVersionTransitions", [])) + (
            [rule["NoncurrentVersionTransition"]] if "NoncurrentVersionTransition" in rule else []
        )
        if nc_transitions:
            api["NoncurrentVersionTransitions"] = [
                {"NoncurrentDays": int(t["TransitionInDays"]), "StorageClass": t["StorageClass"]} for t in nc_transitions
            ]
        if "AbortIncompleteMultipartUpload" in rule:
            api["AbortIncompleteMultipartUpload"] = {
                "DaysAfterInitiation": int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
            }
        rules.append(api)
    return rules


def _apply_bucket(request: Any, model: dict[str, Any]) -> None:
    s3 = request.aws_client_factory.s3
    bucket = model.get("BucketName")
    config = request.desired_state.get("LifecycleConfiguration")
    if not bucket:
        return
    if config:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": lifecycle_rules(config)})
    elif request.previous_state and request.previous_state.get("LifecycleConfiguration"):
        s3.delete_bucket_lifecycle(Bucket=bucket)


def _apply_log_group(request: Any, model: dict[str, Any]) -> None:
    logs = request.aws_client_factory.logs
    name = model.get("LogGroupName")
    days = request.desired_state.get("RetentionInDays")
    if not name:
        return
    if days:
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(days))
    elif request.previous_state and request.previous_state.get("RetentionInDays"):
        logs.delete_retention_policy(logGroupName=name)


def _wrap(cls: type, apply: Any) -> None:
    original_create, original_update = cls.create, cls.update

    @functools.wraps(original_create)
    def create(self, request):  # type: ignore[no-untyped-def]
        event = original_create(self, request)
        if event.status.name == "SUCCESS" and event.resource_model:
            apply(request, event.resource_model)
        return event

    @functools.wraps(original_update)
    def update(self, request):  # type: ignore[no-untyped-def]
        # The community update is "not implemented" (the engine then keeps the previous state): apply our
        # property to the live resource first, then let the engine carry on as it would.
        model = dict(request.previous_state or {})
        model.update({k: v for k, v in request.desired_state.items() if v is not None})
        apply(request, model)
        return original_update(self, request)

    cls.create, cls.update = create, update


def install() -> None:
    """Wrap the S3 bucket and log group providers' create/update."""
    from localstack.services.logs.resource_providers.aws_logs_loggroup import LogsLogGroupProvider
    from localstack.services.s3.resource_providers.aws_s3_bucket import S3BucketProvider

    _wrap(S3BucketProvider, _apply_bucket)
    _wrap(LogsLogGroupProvider, _apply_log_group)
