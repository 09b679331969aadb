"""Synthesis: config -> props -> templates -> a Plan, and templates written to ``build/<env>/<stack>.json``.

Output is deterministic: the same config gives byte-identical files (sorted keys, fixed indentation).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsplatform.components import Context, project_root, select
from dsplatform.config import ProjectConfig, load_config
from dsplatform.naming import Names
from dsplatform.stackspec import CodeAsset, JobImage, Plan, StackSpec, Target

LOCALSTACK_URL_ENV = "DSPLATFORM_LOCALSTACK_URL"


def template_json(template: dict[str, Any]) -> str:
    """The canonical text of a template: sorted keys, two-space indent, trailing newline."""
    return json.dumps(template, sort_keys=True, indent=2) + "\n"


def make_target(project: ProjectConfig, env_name: str, target: str | None = None) -> Target:
    """The deploy target of one environment (``target`` overrides the configured one)."""
    env = project.environment(env_name, target)
    endpoint = os.environ.get(LOCALSTACK_URL_ENV) or project.localstack.endpoint_url
    names = Names.for_environment(env, project.project.name)
    return Target(env=env.name, account_id=env.account_id, region=env.region, kind=env.target,
                  endpoint_url=endpoint if env.target == "localstack" else None,
                  profile=env.profile if env.target == "aws" else None,
                  deploy_role_arn=env.deploy_role_arn if env.target == "aws" else None,
                  protected=env.is_protected, project=project.project.name, lock_name=names.lock_parameter,
                  rollback_alarms=rollback_alarms(env.settings.rollback.alarms, names),
                  monitoring_minutes=env.settings.rollback.monitoring_minutes,
                  assets_bucket=names.assets_bucket,
                  execution_role_arn=names.role_arn(names.execution_role) if env.target == "aws" else None)


def rollback_alarms(configured: tuple[str, ...], names: Names) -> tuple[str, ...]:
    """Alarm names of the rollback triggers; ``pipeline`` expands to the stock pipeline's failure alarms."""
    from blueprints.monitoring import METRICS
    from dsplatform.components.stock._pipeline import JOB

    out: list[str] = []
    for alarm in configured:
        out += [names.alarm(JOB, metric) for metric, _ in METRICS] if alarm == "pipeline" else [alarm]
    return tuple(dict.fromkeys(out))


def plan_from_config(project: ProjectConfig, env_name: str, target: str | None = None,
                     stacks: list[str] | None = None) -> Plan:
    """Render every component of one environment into a Plan (``stacks``: only these and their dependencies)."""
    env = project.environment(env_name, target)
    names = Names.for_environment(env, project.project.name)
    ctx = Context(project=project, env=env, names=names)
    root = project_root(project)
    specs, images, scenarios = [], [], []
    chosen = [comp for comp in select(project) if comp.deployed_in(ctx)]
    owners = [comp for comp in chosen if comp.owns_environment is not None and comp.owns_environment(ctx)]
    for comp in owners or chosen:
        tags = {**project.project.tags, "dsplatform:project": project.project.name,
                "dsplatform:env": env.name, "dsplatform:component": comp.name}
        specs.append(StackSpec(
            name=names.stack(comp.name), component=comp.name, template=comp.render(ctx),
            depends_on=tuple(names.stack(dep) for dep in comp.depends_on), tags=tags,
            termination_protection=env.is_protected, outputs=comp.outputs,
            assets=tuple(CodeAsset(fn.name, fn.source_dir(root), *fn.parameters) for fn in comp.functions),
            requires=comp.requires(ctx) if comp.requires else ()))
        images += [JobImage(job=image.job, component=comp.name, repository=names.repository(image.job),
                            tag=image.tag(ctx) if image.tag else "latest", source=image.source_dir(root))
                   for image in comp.images]
        if comp.scenarios:
            scenarios.append((comp.name, comp.scenarios))
    plan = Plan(target=make_target(project, env_name, target), stacks=tuple(specs), images=tuple(images),
                scenarios=tuple(scenarios), project_root=root, all_stacks=frozenset(s.name for s in specs))
    return plan.select(stacks) if stacks else plan


def build_plan(env: str, config_path: str | None = None, target: str | None = None,
               stacks: list[str] | None = None) -> Plan:
    """Load the config and render environment ``env`` into a Plan (``stacks``: a selection, with dependencies)."""
    return plan_from_config(load_config(config_path), env, target, stacks)


def templates_for(env: str, config_path: str | None = None, target: str | None = None) -> dict[str, dict[str, Any]]:
    """Stack name -> rendered template of one environment."""
    return {spec.name: spec.template for spec in build_plan(env, config_path, target).stacks}


@dataclass(frozen=True)
class SynthResult:
    """What ``write_templates`` wrote: one file and resource count per stack."""

    env: str
    files: dict[str, Path]
    resource_counts: dict[str, int]


def write_templates(plan: Plan, out_dir: Path) -> SynthResult:
    """Write one JSON file per stack to ``out_dir/<env>/`` and remove files of stacks that no longer exist."""
    folder = out_dir / plan.target.env
    folder.mkdir(parents=True, exist_ok=True)
    files, counts = {}, {}
    for spec in plan.stacks:
        path = folder / f"{spec.name}.json"
        text = template_json(spec.template)
        # Rewrite only on change, so file times (and lint caches keyed on content) stay stable.
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        files[spec.name] = path
        counts[spec.name] = len(spec.template.get("Resources", {}))
    for stale in folder.glob("*.json"):
        if stale.stem not in files:
            stale.unlink()
    return SynthResult(env=plan.target.env, files=files, resource_counts=counts)
