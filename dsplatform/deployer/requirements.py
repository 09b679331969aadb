"""What stacks need that no stack creates (``StackSpec.requires``): checked before a stack is first created.

A stack whose tasks load, say, a trained model from S3 would otherwise be created, start tasks that never
get ready and hang until the ECS circuit breaker gives up. ``deploy`` refuses up front instead, naming what
is missing and how to provide it.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from dsplatform.deployer.errors import DeployerError
from dsplatform.deployer.status import StackState, classify
from dsplatform.stackspec import Plan, Requirement, StackSpec

# S3 answers 404 for an absent key or bucket. A 403 (another environment's bucket the deploy credentials may not
# read, as with parameters.artifacts_from) says nothing either way: it does not block, the circuit breaker remains.
_ABSENT = {"404", "NoSuchKey", "NoSuchBucket", "NotFound"}
_UNKNOWN = {"403", "Forbidden", "AccessDenied"}
_CREATING = {StackState.ABSENT, StackState.FAILED_CREATE, StackState.REVIEW}


class RequirementMissingError(DeployerError):
    """A stack about to be created needs an object that is absent: nothing was deployed."""

    exit_code = 2

    def __init__(self, stack: str, requirement: Requirement) -> None:
        self.stack, self.requirement = stack, requirement
        super().__init__(f"stack {stack} needs {requirement.what} at {requirement.url}, which is absent; "
                         f"{requirement.fix}, then deploy again")


def object_exists(s3: Any, bucket: str, key: str) -> bool:
    """False when ``s3://bucket/key`` is absent (an absent bucket too); True when it exists or cannot be checked."""
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as err:
        code = str(err.response.get("Error", {}).get("Code"))
        if code in _ABSENT:
            return False
        if code in _UNKNOWN:
            return True
        raise
    return True


def to_be_created(plan: Plan, current: dict[str, dict[str, Any]]) -> list[StackSpec]:
    """The plan's stacks with requirements that the next deploy creates (absent, failed create, never run)."""
    return [spec for spec in plan.stacks
            if spec.requires and classify((current.get(spec.name) or {}).get("StackStatus")) in _CREATING]


def missing_requirements(plan: Plan, clients: Any, current: dict[str, dict[str, Any]]) -> list[tuple[str, Requirement]]:
    """(stack, requirement) for each requirement of a stack about to be created whose object is absent."""
    creating = to_be_created(plan, current)
    if not creating:
        return []  # no S3 call for the usual deploy
    s3 = clients.client("s3")
    return [(spec.name, req) for spec in creating for req in spec.requires
            if not object_exists(s3, req.bucket, req.key)]


def check_requirements(plan: Plan, clients: Any, current: dict[str, dict[str, Any]]) -> None:
    """Raise RequirementMissingError for the first missing requirement of a stack about to be created."""
    missing = missing_requirements(plan, clients, current)
    if missing:
        raise RequirementMissingError(*missing[0])
