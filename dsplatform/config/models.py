"""Typed, frozen configuration models: the whole file, its environments and each environment's settings.

Every model rejects unknown keys (``extra="forbid"``); every field has a description, which is also the
configuration reference rendered in ``docs/configuration.md``. The sections live in modules by concern
(``fields``: the strict base and shared field types; ``stock_settings``, ``service_settings``,
``delivery_settings``, ``pipeline_settings``); they are re-exported here, where code and consumers import them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from dsplatform.config.awsrules import check_tags
from dsplatform.config.delivery_settings import CostAssumptions, DeliveryConfig, GitHubSettings, PromotionRoute
from dsplatform.config.fields import (
    ACCOUNT_ID_RE,
    EMAIL_RE,
    FARGATE_MEMORY,
    GIT_BRANCH_RE,
    GITHUB_REPO_RE,
    IMAGE_TAG_RE,
    LOG_RETENTION_DAYS,
    MAX_LIFECYCLE_DAYS,
    ROLE_ARN_RE,
    S3_KEY_RE,
    AccountId,
    Email,
    Region,
    S3Key,
    Strict,
    matches,
)
from dsplatform.config.pipeline_settings import PipelineSettings, PipelineSource
from dsplatform.config.service_settings import ApiSettings, ModelRegistrySettings, ServingSettings
from dsplatform.config.stock_settings import (
    AlarmSettings,
    AlertSettings,
    ComputeSettings,
    IngestSettings,
    LifecycleSettings,
    LogSettings,
    NetworkSettings,
    OrchestrationSettings,
    ParameterSettings,
    RegistrySettings,
    RollbackSettings,
    ScheduleSettings,
    StorageSettings,
)
from dsplatform.display import shown, shown_text

__all__ = [
    "ACCOUNT_ID_RE",
    "EMAIL_RE",
    "FARGATE_MEMORY",
    "GITHUB_REPO_RE",
    "GIT_BRANCH_RE",
    "IMAGE_TAG_RE",
    "LOG_RETENTION_DAYS",
    "MAX_LIFECYCLE_DAYS",
    "ROLE_ARN_RE",
    "S3_KEY_RE",
    "AccountId",
    "AlarmSettings",
    "AlertSettings",
    "ApiSettings",
    "ComponentSettings",
    "ComponentsConfig",
    "ComputeSettings",
    "CostAssumptions",
    "DeliveryConfig",
    "Email",
    "EnvironmentConfig",
    "GitHubSettings",
    "IngestSettings",
    "LifecycleSettings",
    "LocalStackConfig",
    "LogSettings",
    "ModelRegistrySettings",
    "NetworkSettings",
    "OrchestrationSettings",
    "ParameterSettings",
    "PipelineSettings",
    "PipelineSource",
    "ProjectConfig",
    "ProjectSettings",
    "PromotionRoute",
    "Region",
    "RegistrySettings",
    "RollbackSettings",
    "S3Key",
    "ScheduleSettings",
    "ServingSettings",
    "StorageSettings",
    "Strict",
    "matches",
]


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
