"""Invoke tasks: e2e (deploy, run the scenarios, report) and promote (evidence-gated)."""

from __future__ import annotations

import invoke
from invoke import task

from dsplatform.tasks._cli import env_flag, user_errors


@task(
    help={
        "env": "environment to test (default dev)",
        "target": "localstack (default: started if needed) or aws",
        "keep": "keep the stacks this run deployed (needed before `invoke promote --from ENV`)",
        "reuse": "skip deploy and teardown: check the stacks already deployed",
        "config": "path of the config file (default dsplatform.yml)",
        "markers": "pytest -m expression to run a subset of the scenarios (e.g. smoke)",
        "stacks": "only these stacks or components (comma-separated), with their dependencies, and their scenarios",
    }
)
@user_errors
def e2e(c, env="dev", target="localstack", keep=False, reuse=False, config=None, markers=None,  # type: ignore[no-untyped-def]
        stacks=None):
    """Start LocalStack if needed, deploy, push the images, run the e2e scenarios, report, tear down."""
    from dsplatform.tasks._cli import stack_list
    from dsplatform.workflows.e2e import run_e2e

    result = run_e2e(env_flag(env), target, keep, config, reuse=reuse, markers=markers, stacks=stack_list(stacks))
    print(result.summary())
    if not result.ok:
        raise invoke.Exit(f"e2e {env} failed; see {result.html_path}", code=result.exit_code)


@task(
    name="promote",
    help={
        "from": "environment whose passing e2e record is the evidence (e.g. stg)",
        "to": "environment to deploy (e.g. prod)",
        "yes": "do not ask for confirmation (CI)",
        "target": "rehearse on another target (localstack); default: each environment's configured target",
        "config": "path of the config file (default dsplatform.yml)",
    },
)
@user_errors
def promote(c, from_="stg", to="prod", yes=False, target=None, config=None):  # type: ignore[no-untyped-def]
    """Promote what passed e2e in --from to --to: refuse without evidence, confirm, deploy, smoke, record."""
    from dsplatform.workflows.promotion.promote import promote as run_promote

    result = run_promote(env_flag(from_, "--from"), env_flag(to, "--to"), yes=yes, config_path=config, target=target)
    images = ", ".join(f"{job} {digest}" for job, digest in result.image_digests.items()) or "no images"
    print(f"promoted {result.from_env} -> {result.to_env}: {images}")
    print(f"evidence: {result.evidence}\nrecord: {result.record_key}\nsmoke: {', '.join(result.smoke_passed)}")
    for note in result.notes:
        print(f"note: {note}")
