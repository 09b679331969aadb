"""The delivery section checked against the environments: which branch deploys where, and the promotion route."""

from __future__ import annotations

from dataclasses import dataclass

from dsplatform.config import ProjectConfig
from dsplatform.config.models import EnvironmentConfig, GitHubSettings
from dsplatform.errors import ConfigError
from dsplatform.naming import Names


@dataclass(frozen=True)
class Routes:
    """Validated delivery: branch -> environment, the optional promotion, and the GitHub repository."""

    branches: dict[str, str]
    promote: tuple[str, str] | None
    github: GitHubSettings | None

    def branches_of(self, env: str) -> list[str]:
        """The branches that deploy ``env`` (sorted)."""
        return sorted(branch for branch, target in self.branches.items() if target == env)

    def promoted_into(self, env: str) -> bool:
        """True when ``env`` is the promotion's target."""
        return self.promote is not None and self.promote[1] == env


def routes(project: ProjectConfig, *, need_github: bool = False) -> Routes:
    """Check ``delivery`` against the environments; a bad reference is one line naming key, value and fix."""
    delivery, envs = project.delivery, project.environments
    src, allowed = project.source, ", ".join(sorted(envs))
    for branch, env in delivery.branches.items():
        if env not in envs:
            raise ConfigError([f"{src}: delivery.branches.{branch}: no environment {env!r}; use one of {allowed}"])
    targets = list(delivery.branches.values())
    twice = sorted({env for env in targets if targets.count(env) > 1})
    if twice:
        raise ConfigError([f"{src}: delivery.branches: environment {twice[0]!r} is mapped from several branches; "
                           f"map one branch to each environment"])
    promote = None
    if delivery.promote is not None:
        frm, to = delivery.promote.from_env, delivery.promote.to
        for key, env in (("from", frm), ("to", to)):
            if env not in envs:
                raise ConfigError([f"{src}: delivery.promote.{key}: no environment {env!r}; use one of {allowed}"])
        if frm == to:
            raise ConfigError([f"{src}: delivery.promote: from and to are both {frm!r}; promote between two "
                               f"environments, e.g. {{from: stg, to: prod}}"])
        if to in targets:
            raise ConfigError([f"{src}: delivery.promote.to: {to!r} is also deployed by a branch; the promotion "
                               f"target is deployed only by the approved promotion, remove it from delivery.branches"])
        promote = (frm, to)
    if need_github and delivery.github is None:
        raise ConfigError([f"{src}: delivery.github: missing; add delivery: {{github: {{repository: owner/name}}}} "
                           f"to generate workflows"])
    if need_github and not delivery.branches and promote is None:
        raise ConfigError([f"{src}: delivery.branches: no branch deploys an environment; add e.g. delivery: "
                           f"{{branches: {{main: dev}}}}"])
    return Routes(branches=dict(delivery.branches), promote=promote, github=delivery.github)


def names_of(project: ProjectConfig, env: EnvironmentConfig) -> Names:
    """The naming module's names of ``env`` in ``project``."""
    return Names.for_environment(env, project.project.name)
