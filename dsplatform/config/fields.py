"""Shared pieces of the config models: the strict base, AWS limits, and field types checked by one pattern rule.

A pattern-checked field type fails with ``must be <what is allowed>``; the loader adds the key path and the bad
value, so every such error is one line naming the field, the value and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

from dsplatform.config.awsrules import check_region

ACCOUNT_ID_RE = re.compile(r"^\d{12}$")
ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]{1,512}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
IMAGE_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
S3_KEY_RE = re.compile(r"^[A-Za-z0-9!_.*'()/-][A-Za-z0-9!_.*'()/ -]{0,1023}$")

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
                      2557, 2922, 3288, 3653)

# S3 lifecycle days: no documented maximum, but a century is more than any retention rule means.
MAX_LIFECYCLE_DAYS = 36500

# Fargate's valid (cpu units -> memory MiB) combinations.
FARGATE_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
    8192: tuple(range(16384, 61441, 4096)),
    16384: tuple(range(32768, 122881, 8192)),
}

GITHUB_REPO_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")
GIT_BRANCH_RE = re.compile(r"^(?!/)(?!.*//)(?!.*\.\.)[A-Za-z0-9._/-]{1,200}(?<![/.])$")


def matches(pattern: re.Pattern[str], allowed: str) -> Callable[[str], str]:
    """A validator that accepts a value ``pattern`` matches whole, else fails with ``must be <allowed>``."""

    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"must be {allowed}")
        return value

    return check


AccountId = Annotated[str, AfterValidator(matches(ACCOUNT_ID_RE, "a 12-digit AWS account id in quotes"))]
Region = Annotated[str, AfterValidator(check_region)]
Email = Annotated[str, AfterValidator(matches(EMAIL_RE, "an e-mail address such as team@example.com"))]
S3Key = Annotated[str, AfterValidator(matches(S3_KEY_RE, "an S3 object key such as raw/monthly_data.csv"))]
GitHubRepository = Annotated[str, AfterValidator(matches(
    GITHUB_REPO_RE, "owner/name of a GitHub repository, e.g. acme/ds-platform"))]
GitBranch = Annotated[str, AfterValidator(matches(
    GIT_BRANCH_RE, "a git branch name of letters, digits and . _ / - (no .., //, or / or . at the ends), e.g. main"))]


class Strict(BaseModel):
    """Base of every config model: frozen, unknown keys rejected, no type coercion (``true`` is not 1)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _fargate_cpu(cpu: int) -> int:
    if cpu not in FARGATE_MEMORY:
        raise ValueError(f"{cpu} is not a Fargate CPU size; use one of {', '.join(map(str, FARGATE_MEMORY))}")
    return cpu


def _log_retention(days: int) -> int:
    if days not in LOG_RETENTION_DAYS:
        raise ValueError(f"{days} is not a CloudWatch Logs retention; use one of "
                         f"{', '.join(map(str, LOG_RETENTION_DAYS))}")
    return days


FargateCpu = Annotated[int, AfterValidator(_fargate_cpu)]
LogRetentionDays = Annotated[int, AfterValidator(_log_retention)]
