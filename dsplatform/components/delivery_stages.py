"""The delivery stages as commands, in one place: the GitHub workflows (`invoke ci.github`), the CodeBuild
buildspecs of component `pipeline` and `invoke pipeline` all run these, so the three cannot drift.

Each stage is an `invoke` task run in the project's checkout; what differs between the runners is only how the
commit is named (``$GITHUB_SHA``, ``$CODEBUILD_RESOLVED_SOURCE_VERSION``) and which target the commands address.
"""

from __future__ import annotations

from dataclasses import dataclass

from dsplatform.config import ProjectConfig

DEFAULT_INSTALL = 'pip install -e ".[dev]"'
DEFAULT_TEST = "python -m pytest"
# The deliver stages in order; `invoke pipeline` runs them between its tests and evidence stages.
DELIVER_STAGES = ("images", "deploy", "e2e")


@dataclass(frozen=True)
class Stage:
    """One step of delivery: its name (the `invoke pipeline` stage it matches), a title and its shell command."""

    name: str
    title: str
    command: str


def install_command(project: ProjectConfig) -> str:
    """How a runner installs the project: `delivery.pipeline.install`, else `delivery.github.install`."""
    pipeline, github = project.delivery.pipeline, project.delivery.github
    if pipeline is not None and pipeline.install:
        return pipeline.install
    return github.install if github else DEFAULT_INSTALL


def test_stage(project: ProjectConfig, *, for_pipeline: bool = False) -> Stage:
    """The project's tests (`delivery.github.test`; in CodeBuild `delivery.pipeline.test` first)."""
    pipeline, github = project.delivery.pipeline, project.delivery.github
    command = (pipeline.test if for_pipeline and pipeline is not None and pipeline.test else None) \
        or (github.test if github else DEFAULT_TEST)
    return Stage("tests", "tests", command)


def deliver_stages(env: str, target: str, tag: str, jobs_text: str = "the job images") -> tuple[Stage, ...]:
    """Images tagged with ``tag`` (a shell expression naming the commit), deploy, and e2e recorded as evidence."""
    return (
        Stage("images", f"build and push {jobs_text}, tagged with the commit, recorded by digest",
              f'invoke image.push --env {env} --target {target} --tag "{tag}" --record build/images/{env}.json'),
        Stage("deploy", "deploy", f"invoke deploy --env {env} --target {target} --json"),
        Stage("e2e", "end-to-end tests against the deployed environment; a pass is recorded as promotion evidence",
              f"invoke e2e --env {env} --target {target} --keep"),
    )


def promote_stage(frm: str, to: str, target: str) -> Stage:
    """What passed e2e in ``frm`` deployed to ``to`` through the promotion gate."""
    return Stage("promote", f"promote what passed e2e in {frm} to {to}",
                 f"invoke promote --from {frm} --to {to} --yes --target {target}")


def _assume(role_arn: str, session: str) -> str:
    # Buildspec 0.2 runs every command of a build in one shell, so the exported credentials reach later commands.
    return (f"creds=$(aws sts assume-role --role-arn {role_arn} "
            f'--role-session-name "{session}-$CODEBUILD_BUILD_NUMBER" '
            "--query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text) && "
            'read -r AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN <<< "$creds" && '
            "export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN")


def buildspec(install: str, stages: tuple[Stage, ...], *, assume_role_arn: str | None = None,
              session: str = "dsplatform") -> str:
    """A CodeBuild buildspec (YAML text) running ``install``, then each stage's command, failing on the first."""
    import yaml

    commands = ([_assume(assume_role_arn, session)] if assume_role_arn else []) + [s.command for s in stages]
    body = {"version": 0.2, "env": {"shell": "bash"},
            "phases": {"install": {"commands": [install]}, "build": {"commands": commands}}}
    return yaml.safe_dump(body, sort_keys=False, width=1000)


# CodeBuild names the source it built in this variable: the commit for a CodeStar source, the object version for S3.
CODEBUILD_TAG = "${CODEBUILD_RESOLVED_SOURCE_VERSION:-build-$CODEBUILD_BUILD_NUMBER}"
