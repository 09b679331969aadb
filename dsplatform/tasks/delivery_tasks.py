"""Tasks of delivery: ``ci.github``, ``ci.diagram``, ``image.push``, ``bootstrap``, ``pipeline``, ``cost`` (thin)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from invoke import Collection, task

from dsplatform.tasks._cli import plan_and_clients, user_errors


@task(name="github", help={"out": "folder to write the workflows to (default .github/workflows under the project "
                                  "root)", "config": "path of the config file (default dsplatform.yml)"})
@user_errors
def github(c: Any, out: str | None = None, config: str | None = None) -> None:
    """Write the GitHub Actions workflows (tests, delivery per mapped branch, promotion) generated from config."""
    from dsplatform.config import load_config
    from dsplatform.delivery.github import write_workflows

    project = load_config(config)
    folder = Path(out) if out else Path(project.source).resolve().parent / ".github" / "workflows"
    for path in write_workflows(project, folder):
        print(f"wrote {path}")


@task(name="push", help={"env": "environment whose repositories receive the images", "tag": "extra tag (e.g. the "
                         "commit SHA) beside the configured one", "record": "write the pushed digests to this JSON "
                         "file", "config": "path of the config file (default dsplatform.yml)",
                         "target": "override the environment's target: localstack or aws"})
@user_errors
def push(c: Any, env: str, tag: str | None = None, record: str | None = None, config: str | None = None,
         target: str | None = None) -> None:
    """"Build" and push every job image (deploying its repository's stack first), tagged with --tag too; record."""
    from dsplatform.delivery.publish import ensure_repositories, push_tagged
    from dsplatform.delivery.publish import record as write_record

    plan, clients = plan_and_clients(env, config, target)
    ensure_repositories(plan, clients)
    pushed = push_tagged(plan, clients, tag)
    for image in pushed.values():
        print(f"{image.job}: {image.repository}:{image.tag} {image.digest}")
    if record:
        print(f"recorded {write_record(pushed, Path(record), env)}")


@task(help={"env": "environment whose account and region to bootstrap (once per account and region)",
            "config": "path of the config file (default dsplatform.yml)",
            "target": "override the environment's target: localstack or aws", "json": "JSON lines progress"})
@user_errors
def bootstrap(c: Any, env: str, config: str | None = None, target: str | None = None, json: bool = False) -> None:
    """Deploy the account's bootstrap stack (deploy, execution and GitHub roles, assets bucket, version)."""
    from dsplatform.config import load_config
    from dsplatform.delivery.bootstrap import bootstrap_plan
    from dsplatform.deployer import ClientFactory, DeployOptions, make_reporter, read_outputs
    from dsplatform.deployer import deploy as run_deploy

    plan = bootstrap_plan(load_config(config), env, target)
    clients = ClientFactory(plan.target)
    run_deploy(plan, clients, DeployOptions(json=json), make_reporter(json)).raise_for_failure()
    for stack, values in read_outputs(plan, clients).items():
        print(f"{stack}: " + ", ".join(f"{k}={v}" for k, v in sorted(values.items())))


@task(help={"env": "environment to deliver to", "skip_tests": "skip the test stage",
            "deploy_only": "deploy (and record evidence) only: no tests, image pushes or e2e",
            "stacks": "only these stacks or components (comma-separated), with their dependencies",
            "config": "path of the config file (default dsplatform.yml)",
            "target": "override the environment's target: localstack or aws"})
@user_errors
def pipeline(c: Any, env: str = "dev", skip_tests: bool = False, deploy_only: bool = False,
             stacks: str | None = None, config: str | None = None, target: str | None = None) -> None:
    """Run locally, in order, the stages the delivery workflow runs: tests, images, deploy, e2e, evidence."""
    import invoke

    from dsplatform.tasks._cli import stack_list
    from dsplatform.workflows.pipeline import run_pipeline

    result = run_pipeline(env, config, target, skip_tests=skip_tests, deploy_only=deploy_only,
                          stacks=stack_list(stacks))
    print(result.summary())
    if not result.ok:
        raise invoke.Exit(f"pipeline {env} failed", code=1)


@task(help={"env": "environment to estimate", "json": "print the estimate as JSON",
            "config": "path of the config file (default dsplatform.yml)"})
@user_errors
def cost(c: Any, env: str = "dev", json: bool = False, config: str | None = None) -> None:
    """Estimate an environment's monthly cost from its templates, config and the dated price table."""
    from dsplatform.config import load_config
    from dsplatform.delivery.cost import estimate
    from dsplatform.synth import plan_from_config

    project = load_config(config)
    result = estimate(project, plan_from_config(project, env))
    print(result.to_json() if json else result.to_text())


@task(name="diagram", help={"doc": "Markdown file with the diagram markers (default docs/delivery.md)",
                             "config": "path of the config file (default dsplatform.yml)"})
@user_errors
def diagram(c: Any, doc: str = "docs/delivery.md", config: str | None = None) -> None:
    """Regenerate the delivery diagram (Mermaid: branches, accounts, roles, promotion) from config."""
    from dsplatform.config import load_config
    from dsplatform.delivery.diagram import write_diagram

    print(f"wrote {write_diagram(load_config(config), Path(doc))}")


ci = Collection("ci", github, diagram)
