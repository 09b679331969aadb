"""Which IAM requests AWS authorizes for one API call: the action (``s3:GetObject`` for HeadObject) and the
resource ARN built from the call's parameters, plus a second request where a call needs one (``iam:PassRole``
for the role a change set or a SageMaker model is given).

Read from the AWS Service Authorization Reference, per operation the code calls. A call that is not in these
tables raises ``UnmappedCallError``: a new call must be added here, with its resource, never guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"  # a stack's id, unknown to a caller naming it by name


class UnmappedCallError(LookupError):
    """An operation with no entry in the tables (its IAM action or resource is not known here)."""


@dataclass(frozen=True)
class Request:
    """One IAM authorization request: action, resource ARN (``*`` where AWS does not scope it), context keys."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Where:
    """The account, region and partition calls are made in: the parts of every ARN built here."""

    account: str
    region: str
    partition: str = "aws"

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        """``arn:<partition>:<service>:<region>:<account>:<resource>``, with region/account left empty if asked."""
        return (f"arn:{self.partition}:{service}:{self.region if region else ''}:"
                f"{self.account if account else ''}:{resource}")


Params = Mapping[str, Any]
Builder = Callable[[Params, Where], list[Request]]
Resources = Callable[[Params, Where], list[str]]
ANY = "*"


def _each(action: str, resources: Resources) -> Builder:
    return lambda p, w: [Request(action, r) for r in resources(p, w)]


def _any(action: str) -> Builder:
    return lambda p, w: [Request(action, ANY)]


def _is_arn(value: str) -> bool:
    return value.startswith("arn:")


# --- CloudFormation --------------------------------------------------------------------------------------------

def _stack(p: Params, w: Where) -> list[str]:
    name = str(p["StackName"])
    return [name if _is_arn(name) else w.arn("cloudformation", f"stack/{name}/{PLACEHOLDER_ID}")]


def _stack_or_any(p: Params, w: Where) -> list[str]:
    return _stack(p, w) if p.get("StackName") else [ANY]


def _change_set_stack(p: Params, w: Where) -> list[str]:
    # Change set calls are authorized on the stack; a caller naming the change set by ARN alone gives no stack.
    if p.get("StackName"):
        return _stack(p, w)
    raise UnmappedCallError(f"cloudformation change set call without StackName ({p.get('ChangeSetName')}): "
                            "its stack is not known here")


def _pass_execution_role(p: Params, w: Where) -> list[Request]:
    base = [Request("cloudformation:CreateChangeSet", r) for r in _stack(p, w)]
    if p.get("RoleARN"):
        base.append(Request("iam:PassRole", str(p["RoleARN"]),
                            (("iam:PassedToService", "cloudformation.amazonaws.com"),)))
    return base


_CFN: dict[str, Builder] = {
    "CreateChangeSet": _pass_execution_role,
    **{op: _each(f"cloudformation:{op}", _change_set_stack)
       for op in ("DescribeChangeSet", "ExecuteChangeSet", "DeleteChangeSet")},
    **{op: _each(f"cloudformation:{op}", _stack)
       for op in ("DescribeStackEvents", "ListStackResources", "GetTemplate", "DeleteStack",
                  "UpdateTerminationProtection", "DescribeStackResources", "DescribeStackResource",
                  "ListChangeSets")},
    "DescribeStacks": _each("cloudformation:DescribeStacks", _stack_or_any),
    "GetTemplateSummary": _each("cloudformation:GetTemplateSummary", _stack_or_any),
    "ListStacks": _any("cloudformation:ListStacks"),
    "ValidateTemplate": _any("cloudformation:ValidateTemplate"),
}

# --- SSM -------------------------------------------------------------------------------------------------------


def _parameter(name: str, w: Where) -> str:
    return name if _is_arn(name) else w.arn("ssm", "parameter" + (name if name.startswith("/") else "/" + name))


_SSM: dict[str, Builder] = {
    **{op: _each(f"ssm:{op}", lambda p, w: [_parameter(str(p["Name"]), w)])
       for op in ("GetParameter", "PutParameter", "DeleteParameter", "GetParameterHistory")},
    "GetParameters": _each("ssm:GetParameters", lambda p, w: [_parameter(str(n), w) for n in p["Names"]]),
    "GetParametersByPath": _each("ssm:GetParametersByPath", lambda p, w: [_parameter(str(p["Path"]), w)]),
}

# --- ECR -------------------------------------------------------------------------------------------------------


def _repository(p: Params, w: Where) -> list[str]:
    return [w.arn("ecr", f"repository/{p['repositoryName']}")]


_ECR: dict[str, Builder] = {
    **{op: _each(f"ecr:{op}", _repository)
       for op in ("BatchCheckLayerAvailability", "PutImage", "InitiateLayerUpload", "UploadLayerPart",
                  "CompleteLayerUpload", "BatchGetImage", "DescribeImages", "ListImages", "BatchDeleteImage",
                  "GetDownloadUrlForLayer")},
    "GetAuthorizationToken": _any("ecr:GetAuthorizationToken"),
    "DescribeRepositories": _each("ecr:DescribeRepositories", lambda p, w: [
        w.arn("ecr", f"repository/{n}") for n in p.get("repositoryNames") or []] or [ANY]),
}

# --- S3: actions are not operation names ---------------------------------------------------------------------


def _bucket(p: Params, w: Where) -> list[str]:
    return [f"arn:{w.partition}:s3:::{p['Bucket']}"]


def _object(p: Params, w: Where) -> list[str]:
    return [f"arn:{w.partition}:s3:::{p['Bucket']}/{p['Key']}"]


def _versioned(plain: str, versioned: str) -> Builder:
    return lambda p, w: [Request(versioned if p.get("VersionId") else plain, r) for r in _object(p, w)]


def _delete_objects(p: Params, w: Where) -> list[Request]:
    return [Request("s3:DeleteObjectVersion" if o.get("VersionId") else "s3:DeleteObject",
                    f"arn:{w.partition}:s3:::{p['Bucket']}/{o['Key']}") for o in p["Delete"]["Objects"]]


def _copy_object(p: Params, w: Where) -> list[Request]:
    source = p["CopySource"]
    src = f"{source['Bucket']}/{source['Key']}" if isinstance(source, Mapping) else str(source).lstrip("/")
    return [Request("s3:GetObject", f"arn:{w.partition}:s3:::{src.split('?', 1)[0]}"),
            *(Request("s3:PutObject", r) for r in _object(p, w))]


_S3_BUCKET_ACTIONS = {
    "HeadBucket": "s3:ListBucket", "ListObjects": "s3:ListBucket", "ListObjectsV2": "s3:ListBucket",
    "ListObjectVersions": "s3:ListBucketVersions", "CreateBucket": "s3:CreateBucket",
    "DeleteBucket": "s3:DeleteBucket", "GetBucketPolicy": "s3:GetBucketPolicy",
    "PutBucketPolicy": "s3:PutBucketPolicy", "GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "PutBucketEncryption": "s3:PutEncryptionConfiguration",
    "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock", "GetBucketVersioning": "s3:GetBucketVersioning",
    "PutBucketVersioning": "s3:PutBucketVersioning", "GetBucketLocation": "s3:GetBucketLocation",
    "PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
    "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
    "PutBucketTagging": "s3:PutBucketTagging", "PutBucketOwnershipControls": "s3:PutBucketOwnershipControls",
    "ListMultipartUploads": "s3:ListBucketMultipartUploads",
}
_S3: dict[str, Builder] = {
    **{op: _each(action, _bucket) for op, action in _S3_BUCKET_ACTIONS.items()},
    "GetObject": _versioned("s3:GetObject", "s3:GetObjectVersion"),
    "HeadObject": _versioned("s3:GetObject", "s3:GetObjectVersion"),
    "DeleteObject": _versioned("s3:DeleteObject", "s3:DeleteObjectVersion"),
    **{op: _each("s3:PutObject", _object)
       for op in ("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload")},
    "AbortMultipartUpload": _each("s3:AbortMultipartUpload", _object),
    "DeleteObjects": _delete_objects,
    "CopyObject": _copy_object,
    "ListBuckets": _any("s3:ListAllMyBuckets"),
}

# Calls that need no permission (GetCallerIdentity is always allowed).
_STS: dict[str, Builder] = {"GetCallerIdentity": lambda p, w: []}

TABLES: dict[str, dict[str, Builder]] = {"cloudformation": _CFN, "ssm": _SSM, "ecr": _ECR, "s3": _S3, "sts": _STS}
