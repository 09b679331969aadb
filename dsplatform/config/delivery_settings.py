"""Settings of delivery: branch mapping, promotion route, the GitHub repository, cost assumptions, the pipeline."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, field_validator

from dsplatform.config.fields import ROLE_ARN_RE, AccountId, GitBranch, GitHubRepository, Strict
from dsplatform.config.pipeline_settings import PipelineSettings


class GitHubSettings(Strict):
    """The GitHub repository whose workflows deliver the project (OIDC trust is scoped to it)."""

    repository: GitHubRepository = Field(description="owner/name of the GitHub repository, e.g. acme/ds-platform")
    runner: str = Field("ubuntu-latest", description="runs-on label of the workflows' jobs")
    python_version: str = Field("3.12", pattern=r"^3\.\d{1,2}$", description="Python version the workflows set up")
    install: str = Field('pip install -e ".[dev]"',
                         description="shell command installing the project and its tasks in a workflow")
    test: str = Field("python -m pytest", description="shell command running the project's tests in a workflow")
    oidc_provider: Literal["create", "existing"] = Field(
        "create", description="bootstrap creates GitHub's OIDC provider, or uses the one the account already has "
                              "(an account holds one per issuer; the second region's bootstrap says existing)")


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


class DeliveryConfig(Strict):
    """How changes reach the environments: branch mapping, promotion, GitHub and the trusted CI principals."""

    branches: dict[GitBranch, str] = Field(
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

    @field_validator("ci_role_arns")
    @classmethod
    def _roles(cls, arns: tuple[str, ...]) -> tuple[str, ...]:
        for arn in arns:
            if not ROLE_ARN_RE.fullmatch(arn):
                raise ValueError(f"{arn!r} is not an IAM role ARN such as arn:aws:iam::123456789012:role/ci")
        return arns

