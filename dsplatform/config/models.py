"""Typed, frozen configuration models: one environment's settings per platform component.

Every model rejects unknown keys (``extra="forbid"``); every field has a description, which is also the
configuration reference rendered in ``docs/configuration.md``.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from dsplatform.config.awsrules import check_region, check_schedule, check_tags
from dsplatform.display import shown, shown_text

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


def _matches(pattern: re.Pattern[str], allowed: str):  # type: ignore[no-untyped-def]
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"must be {allowed}")
        return value

    return check


AccountId = Annotated[str, AfterValidator(_matches(ACCOUNT_ID_RE, "a 12-digit AWS account id in quotes"))]
Region = Annotated[str, AfterValidator(check_region)]
Email = Annotated[str, AfterValidator(_matches(EMAIL_RE, "an e-mail address such as team@example.com"))]
S3Key = Annotated[str, AfterValidator(_matches(S3_KEY_RE, "an S3 object key such as raw/monthly_data.csv"))]


class Strict(BaseModel):
    """Base of every config model: frozen, unknown keys rejected, no type coercion (``true`` is not 1)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


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

    cpu: int = Field(2048, description="task CPU units (Fargate: 256, 512, 1024, 2048, 4096, 8192, 16384)")
    memory: int = Field(4096, description="task memory in MiB (must suit cpu, as Fargate requires)")
    image_tag: str = Field("latest", description="tag of the job image in the ECR repository")

    @field_validator("cpu")
    @classmethod
    def _cpu(cls, cpu: int) -> int:
        if cpu not in FARGATE_MEMORY:
            raise ValueError(f"{cpu} is not a Fargate CPU size; use one of {', '.join(map(str, FARGATE_MEMORY))}")
        return cpu

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

    retention_days: int = Field(30, description=f"log retention in days, one of {LOG_RETENTION_DAYS}")

    @field_validator("retention_days")
    @classmethod
    def _retention(cls, days: int) -> int:
        if days not in LOG_RETENTION_DAYS:
            raise ValueError(f"{days} is not a CloudWatch Logs retention; use one of "
                             f"{', '.join(map(str, LOG_RETENTION_DAYS))}")
        return days


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


class ApiSettings(Strict):
    """The real-time API (component `api`): its service, load balancer, scaling and alarms."""

    image_tag: str = Field("latest", description="tag of the API image in its ECR repository (the api-registry "
                                                  "stack); the service runs the digest pushed under it")
    cpu: int = Field(512, description="task CPU units (a Fargate size)")
    memory: int = Field(1024, description="task memory in MiB (must suit cpu)")
    container_port: int = Field(8080, ge=1024, le=65535, description="port the container listens on")
    desired_count: int = Field(2, ge=1, le=100, description="tasks running normally")
    min_capacity: int = Field(2, ge=1, le=100, description="auto scaling minimum tasks")
    max_capacity: int = Field(6, ge=1, le=100, description="auto scaling maximum tasks")
    cpu_target_percent: int = Field(60, ge=10, le=90, description="target tracking: average CPU per task")
    requests_per_target: int = Field(500, ge=1, description="target tracking: ALB requests per target per minute")
    health_check_grace_seconds: int = Field(30, ge=0, le=600, description="ignore failed health checks this long "
                                                                            "after a task starts")
    health_check_interval_seconds: int = Field(10, ge=5, le=300, description="seconds between the load balancer's "
                                                                             "health checks of each task (/ready)")
    deregistration_delay_seconds: int = Field(30, ge=0, le=3600, description="seconds a deregistered task keeps "
                                                                             "its in-flight requests (draining)")
    internet_facing: bool = Field(False, description="internet-facing load balancer (needs network.public_subnets "
                                                     "and explicit allowed_cidrs); internal otherwise")
    allowed_cidrs: tuple[str, ...] = Field(("10.0.0.0/8",), description="CIDRs allowed to reach the load balancer")
    certificate_arn: str | None = Field(None, description="ACM certificate ARN: HTTPS listener, HTTP redirected "
                                                          "to it; without it the listener is plain HTTP")
    max_body_bytes: int = Field(1_048_576, ge=1024, description="request bodies over this many bytes get 413")
    error_5xx_threshold: int = Field(5, ge=1, description="5xx answers per period that raise the alarm")
    p99_latency_seconds: float = Field(1.0, gt=0, description="p99 target response time that raises the alarm")

    @field_validator("cpu")
    @classmethod
    def _cpu(cls, cpu: int) -> int:
        if cpu not in FARGATE_MEMORY:
            raise ValueError(f"{cpu} is not a Fargate CPU size; use one of {', '.join(map(str, FARGATE_MEMORY))}")
        return cpu

    _memory = field_validator("memory")(ComputeSettings._memory.__func__)  # type: ignore[attr-defined]
    _tag = field_validator("image_tag")(ComputeSettings._tag.__func__)  # type: ignore[attr-defined]

    @model_validator(mode="after")
    def _consistent(self) -> ApiSettings:
        if not self.min_capacity <= self.desired_count <= self.max_capacity:
            raise ValueError(f"desired_count {self.desired_count} must lie between min_capacity {self.min_capacity} "
                             f"and max_capacity {self.max_capacity}")
        for cidr in self.allowed_cidrs:
            try:
                ipaddress.IPv4Network(cidr)
            except ValueError as exc:
                raise ValueError(f"allowed_cidrs: {cidr!r} is not an IPv4 network such as 10.0.0.0/8") from exc
        if self.certificate_arn and not re.fullmatch(r"arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[\w-]+",
                                                     self.certificate_arn):
            raise ValueError(f"certificate_arn {self.certificate_arn!r} is not an ACM certificate ARN such as "
                             f"arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d")
        return self


class ModelRegistrySettings(Strict):
    """The MLflow model registry the serving side reads (on LocalStack: the local server of `invoke registry.start`)."""

    uri: str | None = Field(
        None, description="tracking URI on AWS: an https:// MLflow server or a SageMaker MLflow tracking server ARN")

    @field_validator("uri")
    @classmethod
    def _uri(cls, uri: str | None) -> str | None:
        if uri is not None and not re.fullmatch(
                r"https://[^/\s]+(/\S*)?|arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:mlflow-tracking-server/[\w-]+",
                uri):
            raise ValueError(f"{uri!r} is not a registry URI; use https://mlflow.example.com or "
                             f"arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/NAME")
        return uri


class ServingSettings(Strict):
    """The SageMaker endpoint of the serving component (opt-in: components.plugins)."""

    model_name: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$",
                                   description="registered model name (default <project>-model)")
    model_version: str | None = Field(None, pattern=r"^[1-9][0-9]{0,8}$",
                                      description="registry version to serve (staged with `invoke model.stage`)")
    model_sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$",
                                     description="SHA-256 of that version's model.tar.gz (printed by model.stage)")
    image_tag: str = Field("latest", pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$",
                           description="tag the serving image is pushed under; the model names its digest")
    min_accuracy: float = Field(0.8, ge=0.0, le=1.0,
                                description="quality bar: holdout accuracy the serving scenarios must measure on "
                                            "the endpoint before `invoke model.promote` moves a version on")
    instance_type: str = Field("ml.m5.large", pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$",
                               description="SageMaker instance type, e.g. ml.m5.large")
    instance_count: int = Field(1, ge=1, le=100, description="initial instances (the scaling minimum)")
    max_instances: int = Field(1, ge=1, le=100,
                               description="auto scaling maximum; above instance_count adds target tracking")
    invocations_per_instance: int = Field(100, ge=1, description="scaling target: invocations per instance/minute")
    data_capture: bool = Field(False, description="capture requests and responses to the output bucket")
    capture_percent: int = Field(10, ge=1, le=100, description="percentage of requests captured")
    latency_threshold_ms: int = Field(1000, ge=1, description="ModelLatency alarm threshold (average, ms)")
    errors_threshold: int = Field(1, ge=1, description="Invocation5XXErrors alarm threshold per period")

    @model_validator(mode="after")
    def _scaling(self) -> ServingSettings:
        if self.max_instances < self.instance_count:
            raise ValueError(f"max_instances {self.max_instances} is below instance_count {self.instance_count}; "
                             f"set max_instances >= instance_count")
        return self


class ComponentSettings(Strict):
    """All per-component settings of one environment (defaults merged with the environment's overrides)."""

    network: NetworkSettings = Field(default_factory=NetworkSettings)  # type: ignore[arg-type]
    storage: StorageSettings = Field(default_factory=StorageSettings)  # type: ignore[arg-type]
    registry: RegistrySettings = Field(default_factory=RegistrySettings)  # type: ignore[arg-type]
    compute: ComputeSettings = Field(default_factory=ComputeSettings)  # type: ignore[arg-type]
    logs: LogSettings = Field(default_factory=LogSettings)  # type: ignore[arg-type]
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)  # type: ignore[arg-type]
    orchestration: OrchestrationSettings = Field(default_factory=OrchestrationSettings)  # type: ignore[arg-type]
    alarms: AlarmSettings = Field(default_factory=AlarmSettings)  # type: ignore[arg-type]
    ingest: IngestSettings = Field(default_factory=IngestSettings)  # type: ignore[arg-type]
    alerts: AlertSettings = Field(default_factory=AlertSettings)  # type: ignore[arg-type]
    parameters: ParameterSettings = Field(default_factory=ParameterSettings)  # type: ignore[arg-type]
    rollback: RollbackSettings = Field(default_factory=RollbackSettings)  # type: ignore[arg-type]
    model_registry: ModelRegistrySettings = Field(default_factory=ModelRegistrySettings)  # type: ignore[arg-type]
    api: ApiSettings = Field(default_factory=ApiSettings)  # type: ignore[arg-type]
    serving: ServingSettings = Field(default_factory=ServingSettings)  # type: ignore[arg-type]

    @model_validator(mode="after")
    def _api_network(self) -> ComponentSettings:
        if self.api.internet_facing:
            if not (self.network.public_subnets or self.network.public_subnet_ids):
                raise ValueError("api.internet_facing needs public subnets: set network.public_subnets: true "
                                 "(or network.public_subnet_ids with mode: existing)")
            if "allowed_cidrs" not in self.api.model_fields_set:
                raise ValueError("api.internet_facing needs explicit api.allowed_cidrs (e.g. [203.0.113.0/24]); "
                                 "the default only admits private addresses")
        return self


class EnvironmentConfig(Strict):
    """One deployment environment: where it lives, how to reach it, and its component settings."""

    name: str = Field(description="environment name (the key under environments)")
    account_id: AccountId = Field(description="the AWS account id (simulated on LocalStack)")
    region: Region = Field("us-east-1", description="AWS region")
    target: Literal["localstack", "aws"] = Field("aws", description="deploy to LocalStack or to real AWS")
    profile: str | None = Field(None, description="AWS CLI profile used to reach the account (target aws)")
    deploy_role_arn: str | None = Field(None, description="role assumed to deploy (cross-account, target aws)")
    protected: bool = Field(False, description="never destroyed by a task; stacks get termination protection")
    qualify_names: bool = Field(
        False, description="suffix account-scoped names with the environment; required (true) on every environment "
                           "that shares its account and region with another")
    settings: ComponentSettings = Field(default_factory=ComponentSettings)  # type: ignore[arg-type]

    @model_validator(mode="after")
    def _role_in_account(self) -> EnvironmentConfig:
        if self.deploy_role_arn is not None:
            match = ROLE_ARN_RE.fullmatch(self.deploy_role_arn)
            if not match:
                raise ValueError(f"deploy_role_arn {shown(self.deploy_role_arn)} is not an IAM role ARN such as "
                                 f"arn:aws:iam::123456789012:role/deploy")
            if match.group(1) != self.account_id:
                raise ValueError(f"deploy_role_arn {shown(self.deploy_role_arn)} is in account {match.group(1)}, not "
                                 f"in this environment's account {self.account_id}")
        return self

    @property
    def is_protected(self) -> bool:
        """True for environments no task may destroy: ``protected: true`` or the one named prod."""
        return self.protected or self.name == "prod"


class ProjectSettings(Strict):
    """Project-wide identity."""

    name: str = Field("ds", pattern=r"^[a-z][a-z0-9]{1,9}$", description="name prefix of every resource")
    tags: Annotated[dict[str, str], AfterValidator(check_tags)] = Field(
        default_factory=dict, description="tags put on every stack")


class LocalStackConfig(Strict):
    """How to reach the embedded LocalStack."""

    endpoint_url: str = Field("http://127.0.0.1:4566", pattern=r"^https?://[^/\s]+$",
                              description="LocalStack gateway URL (env DSPLATFORM_LOCALSTACK_URL overrides)")


class ComponentsConfig(Strict):
    """Which components make the plan: stock ones kept, and the project's own plug-ins."""

    stock: Literal["all"] | tuple[str, ...] = Field(
        "all", description="stock components to deploy: all, or a list of names (dependencies must be listed too)")
    plugins: tuple[str, ...] = Field(
        (), description="the project's own components: import paths package.module:ATTR (resolved from the folder "
                        "of dsplatform.yml) or names of installed entry points in group dsplatform.components; "
                        "one may bring what it needs (api brings api-registry)")


GITHUB_REPO_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")
GIT_BRANCH_RE = re.compile(r"^(?!/)(?!.*//)(?!.*\.\.)[A-Za-z0-9._/-]{1,200}(?<![/.])$")


class GitHubSettings(Strict):
    """The GitHub repository whose workflows deliver the project (OIDC trust is scoped to it)."""

    repository: str = Field(description="owner/name of the GitHub repository, e.g. acme/ds-platform")
    runner: str = Field("ubuntu-latest", description="runs-on label of the workflows' jobs")
    python_version: str = Field("3.12", pattern=r"^3\.\d{1,2}$", description="Python version the workflows set up")
    install: str = Field('pip install -e ".[dev]"',
                         description="shell command installing the project and its tasks in a workflow")
    test: str = Field("python -m pytest", description="shell command running the project's tests in a workflow")
    oidc_provider: Literal["create", "existing"] = Field(
        "create", description="bootstrap creates GitHub's OIDC provider, or uses the one the account already has "
                              "(an account holds one per issuer; the second region's bootstrap says existing)")

    @field_validator("repository")
    @classmethod
    def _repository(cls, repository: str) -> str:
        if not GITHUB_REPO_RE.fullmatch(repository):
            raise ValueError(f"{repository!r} is not a GitHub repository; use owner/name, e.g. acme/ds-platform")
        return repository


class PromotionRoute(Strict):
    """The manually approved promotion: evidence from one environment, deployed to another."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_env: str = Field(alias="from", description="environment whose passing e2e record is the evidence")
    to: str = Field(description="environment the promotion deploys (a GitHub environment with required reviewers)")


class CostAssumptions(Strict):
    """What `invoke cost` cannot read from templates: how long a run lasts and how much data is kept."""

    run_minutes: float = Field(15.0, gt=0, le=1440, description="duration of one scheduled job run, in minutes")
    storage_gb: float = Field(50.0, ge=0, description="data kept in the environment's buckets, in GB")
    log_gb_per_month: float = Field(1.0, ge=0, description="log volume ingested per month, in GB")


# Imported here, not at the top: its models build on Strict and the field types defined above.
from dsplatform.config.pipeline_settings import PipelineSettings  # noqa: E402


class DeliveryConfig(Strict):
    """How changes reach the environments: branch mapping, promotion, GitHub and the trusted CI principals."""

    branches: dict[str, str] = Field(
        default_factory=dict, description="git branch -> environment it deploys on push, e.g. {test: dev, main: stg}")
    promote: PromotionRoute | None = Field(
        None, description="the manually dispatched promotion, e.g. {from: stg, to: prod}")
    github: GitHubSettings | None = Field(None, description="the GitHub repository (needed by `invoke ci.github`)")
    tooling_account: AccountId | None = Field(
        None, description="account whose principals may assume every environment's deploy role (bootstrap)")
    ci_role_arns: tuple[str, ...] = Field(
        (), description="other CI roles (ARNs) trusted by every environment's deploy role (bootstrap)")
    bootstrap_check_on_localstack: bool = Field(
        False, description="make `invoke deploy` check the bootstrap stack on LocalStack too (always on AWS)")
    cost: CostAssumptions = Field(default_factory=CostAssumptions, description="assumptions of `invoke cost`")  # type: ignore[arg-type]
    pipeline: PipelineSettings | None = Field(
        None, description="the AWS CodePipeline of component `pipeline` (opt in: components.plugins: [pipeline])")

    @field_validator("branches")
    @classmethod
    def _branches(cls, branches: dict[str, str]) -> dict[str, str]:
        for branch in branches:
            if not GIT_BRANCH_RE.fullmatch(str(branch)):
                raise ValueError(f"{branch!r} is not a git branch name; use letters, digits and . _ / -")
        return branches

    @field_validator("ci_role_arns")
    @classmethod
    def _roles(cls, arns: tuple[str, ...]) -> tuple[str, ...]:
        for arn in arns:
            if not ROLE_ARN_RE.fullmatch(arn):
                raise ValueError(f"{arn!r} is not an IAM role ARN such as arn:aws:iam::123456789012:role/ci")
        return arns


class ProjectConfig(Strict):
    """The whole configuration file."""

    source: str = Field("<memory>", description="path of the file it was loaded from")
    project: ProjectSettings = Field(default_factory=ProjectSettings)  # type: ignore[arg-type]
    components: ComponentsConfig = Field(default_factory=ComponentsConfig)  # type: ignore[arg-type]
    localstack: LocalStackConfig = Field(default_factory=LocalStackConfig)  # type: ignore[arg-type]
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)  # type: ignore[arg-type]
    environments: dict[str, EnvironmentConfig]

    def environment(self, name: str, target: str | None = None) -> EnvironmentConfig:
        """Return environment ``name``, optionally rehearsed on another target; ConfigError if unknown."""
        from dsplatform.errors import ConfigError

        if name not in self.environments:
            raise ConfigError([f"{self.source}: environments.{shown_text(name)}: no such environment; "
                               f"use one of {', '.join(sorted(self.environments))}"])
        env = self.environments[name]
        if target is None or target == env.target:
            return env
        if target not in ("localstack", "aws"):
            raise ConfigError([f"--target: {shown(target)} is not a target; use localstack or aws"])
        return env.model_copy(update={"target": target})
