"""`invoke bootstrap`: one stack per account and region, before any environment stack; `invoke deploy`'s check.

The bootstrap is its own plan, not a stock component: it is deployed once per account and region (environments
sharing an account share it) by an administrator, before the roles that deploy the components exist; it must
survive `invoke destroy` and e2e teardowns of the environments, and its scope is the union of the environments
in its account. A component would be rendered, deployed and torn down per environment, with the deploy role.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from blueprints.bootstrap import BootstrapOutputs, BootstrapProps, build
from dsplatform.config import ProjectConfig
from dsplatform.delivery.routes import names_of, routes
from dsplatform.errors import DsPlatformError
from dsplatform.stackspec import Plan, StackSpec
from dsplatform.synth import make_target, plan_from_config

# Bump when the bootstrap template changes in a way `invoke deploy` relies on. 2: the deploy role allows what the
# workflows call directly (DescribeStacks listing, native rollback, kept SageMaker versions, the scenarios).
BOOTSTRAP_VERSION = 2


class NotBootstrappedError(DsPlatformError):
    """The target account and region have no bootstrap, or an older one than this dsplatform needs."""

    exit_code = 2

    def __init__(self, env: str, account: str, region: str, found: int | None) -> None:
        self.env, self.account, self.region, self.found = env, account, region, found
        state = "is not bootstrapped" if found is None else f"is bootstrapped at version {found}, older than " \
                                                             f"{BOOTSTRAP_VERSION}"
        super().__init__(f"account {account} in {region} (environment {env}) {state}; run `invoke bootstrap "
                         f"--env {env}` with the account's administrator credentials, then deploy again")


def _same_place(project: ProjectConfig, env_name: str) -> list[str]:
    env = project.environments[env_name]
    return sorted(n for n, e in project.environments.items()
                  if (e.account_id, e.region) == (env.account_id, env.region))


def _pipeline_account(project: ProjectConfig) -> str | None:
    """The account hosting the project's CodePipeline (component `pipeline`), when the project has one."""
    from dsplatform.components.pipeline import host_environment

    host = host_environment(project)
    if host is None or "pipeline" not in project.components.plugins:
        return None
    return project.environments[host].account_id


def bootstrap_props(project: ProjectConfig, env_name: str) -> BootstrapProps:
    """The bootstrap of ``env_name``'s account and region, from config (every environment in that account)."""
    found = routes(project)
    env = project.environments[env_name]
    names = names_of(project, env)
    here = _same_place(project, env_name)
    types = sorted({r["Type"] for n in here for s in plan_from_config(project, n, "aws").stacks
                    for r in s.template.get("Resources", {}).values()})
    trusted = [f"arn:aws:iam::{project.delivery.tooling_account}:root"] if project.delivery.tooling_account else []
    trusted += list(project.delivery.ci_role_arns)
    pipeline_account = _pipeline_account(project)
    if pipeline_account and pipeline_account != env.account_id:
        # The pipeline's build roles (component `pipeline`) assume this deploy role from the hosting account; that
        # account's own IAM lets only them (sts:AssumeRole on this role's ARN), as for tooling_account.
        trusted.append(f"arn:aws:iam::{pipeline_account}:root")
    if found.promote and found.promote[0] in here:
        # The promotion runs in the target's account and reads the evidence here with this account's deploy role.
        target_names = names_of(project, project.environments[found.promote[1]])
        trusted.append(target_names.role_arn(target_names.github_role))
    subjects: list[str] = []
    if found.github:
        repo = found.github.repository
        for n in here:
            branches = found.branches_of(n)
            subjects += [f"repo:{repo}:ref:refs/heads/{b}" for b in branches]
            if branches or found.promoted_into(n):
                subjects.append(f"repo:{repo}:environment:{n}")
    readers = sorted({e.account_id for e in project.environments.values()
                      if e.settings.parameters.artifacts_from in here and e.account_id != env.account_id})
    return BootstrapProps(
        project=project.project.name, version=BOOTSTRAP_VERSION, deploy_role=names.deploy_role,
        execution_role=names.execution_role, assets_bucket=names.assets_bucket,
        version_parameter=names.bootstrap_version_parameter, resource_types=tuple(types),
        trusted_principals=tuple(sorted(set(trusted))), github_role=names.github_role if subjects else None,
        github_subjects=tuple(sorted(set(subjects))),
        create_oidc_provider=found.github is None or found.github.oidc_provider == "create",
        artifact_read_role=names.artifact_read_role,
        artifact_buckets=tuple(names_of(project, project.environments[n]).artifact_bucket for n in here),
        artifact_readers=tuple(readers))


def bootstrap_plan(project: ProjectConfig, env_name: str, target: str | None = None) -> Plan:
    """A one-stack plan deploying the bootstrap with the caller's own (administrator) credentials."""
    env = project.environment(env_name, target)
    names = names_of(project, env)
    base = make_target(project, env_name, target)
    # No deploy role: the bootstrap creates it. A lock of its own: environments in the account share the stack.
    tgt = dataclasses.replace(base, deploy_role_arn=None, protected=False, lock_name=names.bootstrap_lock_parameter,
                              execution_role_arn=None)
    spec = StackSpec(name=names.bootstrap_stack, component="bootstrap",
                     template=build(bootstrap_props(project, env_name)).to_dict(),
                     tags={**project.project.tags, "dsplatform:project": project.project.name,
                           "dsplatform:component": "bootstrap"},
                     outputs=BootstrapOutputs)
    return Plan(target=tgt, stacks=(spec,), all_stacks=frozenset({spec.name}))


def bootstrap_templates(project: ProjectConfig, env_name: str, target: str | None = None) -> dict[str, Any]:
    """Stack name -> template of the bootstrap `invoke bootstrap --env` deploys (for the fidelity report)."""
    return {spec.name: spec.template for spec in bootstrap_plan(project, env_name, target).stacks}


def bootstrap_version(clients: Any, parameter: str) -> int | None:
    """The version recorded in the account's SSM parameter, or None when it is not bootstrapped."""
    ssm = clients.client("ssm")
    try:
        value = ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return None
    return int(value) if str(value).isdigit() else 0


def check_bootstrapped(project: ProjectConfig, plan: Plan, clients: Any) -> int | None:
    """Before a deploy: the bootstrap's version, or NotBootstrappedError saying what to run.

    Skipped (None) on LocalStack unless ``delivery.bootstrap_check_on_localstack``: rehearsals and e2e deploy
    to fresh simulated accounts nobody bootstrapped.
    """
    if plan.target.kind == "localstack" and not project.delivery.bootstrap_check_on_localstack:
        return None
    env = project.environments[plan.target.env]
    found = bootstrap_version(clients, names_of(project, env).bootstrap_version_parameter)
    if found is None or found < BOOTSTRAP_VERSION:
        raise NotBootstrappedError(plan.target.env, plan.target.account_id, plan.target.region, found)
    return found
