"""Every physical name of the platform, made in one place and checked against AWS's naming rules.

Account-scoped names (ECR repository, cluster, state machine, log group, SSM prefix, topic, rule, alarms)
get an environment suffix when two environments share an account (``EnvironmentConfig.qualify_names``);
bucket names are global, so they always carry environment, account and region.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from dsplatform.errors import NamingError

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_ECR_RE = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")
_STACK_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
_SIMPLE_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_RULE_RE = re.compile(r"^[.\-_A-Za-z0-9]{1,64}$")
_LOG_GROUP_RE = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")
_SSM_RE = re.compile(r"^/[A-Za-z0-9_.\-/]+/$")
_ENDPOINT_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")  # SageMaker endpoint, model and config names
_ROLE_RE = re.compile(r"^[\w+=,.@-]{1,64}$")


def check_bucket_name(name: str) -> str:
    """Return ``name`` if it is a valid S3 bucket name; raise NamingError saying which rule it breaks."""
    if not 3 <= len(name) <= 63:
        raise NamingError("S3 bucket", name, f"must be 3-63 characters long, is {len(name)}")
    if not _BUCKET_RE.fullmatch(name):
        raise NamingError("S3 bucket", name, "use lowercase letters, digits, '.' and '-', starting and ending "
                          "with a letter or digit")
    if ".." in name or ".-" in name or "-." in name:
        raise NamingError("S3 bucket", name, "must not contain '..', '.-' or '-.'")
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        pass
    else:
        raise NamingError("S3 bucket", name, "must not look like an IP address")
    for prefix in ("xn--", "sthree-", "amzn-s3-demo-"):
        if name.startswith(prefix):
            raise NamingError("S3 bucket", name, f"must not start with {prefix!r}")
    for suffix in ("-s3alias", "--ol-s3", "--x-s3", ".mrap"):
        if name.endswith(suffix):
            raise NamingError("S3 bucket", name, f"must not end with {suffix!r}")
    return name


def _check(kind: str, name: str, pattern: re.Pattern[str], max_len: int, rule: str) -> str:
    if not name or len(name) > max_len:
        raise NamingError(kind, name, f"must be 1-{max_len} characters long, is {len(name)}")
    if not pattern.fullmatch(name):
        raise NamingError(kind, name, rule)
    return name


@dataclass(frozen=True)
class Names:
    """The physical names of one environment; build with ``Names.for_environment(env, project)``."""

    project: str
    env: str
    account_id: str
    region: str
    qualify: bool

    @classmethod
    def for_environment(cls, env: object, project: str = "ds") -> Names:
        """Names for an ``EnvironmentConfig`` (duck-typed: name, account_id, region, qualify_names)."""
        return cls(project=project, env=env.name, account_id=env.account_id,  # type: ignore[attr-defined]
                   region=env.region, qualify=bool(env.qualify_names))  # type: ignore[attr-defined]

    def _scoped(self, base: str, sep: str = "-") -> str:
        return f"{base}{sep}{self.env}" if self.qualify else base

    # Global names: always fully qualified.
    def bucket(self, kind: str) -> str:
        """S3 bucket ``{project}-{kind}-{env}-{account}-{region}``, e.g. ds-input-dev-111111111111-us-east-1."""
        name = f"{self.project}-{kind}-{self.env}-{self.account_id}-{self.region}"
        if len(name) > 63:
            # Name the config fields the bucket name is made of, so the user knows what to shorten.
            raise NamingError("S3 bucket", name, f"is {len(name)} characters, over AWS's 63; it is made of "
                              f"project.name {self.project!r} ({len(self.project)}), environment name {self.env!r} "
                              f"({len(self.env)}), account_id and region {self.region!r}; shorten project.name or "
                              f"the environment name by {len(name) - 63}")
        return check_bucket_name(name)

    @property
    def input_bucket(self) -> str:
        """Bucket holding the job's input data."""
        return self.bucket("input")

    @property
    def output_bucket(self) -> str:
        """Bucket receiving processed results."""
        return self.bucket("output")

    @property
    def artifact_bucket(self) -> str:
        """Bucket holding models, scripts and packages."""
        return self.bucket("artifacts")

    @property
    def api_log_bucket(self) -> str:
        """Bucket receiving the api load balancer's access logs."""
        return self.bucket("api-logs")

    # Account-scoped names.
    def stack(self, component: str) -> str:
        """CloudFormation stack of a component: ``{project}-{env}-{component}``."""
        return _check("stack", f"{self.project}-{self.env}-{component}", _STACK_RE, 128,
                      "use letters, digits and '-', starting with a letter")

    # Job-scoped names: every batch job (stock or a consumer's) gets its own, from its job name.
    def repository(self, job: str) -> str:
        """ECR repository of a job's image: ``{project}-{job}``, e.g. ds-preprocessing."""
        return _check("ECR repository", self._scoped(f"{self.project}-{job}"), _ECR_RE, 256,
                      "use lowercase letters, digits and . _ - / separators")

    @property
    def cluster(self) -> str:
        """ECS cluster that runs the jobs."""
        return _check("ECS cluster", self._scoped(f"{self.project}-processing-cluster"), _SIMPLE_RE, 255,
                      "use letters, digits, '-' and '_'")

    def task_family(self, job: str) -> str:
        """Task definition family of a job."""
        return _check("task family", self._scoped(f"{self.project}-{job}"), _SIMPLE_RE, 255,
                      "use letters, digits, '-' and '_'")

    def container(self, job: str) -> str:
        """Container name inside a job's task definition (also the awslogs stream prefix)."""
        return _check("container", job, _SIMPLE_RE, 255, "use letters, digits, '-' and '_'")

    def state_machine(self, job: str) -> str:
        """Step Functions state machine running a job."""
        return _check("state machine", self._scoped(f"{self.project}-{job}-pipeline"), _SIMPLE_RE, 80,
                      "use letters, digits, '-' and '_'")

    def log_group(self, job: str) -> str:
        """CloudWatch log group of a job."""
        return _check("log group", self._scoped(f"/ecs/{self.project}-{job}"), _LOG_GROUP_RE, 512,
                      "use letters, digits and . - _ / #")

    def task_role(self, job: str) -> str:
        """IAM role a job's tasks run as; named, so another account's bucket policy can name it before it exists."""
        return _check("IAM role", self._scoped(f"{self.project}-{job}-task"), _SIMPLE_RE, 64,
                      "use letters, digits, '-' and '_' (up to 64)")

    def state_machine_log_group(self, job: str) -> str:
        """CloudWatch log group of a job's state machine executions (the /aws/vendedlogs/ prefix AWS advises)."""
        return _check("log group", f"/aws/vendedlogs/states/{self.state_machine(job)}", _LOG_GROUP_RE, 512,
                      "use letters, digits and . - _ / #")

    def ssm_prefix(self, job: str) -> str:
        """SSM Parameter Store prefix of a job's configuration, with leading and trailing '/'."""
        prefix = f"/{self.project}/{self.env}/{job}/" if self.qualify else f"/{self.project}/{job}/"
        return _check("SSM prefix", prefix, _SSM_RE, 900, "use letters, digits and _ . - between slashes")

    def ssm_parameter(self, job: str, key: str) -> str:
        """Full name of one SSM parameter under a job's prefix, e.g. /ds/preprocessing/input-bucket."""
        return self.ssm_prefix(job) + key

    def alert_topic(self, job: str) -> str:
        """SNS topic for a job's failures and alarms."""
        return _check("SNS topic", self._scoped(f"{self.project}-{job}-alerts"), _SIMPLE_RE, 256,
                      "use letters, digits, '-' and '_'")

    def schedule_rule(self, job: str) -> str:
        """EventBridge rule that starts a job's pipeline."""
        return _check("EventBridge rule", self._scoped(f"{self.project}-{job}-schedule"), _RULE_RE, 64,
                      "use letters, digits and . - _ (up to 64)")

    def alarm(self, job: str, metric: str) -> str:
        """CloudWatch alarm on one state-machine metric, e.g. ds-preprocessing-ExecutionsFailed."""
        return _check("alarm", self._scoped(f"{self.project}-{job}-{metric}"), _SIMPLE_RE, 255,
                      "use letters, digits, '-' and '_'")

    def dashboard(self, job: str) -> str:
        """CloudWatch dashboard of a job."""
        return _check("dashboard", self._scoped(f"{self.project}-{job}"), _SIMPLE_RE, 255,
                      "use letters, digits, '-' and '_'")

    # Function-scoped names: each Lambda function of a component, from its function name.
    def function(self, name: str) -> str:
        """Lambda function: ``{project}-{name}``, e.g. ds-ingest (its log group is /aws/lambda/<this>)."""
        return _check("Lambda function", self._scoped(f"{self.project}-{name}"), _SIMPLE_RE, 64,
                      "use letters, digits, '-' and '_' (up to 64)")

    def queue(self, name: str) -> str:
        """SQS queue: ``{project}-{name}``, e.g. ds-ingest-failures."""
        return _check("SQS queue", self._scoped(f"{self.project}-{name}"), _SIMPLE_RE, 80,
                      "use letters, digits, '-' and '_' (up to 80)")

    def rule(self, name: str) -> str:
        """EventBridge rule: ``{project}-{name}``."""
        return _check("EventBridge rule", self._scoped(f"{self.project}-{name}"), _RULE_RE, 64,
                      "use letters, digits and . - _ (up to 64)")

    @property
    def endpoint(self) -> str:
        """SageMaker endpoint: ``{project}-staging`` in stg, ``{project}-prod`` in prod, ``{project}-{env}`` else."""
        stage = {"stg": "staging", "prod": "prod"}.get(self.env, self.env)
        return _check("SageMaker endpoint", f"{self.project}-{stage}", _ENDPOINT_RE, 63,
                      "use letters, digits and '-' (up to 63)")

    def endpoint_version(self, kind: str, version: str) -> str:
        """Versioned model or endpoint-config name, e.g. ds-staging-model-3 (a new version replaces it)."""
        return _check("SageMaker model", endpoint_version_prefix(self.endpoint, kind) + version, _ENDPOINT_RE, 63,
                      "use letters, digits and '-' (up to 63)")

    @property
    def lock_parameter(self) -> str:
        """SSM parameter that holds the deploy lock of this project's environment (two projects never share one)."""
        return f"/dsplatform/locks/{self.project}-{self.env}"

    # Bootstrap (one stack per account and region, shared by the environments in it): `invoke bootstrap`.
    @property
    def bootstrap_stack(self) -> str:
        """CloudFormation stack of the account's bootstrap: ``{project}-bootstrap`` (per account and region)."""
        return _check("stack", f"{self.project}-bootstrap", _STACK_RE, 128,
                      "use letters, digits and '-', starting with a letter")

    def _role(self, purpose: str) -> str:
        # IAM role names are account-global, so the region keeps two regions' bootstraps apart.
        return _check("IAM role", f"{self.project}-{purpose}-{self.region}", _ROLE_RE, 64,
                      "use letters, digits and + = , . @ _ - (up to 64)")

    @property
    def deploy_role(self) -> str:
        """Role CI and the tooling account assume to deploy: ``{project}-deploy-{region}``."""
        return self._role("deploy")

    @property
    def execution_role(self) -> str:
        """Role CloudFormation uses to create the stacks' resources: ``{project}-cfn-exec-{region}``."""
        return self._role("cfn-exec")

    @property
    def github_role(self) -> str:
        """Role the GitHub OIDC provider's tokens assume: ``{project}-github-{region}``."""
        return self._role("github")

    @property
    def artifact_read_role(self) -> str:
        """Role other accounts assume to read this account's artifacts: ``{project}-artifact-read-{region}``."""
        return self._role("artifact-read")

    @property
    def bootstrap_lock_parameter(self) -> str:
        """SSM parameter of the bootstrap stack's deploy lock (one per project, account and region)."""
        return f"/dsplatform/locks/{self.project}-bootstrap"

    # Delivery pipeline (component `pipeline`, in the account that hosts it).
    @property
    def pipeline(self) -> str:
        """CodePipeline pipeline: ``{project}-delivery``."""
        return _check("CodePipeline pipeline", f"{self.project}-delivery", _SIMPLE_RE, 100,
                      "use letters, digits, '-' and '_' (up to 100)")

    def build_project(self, stage: str) -> str:
        """CodeBuild project of a pipeline stage: ``{project}-delivery-{stage}`` (its logs: /aws/codebuild/<this>)."""
        return _check("CodeBuild project", f"{self.project}-delivery-{stage}", _SIMPLE_RE, 150,
                      "use letters, digits, '-' and '_' (up to 150)")

    def pipeline_topic(self, kind: str) -> str:
        """SNS topic of the pipeline: ``{project}-delivery-{kind}`` (approvals, failures)."""
        return _check("SNS topic", f"{self.project}-delivery-{kind}", _SIMPLE_RE, 256,
                      "use letters, digits, '-' and '_'")

    @property
    def pipeline_bucket(self) -> str:
        """The pipeline's artifact (and S3 source) bucket: ``{project}-pipeline-{env}-{account}-{region}``."""
        return self.bucket("pipeline")

    def pipeline_role(self, purpose: str) -> str:
        """Role of the pipeline or of one of its build stages: ``{project}-pipeline-{purpose}-{region}``."""
        return self._role(f"pipeline-{purpose}")

    def role_arn(self, role: str) -> str:
        """ARN of a role of this account."""
        return f"arn:aws:iam::{self.account_id}:role/{role}"

    @property
    def assets_bucket(self) -> str:
        """Bucket of deploy assets (Lambda code, templates): ``{project}-assets-{account}-{region}``."""
        return check_bucket_name(f"{self.project}-assets-{self.account_id}-{self.region}")

    @property
    def bootstrap_version_parameter(self) -> str:
        """SSM parameter holding the account's bootstrap version, read by `invoke deploy`."""
        return f"/dsplatform/bootstrap/{self.project}/version"


ENDPOINT_VERSION_KINDS = ("config", "model")  # what Names.endpoint_version names, configs first (they use models)


def endpoint_version_prefix(endpoint: str, kind: str) -> str:
    """What every versioned ``kind`` (model, config) name of ``endpoint`` starts with: ``{endpoint}-{kind}-``."""
    return f"{endpoint}-{kind}-"


def endpoint_standby(endpoint: str, kind: str, token: str) -> str:
    """A standby copy's name, ``{endpoint}-{kind}-sb{token}``: the versioned prefix, so destroy sweeps it too.

    ValueError when it would pass SageMaker's 63 characters (an endpoint name near that length).
    """
    name = f"{endpoint_version_prefix(endpoint, kind)}sb{token}"
    if len(name) > 63:
        raise ValueError(f"standby {kind} name {name!r} is longer than SageMaker's 63 characters")
    return name
