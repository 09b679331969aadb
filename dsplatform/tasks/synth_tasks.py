"""Tasks ``synth`` and ``lint``: render templates to build/ and check them."""

from __future__ import annotations

from pathlib import Path

from invoke import task
from invoke.exceptions import Exit

from dsplatform.tasks._cli import env_names, user_errors


def _build_dir(plan: object) -> Path:
    """``build/`` under the project root (the folder of dsplatform.yml), wherever the task runs from."""
    return Path(plan.project_root) / "build"  # type: ignore[attr-defined]


@task(help={"env": "environment(s), comma-separated, or 'all'", "config": "config file (default: dsplatform.yml)",
            "target": "rehearse on another target: localstack or aws", "quiet": "print nothing but errors"})
@user_errors
def synth(c, env="dev", config=None, target=None, quiet=False):
    """Render every stack of an environment to build/<env>/<stack>.json (deterministic)."""
    from dsplatform.config import load_config
    from dsplatform.synth import plan_from_config, write_templates

    project = load_config(config)
    # Render every environment before writing any, so a bad one leaves build/ as it was.
    plans = [plan_from_config(project, name, target) for name in env_names(env, project)]
    for plan in plans:
        result = write_templates(plan, _build_dir(plan))
        if not quiet:
            from dsplatform.console import print_synth

            print_synth(result)


@task(help={"env": "environment(s), comma-separated, or 'all'", "config": "config file (default: dsplatform.yml)",
            "target": "rehearse on another target: localstack or aws"})
@user_errors
def lint(c, env="dev", config=None, target=None):
    """cfn-lint (cached by template hash) and the platform's policy rules on an environment's templates."""
    from dsplatform.config import load_config
    from dsplatform.console import print_lint
    from dsplatform.lint.run import lint_plan
    from dsplatform.synth import plan_from_config, write_templates

    project = load_config(config)
    failed = []
    plans = [plan_from_config(project, name, target) for name in env_names(env, project)]
    for plan in plans:
        name = plan.target.env
        write_templates(plan, _build_dir(plan))
        report = lint_plan(plan, _build_dir(plan) / ".lint-cache")
        print_lint(report)
        if not report.ok:
            failed.append(name)
    if failed:
        raise Exit(f"error: lint failed for {', '.join(failed)}; fix the findings above", code=1)
