"""Invoke tasks: deploy, diff, destroy, outputs (thin wrappers over dsplatform.deployer)."""

from __future__ import annotations

import json as jsonlib
import sys
from typing import Any

from invoke import Collection, task

from dsplatform.tasks._cli import allow_replace_flag, number_flag, plan_and_clients, user_errors

_ENV_HELP = "environment name from dsplatform.yml (dev, stg, prod)"
_COMMON_HELP = {
    "env": _ENV_HELP,
    "config": "path of the config file (default dsplatform.yml)",
    "target": "override the environment's target: localstack or aws",
    "stacks": "only these stacks or components (comma-separated), with their dependencies",
}
_PRUNE_HELP = "also delete stacks of this project and environment that are no longer in the config (data retained)"


@task(
    iterable=["allow_replace"],
    help={
        **_COMMON_HELP,
        "allow_replace": "accept replacing/removing this stateful resource (LogicalId or stack/LogicalId); repeatable",
        "concurrency": "stacks deployed at once (default 4)",
        "json": "JSON lines instead of a live table, for CI",
        "break_lock": "take the environment lock even if another run holds it (only when that run is dead)",
        "prune": _PRUNE_HELP,
    },
)
@user_errors
def deploy(
    c: Any,
    env: str,
    config: str | None = None,
    target: str | None = None,
    allow_replace: list[str] | None = None,
    concurrency: str = "4",
    json: bool = False,
    break_lock: bool = False,
    stacks: str | None = None,
    prune: bool = False,
) -> None:
    """Deploy every stack of an environment through change sets; unchanged stacks are skipped."""
    from dsplatform.deployer import DeployOptions, make_reporter
    from dsplatform.deployer import deploy as run_deploy

    workers = int(number_flag("--concurrency", concurrency, minimum=1, maximum=32, example="4"))
    replaceable = tuple(allow_replace_flag(item) for item in allow_replace or ())
    plan, clients = plan_and_clients(env, config, target, verify=False, stacks=stacks)
    _check_bootstrap(config, plan, clients)
    if plan.target.kind == "localstack":
        from dsplatform.localstack import LocalStackSettings, register_own_images

        # A service or an endpoint runs its image as soon as it is created: LocalStack must know its folder.
        register_own_images(LocalStackSettings.for_plan(plan))
    opts = DeployOptions(
        allow_replace=replaceable, concurrency=workers, json=json, break_lock=break_lock
    )
    reporter = make_reporter(json)
    run_deploy(plan, clients, opts, reporter).raise_for_failure()
    _orphans(plan, clients, prune, reporter)


def _check_bootstrap(config: str | None, plan: Any, clients: Any) -> None:
    """Refuse to deploy into an account that is not bootstrapped (on LocalStack only when the config opts in)."""
    from dsplatform.config import load_config
    from dsplatform.delivery.bootstrap import check_bootstrapped

    version = check_bootstrapped(load_config(config), plan, clients)
    if version is not None:
        print(f"bootstrap version {version} found in {plan.target.account_id}/{plan.target.region}")


def _orphans(plan: Any, clients: Any, prune: bool, reporter: Any) -> None:
    """List stacks that left the config; delete them with --prune."""
    from dsplatform.deployer.orphans import find_orphans
    from dsplatform.deployer.orphans import prune as run_prune

    orphans = find_orphans(plan, clients)
    if orphans and prune:
        run_prune(plan, clients, orphans, reporter).raise_for_failure()
        print(f"pruned {len(orphans)} stack(s) no longer in the config: {', '.join(orphans)} (data retained)")
    elif orphans:
        print(f"{len(orphans)} stack(s) of {plan.target.project}/{plan.target.env} are no longer in the config: "
              f"{', '.join(orphans)}; delete them with --prune (data retained)", file=sys.stderr)


@task(help={**_COMMON_HELP, "json": "print the changes as JSON"})
@user_errors
def diff(c: Any, env: str, config: str | None = None, target: str | None = None, json: bool = False,
         stacks: str | None = None) -> None:
    """Show what a deploy would change, per stack; replacement/removal of stateful resources in red."""
    from rich.console import Console

    from dsplatform.deployer import diff as run_diff
    from dsplatform.deployer import render_diff

    plan, clients = plan_and_clients(env, config, target, verify=False, stacks=stacks)
    diffs = run_diff(plan, clients)
    if json:
        print(jsonlib.dumps([d.to_json() for d in diffs.values()], indent=2))
    else:
        Console(highlight=False).print(render_diff(diffs, color=True))


@task(
    help={
        **_COMMON_HELP,
        "purge_data": "empty (all versions) and delete the data buckets too; otherwise they are kept",
        "keep_images": "keep the ECR repositories that hold images, and their images (otherwise purged)",
        "json": "JSON lines progress",
        "prune": _PRUNE_HELP,
    }
)
@user_errors
def destroy(
    c: Any, env: str, config: str | None = None, target: str | None = None, purge_data: bool = False,
    json: bool = False, stacks: str | None = None, prune: bool = False, keep_images: bool = False,
) -> None:
    """Delete an environment's stacks in reverse order (refused for prod); data buckets stay unless purged."""
    from dsplatform.deployer import destroy as run_destroy
    from dsplatform.deployer import make_reporter

    plan, clients = plan_and_clients(env, config, target, verify=False, stacks=stacks)
    reporter = make_reporter(json)
    run_destroy(plan, clients, purge_data=purge_data, reporter=reporter, keep_images=keep_images).raise_for_failure()
    _orphans(plan, clients, prune, reporter)


@task(help={**_COMMON_HELP, "json": "print {stack: {key: value}} as JSON"})
@user_errors
def outputs(c: Any, env: str, config: str | None = None, target: str | None = None, json: bool = False,
            stacks: str | None = None) -> None:
    """Print every deployed stack's outputs."""
    from dsplatform.deployer import read_outputs

    plan, clients = plan_and_clients(env, config, target, stacks=stacks)
    found = read_outputs(plan, clients)
    if json:
        print(jsonlib.dumps(found, indent=2, sort_keys=True))
        return
    for stack, values in found.items():
        print(stack)
        for key, value in sorted(values.items()):
            print(f"  {key} = {value}")
    sys.stdout.flush()


ns = Collection(deploy, diff, destroy, outputs)
