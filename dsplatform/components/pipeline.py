"""Component ``pipeline``: AWS CodePipeline delivering the project (opt in: ``components.plugins: [pipeline]``).

Deployed only in the environment that hosts it (``delivery.pipeline.environment``; default ``tooling`` when the
project defines it, else the delivered environment). Its buildspecs are generated from the same delivery stages
as the GitHub workflows (``delivery_stages``); the target of their commands is the host's (``aws``, or
``localstack`` when the pipeline is rehearsed there).
"""

from __future__ import annotations

from blueprints import pipeline as bp
from dsplatform.components import delivery_stages as ds
from dsplatform.components.model import Component, Context
from dsplatform.config.models import ProjectConfig
from dsplatform.config.pipeline_settings import PipelineSettings
from dsplatform.errors import ConfigError

NAME = "pipeline"


def settings(ctx: Context) -> PipelineSettings:
    """``delivery.pipeline``; one line naming the key when the component is selected without it."""
    found = ctx.project.delivery.pipeline
    if found is None:
        raise ConfigError([f"{ctx.project.source}: delivery.pipeline: missing; component 'pipeline' needs it, "
                           f"e.g. delivery: {{pipeline: {{deliver: dev, promote_to: prod}}}}"])
    check_environments(ctx.project)
    return found


def check_environments(project: ProjectConfig) -> None:
    """The environments `delivery.pipeline` names exist and the promotion goes elsewhere; ConfigError, one line each.

    Checked where the pipeline is used (component, bootstrap, diagram), as `delivery.promote` is: a config whose
    environments are replaced (a rehearsal, a test's fresh account) stays loadable while it does not use them.
    """
    s = project.delivery.pipeline
    if s is None:
        return
    known, problems = ", ".join(sorted(project.environments)), []
    for key in ("environment", "deliver", "promote_to"):
        value = getattr(s, key)
        if value is not None and value not in project.environments:
            problems.append(f"{project.source}: delivery.pipeline.{key}: no environment {value!r}; use one of {known}")
    if s.promote_to is not None and s.promote_to == s.deliver:
        problems.append(f"{project.source}: delivery.pipeline.promote_to: {s.promote_to!r} is the delivered "
                        f"environment; promote to another one (e.g. prod) or remove the key")
    if problems:
        raise ConfigError(problems)


def host_environment(project: ProjectConfig) -> str | None:
    """The environment whose account hosts the pipeline: ``environment``, else ``tooling``, else the delivered one."""
    s = project.delivery.pipeline
    if s is None:
        return None
    check_environments(project)
    return s.environment or ("tooling" if "tooling" in project.environments else s.deliver)


def host(ctx: Context) -> str:
    """The environment whose account hosts the pipeline (``delivery.pipeline`` must be set)."""
    settings(ctx)
    return str(host_environment(ctx.project))


def hosted_here(ctx: Context) -> bool:
    """True in the hosting environment only: a project has one pipeline."""
    return ctx.env.name == host(ctx)


def tooling_here(ctx: Context) -> bool:
    """True in a hosting environment that nothing delivers to (a tooling account): it holds the pipeline only."""
    s = settings(ctx)
    delivered = {s.deliver, s.promote_to, *ctx.project.delivery.branches.values()}
    if ctx.project.delivery.promote:
        delivered |= {ctx.project.delivery.promote.from_env, ctx.project.delivery.promote.to}
    return hosted_here(ctx) and ctx.env.name not in delivered


def _deploy_role(ctx: Context, env_name: str) -> str:
    env = ctx.project.environments[env_name]
    names = ctx.names_of(env_name)
    return env.deploy_role_arn or names.role_arn(names.deploy_role)


def _stage(ctx: Context, stem: str, stages: tuple[ds.Stage, ...], env_name: str | None,
           reads: str | None = None) -> bp.BuildStage:
    """A build deploying ``env_name`` (and reading evidence in ``reads``, the promotion's source)."""
    target = ctx.env.target
    role = _deploy_role(ctx, env_name) if env_name else None
    # The promotion reads the source's evidence through the source's deploy role (its deploy_role_arn).
    roles = tuple(dict.fromkeys(r for r in (role, _deploy_role(ctx, reads) if reads else None) if r))
    # On AWS the build chains to the deploy role (unless the deployer assumes deploy_role_arn itself); on LocalStack
    # each simulated account is chosen by the deployer from the environment's account id.
    chained = role if target == "aws" and env_name and not ctx.project.environments[env_name].deploy_role_arn \
        else None
    spec = ds.buildspec(ds.install_command(ctx.project), stages, assume_role_arn=chained,
                        session=f"{ctx.names.project}-pipeline-{stem.lower()}")
    return bp.BuildStage(stem=stem, project_name=ctx.names.build_project(stem.lower()),
                         role_name=ctx.names.pipeline_role(stem.lower()), buildspec=spec, assume_roles=roles)


def props(ctx: Context) -> bp.PipelineProps:
    """Pipeline props from ``delivery.pipeline`` (and ``delivery.github`` for a CodeStar source)."""
    s = settings(ctx)
    target, github = ctx.env.target, ctx.project.delivery.github
    if s.source.kind == "codestar" and github is None:
        raise ConfigError([f"{ctx.project.source}: delivery.pipeline.source.kind: 'codestar' needs "
                           f"delivery.github.repository (owner/name); set it or use kind: s3"])
    test = _stage(ctx, "Test", (ds.test_stage(ctx.project, for_pipeline=True),), None)
    deliver = _stage(ctx, "Deliver", ds.deliver_stages(s.deliver, target, ds.CODEBUILD_TAG), s.deliver)
    promote = (_stage(ctx, "Promote", (ds.promote_stage(s.deliver, s.promote_to, target),), s.promote_to, s.deliver)
               if s.promote_to else None)
    return bp.PipelineProps(
        name=ctx.names.pipeline, role_name=ctx.names.pipeline_role("service"),
        artifact_bucket=ctx.names.pipeline_bucket, approval_topic=ctx.names.pipeline_topic("approvals"),
        failure_topic=ctx.names.pipeline_topic("failures"), failure_rule=ctx.names.rule("delivery-failures"),
        source_rule=ctx.names.rule("delivery-source"), trigger_role_name=ctx.names.pipeline_role("trigger"),
        test=test, deliver=deliver, promote=promote, deliver_env=s.deliver, promote_env=s.promote_to,
        dev_approval=s.dev_approval, source_kind=s.source.kind, source_key=s.source.key,
        connection_arn=s.source.connection_arn, repository=github.repository if github else None,
        branch=s.source.branch, approval_emails=s.approval_emails, failure_emails=s.failure_emails,
        compute_type=s.compute_type, image=s.image, timeout_minutes=s.timeout_minutes,
        log_retention_days=s.log_retention_days, environment_variables=tuple(sorted(s.variables.items())))


COMPONENT = Component(NAME, bp.build, props, bp.PipelineOutputs, hosted_in=hosted_here, owns_environment=tooling_here,
                      source="dsplatform.components.pipeline:COMPONENT")
