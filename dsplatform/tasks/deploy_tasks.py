"""Invoke tasks: deploy, diff, destroy, outputs (thin wrappers over dsplatform.deployer)."""

from __future__ import annotations

import json as jsonlib
import sys
from typing import Any

from invoke import Collection, task

from dsplatform.tasks._cli import number_flag, plan_and_clients, user_errors

_ENV_HELP = "environment name from dsplatform.yml (dev, stg, prod)"
_COMMON_HELP = {
    "env": _ENV_HELP,
    "config": "path of the config file (default dsplatform.yml)",
    "target": "override the environment's target: localstack or aws",
}


@task(
    iterable=["allow_replace"],
    help={
        **_COMMON_HELP,
        "allow_replace": "accept replacing/removing this stateful resource (LogicalId or stack/LogicalId); repeatable",
        "concurrency": "stacks deployed at once (default 4)",
        "json": "JSON lines instead of a live table, for CI",
        "break_lock": "take the environment lock even if another run holds it (only when that run is dead)",
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
) -> None:
    """Deploy every stack of an environment through change sets; unchanged stacks are skipped."""
    from dsplatform.deployer import DeployOptions, make_reporter
    from dsplatform.deployer import deploy as run_deploy

    plan, clients = plan_and_clients(env, config, target, verify=False)
    workers = int(number_flag("--concurrency", concurrency, minimum=1, maximum=32, example="4"))
    opts = DeployOptions(
        allow_replace=tuple(allow_replace or ()), concurrency=workers, json=json, break_lock=break_lock
    )
    run_deploy(plan, clients, opts, make_reporter(json)).raise_for_failure()


@task(help={**_COMMON_HELP, "json": "print the changes as JSON"})
@user_errors
def diff(c: Any, env: str, config: str | None = None, target: str | None = None, json: bool = False) -> None:
    """Show what a deploy would change, per stack; replacement/removal of stateful resources in red."""
    from rich.console import Console

    from dsplatform.deployer import diff as run_diff
    from dsplatform.deployer import render_diff

    plan, clients = plan_and_clients(env, config, target, verify=False)
    diffs = run_diff(plan, clients)
    if json:
        print(jsonlib.dumps([d.to_json() for d in diffs.values()], indent=2))
    else:
        Console(highlight=False).print(render_diff(diffs, color=True))


@task(
    help={
        **_COMMON_HELP,
        "purge_data": "empty (all versions) and delete the data buckets too; otherwise they are kept",
        "json": "JSON lines progress",
    }
)
@user_errors
def destroy(
    c: Any, env: str, config: str | None = None, target: str | None = None, purge_data: bool = False, json: bool = False
) -> None:
    """Delete an environment's stacks in reverse order (refused for prod); data buckets stay unless purged."""
    from dsplatform.deployer import destroy as run_destroy
    from dsplatform.deployer import make_reporter

    plan, clients = plan_and_clients(env, config, target, verify=False)
    run_destroy(plan, clients, purge_data=purge_data, reporter=make_reporter(json)).raise_for_failure()


@task(help={**_COMMON_HELP, "json": "print {stack: {key: value}} as JSON"})
@user_errors
def outputs(c: Any, env: str, config: str | None = None, target: str | None = None, json: bool = False) -> None:
    """Print every deployed stack's outputs."""
    from dsplatform.deployer import read_outputs

    plan, clients = plan_and_clients(env, config, target)
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
