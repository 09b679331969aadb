"""Typed settings of the opt-in `pipeline` component (`delivery.pipeline`): AWS CodePipeline delivering the project.

Which environment hosts the pipeline, where its source comes from (an S3 object or a CodeStar connection to
GitHub), which environment it delivers first and which one it promotes to behind the required approval.
Cross-environment rules (the named environments exist, the host is not the promotion's target) are checked
by the loader (``dsplatform.config.loader``), one line each.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from dsplatform.config.fields import Email, GitBranch, LogRetentionDays, S3Key, Strict, matches

CONNECTION_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]{36}$")
# CodeBuild's curated Linux images and custom ECR images ("account.dkr.ecr.region.amazonaws.com/repo:tag").
BUILD_IMAGE_RE = re.compile(r"^(aws/codebuild/[a-z0-9._:-]+|\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/[\w./-]+"
                            r"(:[\w.-]+)?)$")
ConnectionArn = Annotated[str, AfterValidator(matches(
    CONNECTION_ARN_RE, "a CodeStar connection ARN such as "
                       "arn:aws:codestar-connections:us-east-1:123456789012:connection/<uuid>"))]
BuildImage = Annotated[str, AfterValidator(matches(
    BUILD_IMAGE_RE, "a CodeBuild image: aws/codebuild/standard:7.0 or an ECR image URI such as "
                    "123456789012.dkr.ecr.us-east-1.amazonaws.com/build:1"))]

VARIABLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


class PipelineSource(Strict):
    """Where the pipeline's source comes from: an S3 object (local runs, air-gapped teams) or GitHub."""

    kind: Literal["s3", "codestar"] = Field(
        "s3", description="s3: a zip put in the pipeline's artifact bucket; codestar: a CodeStar connection to "
                          "delivery.github.repository")
    key: S3Key = Field("source/source.zip", description="object key of the source zip in the artifact bucket (s3)")
    connection_arn: ConnectionArn | None = Field(
        None, description="CodeStar connection ARN (codestar), e.g. arn:aws:codestar-connections:us-east-1:"
                          "123456789012:connection/<uuid>")
    branch: GitBranch = Field("main", description="branch the pipeline follows (codestar)")

    @model_validator(mode="after")
    def _complete(self) -> PipelineSource:
        if self.kind == "codestar" and self.connection_arn is None:
            raise ValueError("kind codestar needs connection_arn (create the connection in the console, then "
                             "paste its ARN); or use kind: s3")
        return self


class PipelineSettings(Strict):
    """The delivery pipeline on AWS CodePipeline (component `pipeline`, opt in: components.plugins: [pipeline])."""

    environment: str | None = Field(
        None, description="environment whose account hosts the pipeline (default: tooling if defined, else the "
                          "delivered environment)")
    deliver: str = Field("dev", description="environment every run deploys and tests (images, deploy, e2e)")
    promote_to: str | None = Field(
        None, description="environment promoted to after the required approval (invoke promote from `deliver`)")
    dev_approval: bool = Field(False, description="a manual approval before the deliver stage deploys")
    source: PipelineSource = Field(default_factory=PipelineSource,  # type: ignore[arg-type]
                                   description="where the source comes from")
    approval_emails: tuple[Email, ...] = Field((), description="e-mail subscribers of the approval topic")
    failure_emails: tuple[Email, ...] = Field((), description="e-mail subscribers of the failure topic")
    install: str | None = Field(
        None, description="shell command installing the project in a build (default: delivery.github.install, "
                          "else pip install -e \".[dev]\")")
    test: str | None = Field(
        None, description="shell command running the tests in the test stage (default: delivery.github.test, "
                          "else python -m pytest)")
    variables: dict[str, str] = Field(
        default_factory=dict, description="plain environment variables of every build (names, not secrets: "
                                          "CodeBuild shows them in the console)")
    compute_type: Literal["BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE"] = Field(
        "BUILD_GENERAL1_SMALL", description="CodeBuild compute type of every build")
    image: BuildImage = Field("aws/codebuild/standard:7.0", description="CodeBuild image of every build")
    timeout_minutes: int = Field(60, ge=5, le=480, description="a build running longer is stopped and fails")
    log_retention_days: LogRetentionDays = Field(30, description="retention of the builds' CloudWatch log groups")

    @field_validator("variables")
    @classmethod
    def _variables(cls, variables: dict[str, str]) -> dict[str, str]:
        for name in variables:
            if not VARIABLE_RE.fullmatch(name) or name.startswith("CODEBUILD_"):
                raise ValueError(f"{name!r} is not a build variable name; use letters, digits and _, not starting "
                                 f"with a digit or CODEBUILD_")
        return variables
