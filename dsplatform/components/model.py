"""The component model: one object that carries everything about a unit of the platform.

A component declares its name, its blueprint (``build(props) -> Template``), how its props are made from
config, its dependencies, its typed outputs (a ``blueprints.outputs.Outputs`` class), the container images
it owns (zero or more jobs, each with a source folder), the Lambda functions' code it owns (``Function``)
and where its end-to-end scenarios live. Stock
components live in ``dsplatform/components/stock/``; a consumer's are listed in its ``dsplatform.yml``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blueprints.outputs import Outputs
from dsplatform.bundles import bundled_folder
from dsplatform.config.models import EnvironmentConfig, ProjectConfig
from dsplatform.naming import Names
from dsplatform.stackspec import Requirement

BUNDLED_CONTAINERS = "dsplatform._bundled_containers"  # pyproject maps it onto the repository's containers/
BUNDLED_FUNCTIONS = "dsplatform._bundled_functions"  # and this one onto functions/


@dataclass(frozen=True)
class Context:
    """What a props factory may read: the whole project (for cross-environment facts) and one environment."""

    project: ProjectConfig
    env: EnvironmentConfig
    names: Names

    def names_of(self, env_name: str) -> Names:
        """Names of another environment of the same project."""
        return Names.for_environment(self.project.environments[env_name], self.project.project.name)


@dataclass(frozen=True)
class Image:
    """A container image a component owns: the job it runs and the folder its source lives in.

    ``source`` is relative to the project root (the folder holding ``dsplatform.yml``); the default is
    ``containers/<job>``. ``tag`` makes the tag the deployed task definition names (default ``latest``).
    A ``bundled`` (stock) job falls back to the source shipped in the dsplatform distribution, so a consumer
    that keeps the stock pipeline needs no copy of its job; its own ``containers/<job>`` overrides it.
    """

    job: str
    source: str | None = None
    tag: Callable[[Context], str] | None = None
    bundled: bool = False  # a stock job: dsplatform ships its source, used when the project has no own copy

    def source_dir(self, project_root: Path) -> Path:
        """The image's source folder: under ``project_root``, else (stock jobs) the copy dsplatform ships."""
        own = (project_root / (self.source or f"containers/{self.job}")).resolve()
        if self.source or not self.bundled or (own / "Dockerfile").is_file():
            return own
        shipped = bundled_folder(BUNDLED_CONTAINERS, "containers")
        if shipped is not None and (shipped / self.job / "Dockerfile").is_file():
            return Path(str(shipped / self.job)).resolve()
        return own


@dataclass(frozen=True)
class Function:
    """Lambda function code a component owns: the deployer zips the folder and uploads it as a code asset.

    ``source`` is relative to the project root (default ``functions/<name>``). The component's template takes
    the code through three parameters (``parameters``) that the deployer fills: the assets bucket, the zip's
    key and its base64 SHA-256 (``dsplatform.deployer.assets``). A ``bundled`` (stock) function falls back to
    the code shipped in the dsplatform distribution when the project has no ``functions/<name>`` of its own.
    """

    name: str
    source: str | None = None
    parameters: tuple[str, str, str] = ("CodeBucket", "CodeKey", "CodeSha256")
    bundled: bool = False  # a stock function: dsplatform ships its code

    def source_dir(self, project_root: Path) -> Path:
        """The function's source folder: under ``project_root``, else (stock functions) the copy dsplatform ships."""
        own = (project_root / (self.source or f"functions/{self.name}")).resolve()
        if self.source or not self.bundled or own.is_dir():
            return own
        shipped = bundled_folder(BUNDLED_FUNCTIONS, "functions")
        if shipped is not None and (shipped / self.name).is_dir():
            return Path(str(shipped / self.name)).resolve()
        return own


@dataclass(frozen=True)
class Component:
    """One stack of the platform and everything about it.

    ``scenarios`` is where its e2e scenarios live: a folder relative to the project root, or an importable
    package (e.g. ``harness.scenarios`` for the stock pipeline), run by ``invoke e2e``. ``requires`` names
    what its tasks need that no stack creates (``dsplatform.stackspec.Requirement``): ``deploy`` refuses to
    create the stack without it, and the lifecycle provides it between the dependency layers of a test deploy.
    """

    name: str
    build: Callable[[Any], Any]
    props: Callable[[Context], Any]
    outputs: type[Outputs]
    depends_on: tuple[str, ...] = ()
    images: tuple[Image, ...] = ()
    scenarios: str | None = None
    source: str = "stock"  # where it came from: stock, an entry point or an import path (for messages)
    functions: tuple[Function, ...] = ()  # Lambda code the deployer zips and uploads (code assets)
    requires: Callable[[Context], tuple[Requirement, ...]] | None = None  # objects needed before it is created
    hosted_in: Callable[[Context], bool] | None = None  # deployed only where this says so (None: everywhere)
    # True where the environment exists only for this component (a tooling account): nothing else deploys there.
    owns_environment: Callable[[Context], bool] | None = None
    # Plug-ins it cannot work without, selected with it (e.g. its image's registry): listing it is enough.
    brings: tuple[Component, ...] = ()

    def deployed_in(self, ctx: Context) -> bool:
        """True when ``ctx``'s environment deploys this component (a pipeline lives in one environment only)."""
        return self.hosted_in is None or self.hosted_in(ctx)

    def render(self, ctx: Context) -> dict[str, Any]:
        """The component's template for ``ctx`` as a dict, its outputs checked against its Outputs class."""
        template = self.build(self.props(ctx)).to_dict()
        declared = set(self.outputs.key_names())
        emitted = set(template.get("Outputs", {}))
        undeclared = sorted(emitted - declared)
        missing = sorted(k.name for k in self.outputs.keys if k.required and k.name not in emitted)
        if undeclared or missing:
            from dsplatform.errors import ComponentError

            raise ComponentError(self.name, f"its blueprint emits outputs {undeclared or '-'} not declared by "
                                            f"{self.outputs.__name__} and misses required {missing or '-'}; "
                                            f"emit outputs only through {self.outputs.__name__}'s keys")
        return dict(template)
