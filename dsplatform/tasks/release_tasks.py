"""Invoke tasks: releases (what was deployed, when, with what outcome), rollback, image.tag (thin wrappers)."""

from __future__ import annotations

import json as jsonlib
from typing import Any

import invoke
from invoke import Collection, task

from dsplatform.errors import UsageError
from dsplatform.tasks._cli import env_flag, plan_and_clients, user_errors

_COMMON = {"env": "environment name from dsplatform.yml", "config": "path of the config file (default dsplatform.yml)",
           "target": "override the environment's target: localstack or aws"}


@task(help={**_COMMON, "json": "print the releases as JSON"})
@user_errors
def releases(c: Any, env: str, config: str | None = None, target: str | None = None, json: bool = False) -> None:
    """List the environment's releases, newest first: id, when, commit, images, outcome."""
    from dataclasses import asdict

    from dsplatform.releases import list_releases, release_bucket

    plan, clients = plan_and_clients(env, config, target)
    found = list_releases(clients.client("s3"), release_bucket(plan, clients))
    if json:
        print(jsonlib.dumps([asdict(r) | {"status": r.status} for r in found], indent=2, default=str))
        return
    print(f"{'release':<26} {'created':<21} {'commit':<13} {'status':<13} images")
    for r in found:
        images = ", ".join(f"{i.job}@{i.digest[7:19]}" for i in r.images) or "-"
        print(f"{r.id:<26} {r.created_at:<21} {r.commit[:12]:<13} {r.status:<13} {images}")


@task(help={**_COMMON, "to": "release id (or a unique prefix); default: the newest earlier one that passed smoke",
            "yes": "do not ask for confirmation (needed for protected environments in CI)"})
@user_errors
def rollback(c: Any, env: str, to: str | None = None, yes: bool = False, config: str | None = None,
             target: str | None = None) -> None:
    """Redeploy a recorded release exactly (templates, parameters, image digests; no rebuild), then smoke-test."""
    from dsplatform.workflows.rollback import DATA_NOTE
    from dsplatform.workflows.rollback import rollback as run_rollback

    if to is not None and not to.strip():
        raise UsageError("--to '' names no release; give a release id (or a unique prefix) from `invoke releases`, "
                         "or omit --to for the newest earlier release that passed smoke")
    result = run_rollback(env_flag(env), to, yes=yes, config_path=config, target=target)
    print(f"rolled {env} back to {result.to} (recorded as release {result.release_id})")
    for line in result.retagged:
        print(f"  image {line}")
    for line in result.native:
        print(f"  {line}")
    print(f"  smoke: {len(result.smoke_passed)} passed, {len(result.smoke_failed)} failed; "
          + ", ".join(f"{k} {v:.1f}s" for k, v in result.seconds.items()))
    print(f"note: {DATA_NOTE}")
    if not result.ok:
        raise invoke.Exit(f"rollback of {env} deployed {result.to} but its smoke scenarios failed: "
                          f"{', '.join(result.smoke_failed)}", code=5)


@task(name="tag", help={**_COMMON, "version": "the version tag to add, e.g. v1.2.3 (letters, digits, _ . -)"})
@user_errors
def tag(c: Any, env: str, version: str, config: str | None = None, target: str | None = None) -> None:
    """Tag each job image the environment runs now with a version (the digest stays; tags are never moved)."""
    from dsplatform.images import check_version, tag_images

    check_version(version)  # before any AWS call
    plan, clients = plan_and_clients(env, config, target)
    for line in tag_images(plan, clients, version):
        print(line)


image = Collection("image", tag)
