"""Settings of the stock batch platform's components: network, storage, images, the job, its schedule and alarms."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from dsplatform.config.awsrules import check_schedule
from dsplatform.config.fields import (
    FARGATE_MEMORY,
    IMAGE_TAG_RE,
    LOG_RETENTION_DAYS,
    MAX_LIFECYCLE_DAYS,
    AccountId,
    Email,
    FargateCpu,
    LogRetentionDays,
    S3Key,
    Strict,
)
from dsplatform.display import shown


class NetworkSettings(Strict):
    """Where the Fargate task runs: a VPC the platform creates, or an existing one."""

    mode: Literal["create", "existing"] = Field("create", description="create a VPC, or use an existing one")
    cidr: str = Field("10.40.0.0/16", description="CIDR of the created VPC (/16 to /24)")
    vpc_id: str | None = Field(None, description="existing VPC id (mode: existing)")
    subnet_ids: tuple[str, ...] = Field(
        (), strict=False, description="existing private subnet ids, two or more (mode: existing)")
    interface_endpoints: bool = Field(
        True, description="ECR, Logs and SSM interface endpoints so private tasks need no NAT (mode: create)")
    public_subnets: bool = Field(
        False, description="two public subnets with an internet gateway, for an internet-facing API load balancer "
                           "(mode: create); the batch tasks stay private")
    public_subnet_ids: tuple[str, ...] = Field(
        (), description="existing public subnet ids for an internet-facing API load balancer (mode: existing)")

    @model_validator(mode="after")
    def _consistent(self) -> NetworkSettings:
        try:
            net = ipaddress.IPv4Network(self.cidr)
        except ValueError as exc:
            raise ValueError(f"cidr {shown(self.cidr)} is not an IPv4 network such as 10.40.0.0/16") from exc
        if not 16 <= net.prefixlen <= 24:
            raise ValueError(f"cidr {shown(self.cidr)} must have a prefix between /16 and /24")
        if self.mode == "existing":
            if not self.vpc_id or not re.fullmatch(r"vpc-[0-9a-f]{8,17}", self.vpc_id):
                raise ValueError(f"mode existing needs vpc_id like vpc-0abc12345678; got {shown(self.vpc_id)}")
            bad = [s for s in self.subnet_ids if not re.fullmatch(r"subnet-[0-9a-f]{8,17}", s)]
            if len(self.subnet_ids) < 2 or bad:
                raise ValueError(f"mode existing needs two or more subnet_ids like subnet-0abc12345678; got "
                                 f"{shown(list(self.subnet_ids))}")
        elif self.vpc_id or self.subnet_ids:
            raise ValueError("vpc_id and subnet_ids are only allowed with mode: existing")
        return self


class LifecycleSettings(Strict):
    """S3 lifecycle rules applied to the data buckets."""

    input_expiration_days: int | None = Field(
        None, ge=1, le=MAX_LIFECYCLE_DAYS, description="expire input objects after N days")
    output_expiration_days: int | None = Field(
        None, ge=1, le=MAX_LIFECYCLE_DAYS, description="expire output objects after N days")
    noncurrent_expiration_days: int = Field(
        30, ge=1, le=MAX_LIFECYCLE_DAYS, description="expire non-current versions after N days")
    abort_multipart_days: int = Field(
        7, ge=1, le=MAX_LIFECYCLE_DAYS, description="abort incomplete multipart uploads after N days")


class StorageSettings(Strict):
    """Input, output and artifact buckets."""

    encryption: Literal["s3", "kms"] = Field("s3", description="S3-managed keys (s3) or a customer KMS key (kms)")
    versioning: bool = Field(True, description="versioning on the input and output buckets (always on artifacts)")
    lifecycle: LifecycleSettings = Field(default_factory=LifecycleSettings, description="lifecycle rules")  # type: ignore[arg-type]
    artifact_readers: tuple[AccountId, ...] = Field(
        (), strict=False,
        description="other accounts allowed to read the artifact bucket (environments that read it are added)")


class RegistrySettings(Strict):
    """The ECR repositories of the images: the stock job's (``registry``), the api's (``api-registry``)."""

    tag_mutability: Literal["MUTABLE", "IMMUTABLE"] | None = Field(
        None, description="ECR image tag mutability; default IMMUTABLE in protected environments, else MUTABLE "
                          "(tasks always run an image by digest)")
    scan_on_push: bool = Field(True, description="scan images for vulnerabilities on push")
    max_images: int = Field(30, ge=1, le=1000, description="lifecycle rule: keep the newest N images")


class ComputeSettings(Strict):
    """The Fargate task definition."""

    cpu: FargateCpu = Field(2048, description="task CPU units (Fargate: 256, 512, 1024, 2048, 4096, 8192, 16384)")
    memory: int = Field(4096, description="task memory in MiB (must suit cpu, as Fargate requires)")
    image_tag: str = Field("latest", description="tag of the job image in the ECR repository")

    @field_validator("memory")
    @classmethod
    def _memory(cls, memory: int, info: ValidationInfo) -> int:
        allowed = FARGATE_MEMORY.get(info.data.get("cpu", 0))
        if allowed and memory not in allowed:
            step = allowed[1] - allowed[0]
            raise ValueError(f"{memory} MiB does not suit cpu {info.data['cpu']}; Fargate allows {allowed[0]} to "
                             f"{allowed[-1]} in steps of {step}")
        return memory

    @field_validator("image_tag")
    @classmethod
    def _tag(cls, tag: str) -> str:
        if not IMAGE_TAG_RE.fullmatch(tag):
            raise ValueError(f"{shown(tag)} is not an ECR tag; use letters, digits, _ . - (up to 128)")
        return tag


class LogSettings(Strict):
    """The job's CloudWatch log group."""

    retention_days: LogRetentionDays = Field(30, description=f"log retention in days, one of {LOG_RETENTION_DAYS}")


class ScheduleSettings(Strict):
    """The EventBridge rule that starts the pipeline."""

    expression: str = Field("cron(0 9 15 * ? *)", description="EventBridge schedule: cron(6 fields) or rate(N unit)")
    enabled: bool = Field(True, description="whether the rule is enabled in this environment")
    trigger: Literal["schedule", "on_arrival"] = Field(
        "schedule", description="what starts the pipeline: the schedule rule, or each accepted file arriving under "
                                "the input bucket's raw/ prefix (the ingest function starts it; the rule is disabled)")

    @field_validator("expression")
    @classmethod
    def _expression(cls, expression: str) -> str:
        return check_schedule(expression)


class OrchestrationSettings(Strict):
    """The Step Functions state machine."""

    timeout_seconds: int = Field(3600, ge=60, le=86400, description="execution timeout in seconds")
    retry_attempts: int = Field(2, ge=0, le=10, description="retries of the task on transient ECS errors")
    retry_interval_seconds: int = Field(30, ge=1, le=3600, description="first retry interval in seconds")
    log_level: Literal["ERROR", "ALL"] = Field(
        "ERROR", description="execution log level of the state machine (execution data is never logged)")
    shard_size_mb: int = Field(
        1024, ge=1, le=1_000_000,
        description="an input object larger than this (MB) is split into record-aligned shards run side by side "
                    "on a Distributed Map; an input prefix is always sharded (an execution's shard_size_bytes "
                    "overrides it)")
    max_concurrency: int = Field(4, ge=1, le=1000, description="shards (ECS tasks) running at once")
    tolerated_failure_count: int = Field(
        0, ge=0, description="failed shards tolerated before the run fails; a run missing shards commits a "
                             "manifest with status partial")


class IngestSettings(Strict):
    """The ingest function that catalogues every file arriving under raw/ in a DynamoDB table."""

    memory_mb: int = Field(256, ge=128, le=10240, description="the function's memory in MB")
    timeout_seconds: int = Field(60, ge=1, le=900, description="the function's timeout in seconds")
    retry_attempts: int = Field(2, ge=0, le=2, description="retries of a failed asynchronous invocation (0-2)")
    ttl_attribute: str | None = Field(
        None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,254}$",
        description="optional TTL attribute of the catalogue table (items expire at its epoch-seconds value)")
    errors_threshold: int = Field(1, ge=1, description="function Errors per period that raise the alarm")


class AlarmSettings(Strict):
    """CloudWatch alarms on the state machine's metrics."""

    failed_threshold: int = Field(1, ge=1, description="ExecutionsFailed alarm threshold per period")
    timed_out_threshold: int = Field(1, ge=1, description="ExecutionsTimedOut alarm threshold per period")
    throttled_threshold: int = Field(1, ge=1, description="ExecutionThrottled alarm threshold per period")
    period_seconds: int = Field(300, description="alarm period: 10, 30 or a multiple of 60 seconds")
    evaluation_periods: int = Field(1, ge=1, le=100, description="periods evaluated before the alarm fires")

    @field_validator("period_seconds")
    @classmethod
    def _period(cls, period: int) -> int:
        if period not in (10, 30) and (period < 60 or period % 60):
            raise ValueError(f"{period} is not a CloudWatch alarm period; use 10, 30 or a multiple of 60")
        return period

    @model_validator(mode="after")
    def _one_day(self) -> AlarmSettings:
        # CloudWatch refuses an alarm whose evaluation window (period x periods) is longer than a day.
        if self.period_seconds * self.evaluation_periods > 86400:
            raise ValueError(f"period_seconds {self.period_seconds} x evaluation_periods {self.evaluation_periods} "
                             f"is more than CloudWatch's one day (86400 s); lower either")
        return self


class AlertSettings(Strict):
    """The SNS topic that receives failures and alarms."""

    emails: tuple[Email, ...] = Field((), strict=False, description="e-mail addresses subscribed to the alert topic")


class ParameterSettings(Strict):
    """Values of the job's SSM parameters (bucket names are filled in from the storage stack)."""

    input_key: S3Key = Field("raw/monthly_data.csv", description="input object key in the input bucket")
    model_key: S3Key = Field("models/preprocessing_model.pkl", description="model object key in the artifact bucket")
    script_key: S3Key | None = Field(None, description="optional custom script key in the artifact bucket")
    package_key: S3Key | None = Field(None, description="optional package archive key in the artifact bucket")
    model_version: str | None = Field(None, max_length=128, description=(
        "SSM model-version, owned by the parameters stack when set (then `invoke model.stage`/`model.promote` "
        "write nothing and refuse another version); unset, those tasks record models:/<name>/<version>"))
    artifacts_from: str | None = Field(
        None, description="read models and scripts from this other environment's artifact bucket (cross-account)")


class RollbackSettings(Strict):
    """CloudFormation rollback triggers: an update that trips one of these alarms rolls itself back."""

    alarms: tuple[str, ...] = Field(
        (), description="CloudWatch alarm names of this environment that roll a stack update back; 'pipeline' "
                        "stands for the stock pipeline's failure alarms")
    monitoring_minutes: int = Field(0, ge=0, le=180, description="minutes CloudFormation keeps watching the "
                                                                 "alarms after each stack update (0: during it)")

