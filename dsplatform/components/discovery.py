"""Which components make an environment's plan: the stock ones a project keeps, plus its own plug-ins.

Stock components are found by scanning ``dsplatform.components.stock`` (a module with a ``COMPONENT``);
a consumer names its own in ``dsplatform.yml`` under ``components.plugins``, either as an import path
``package.module:ATTR`` resolved from the project root (the folder of ``dsplatform.yml``) or as the name of
an installed entry point in the group ``dsplatform.components``. The result is ordered along the
dependency graph (dependencies first, ties in declaration order).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import pkgutil
import sys
from functools import cache
from pathlib import Path

from dsplatform.components import stock
from dsplatform.components.model import Component
from dsplatform.config.models import ProjectConfig
from dsplatform.errors import ComponentError, ConfigError

ENTRY_POINT_GROUP = "dsplatform.components"


@cache
def stock_components() -> dict[str, Component]:
    """Every stock component by name, in dependency order."""
    found: dict[str, Component] = {}
    for info in pkgutil.iter_modules(stock.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{stock.__name__}.{info.name}")
        component = getattr(module, "COMPONENT", None)
        if isinstance(component, Component):
            found[component.name] = component
    return {c.name: c for c in order(list(found.values()))}


def project_root(project: ProjectConfig) -> Path:
    """The folder holding the project's ``dsplatform.yml`` (user files live there); the cwd for in-memory config."""
    source = Path(project.source)
    return source.resolve().parent if source.is_file() else Path.cwd().resolve()


def _prefer_root(module_name: str, root: Path) -> None:
    """Put ``root`` first on sys.path and forget a same-named package imported from elsewhere.

    The consumer's own packages live beside its dsplatform.yml. One process can load two projects (a test
    session, a tool driving several repos): without this, a ``team_infra`` imported for the first project would
    shadow the second project's ``team_infra`` and its plug-in would not be found, or the wrong one would load.
    """
    if str(root) in sys.path:
        sys.path.remove(str(root))
    sys.path.insert(0, str(root))
    top = module_name.split(".", 1)[0]
    loaded = sys.modules.get(top)
    origin = getattr(loaded, "__file__", None) or next(iter(getattr(loaded, "__path__", [])), None)
    if loaded is None or origin is None or Path(origin).resolve().is_relative_to(root):
        return
    if (root / top).is_dir() or (root / f"{top}.py").is_file():
        for name in [n for n in sys.modules if n == top or n.startswith(top + ".")]:
            del sys.modules[name]
        importlib.invalidate_caches()


def load_plugin(spec: str, root: Path) -> Component:
    """The component named by ``module:ATTR`` (imported with ``root`` on sys.path) or by an entry point name."""
    where = f"components.plugins: {spec!r}"
    if ":" in spec:
        module_name, _, attr = spec.partition(":")
        _prefer_root(module_name, root)
        try:
            module = importlib.import_module(module_name)
        except ImportError as err:
            raise ConfigError([f"{where}: cannot import {module_name!r} from {root} ({err}); check the module "
                               f"path, relative to the folder of dsplatform.yml"]) from err
        value = getattr(module, attr, None)
    else:
        entry = {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}.get(spec)
        if entry is None:
            raise ConfigError([f"{where}: not an import path (package.module:ATTR) and no installed entry point "
                               f"of that name in group {ENTRY_POINT_GROUP}"])
        value = entry.load()
    if not isinstance(value, Component):
        raise ConfigError([f"{where}: is {type(value).__name__}, not a dsplatform.components.Component"])
    return value


def select(project: ProjectConfig) -> tuple[Component, ...]:
    """The components of this project: the stock ones it keeps and its plug-ins, in dependency order."""
    stock_all = stock_components()
    wanted = project.components.stock
    names = list(stock_all) if wanted == "all" else list(wanted)
    unknown = [n for n in names if n not in stock_all]
    if unknown:
        raise ConfigError([f"{project.source}: components.stock: unknown component(s) {', '.join(unknown)}; "
                           f"stock components are {', '.join(stock_all)}"])
    chosen = [stock_all[n] for n in names]
    root = project_root(project)
    brought: list[Component] = []
    for spec in project.components.plugins:
        plugin = load_plugin(spec, root)
        if plugin in brought:  # listed after a plug-in that brought it (e.g. api-registry after api)
            continue
        # What it brings goes first, unless selected already (by name, as a stock component could be).
        brings = [b for b in plugin.brings if all(c.name != b.name for c in chosen)]
        chosen.extend(brings)
        brought.extend(brings)
        if any(c.name == plugin.name for c in chosen):
            raise ConfigError([f"{project.source}: components.plugins: {spec!r} is named {plugin.name!r}, which "
                               f"another component already uses; give it another name"])
        chosen.append(plugin)
    present = {c.name for c in chosen}
    for comp in chosen:
        for dep in comp.depends_on:
            if dep not in present:
                raise ConfigError([f"{project.source}: components: {comp.name!r} depends on {dep!r}, which is not "
                                   f"selected; add {dep!r} to components.stock (or its plug-in)"])
    return tuple(order(chosen))


def order(components: list[Component]) -> list[Component]:
    """Dependencies first, otherwise in the given order; ComponentError on a cycle."""
    done: dict[str, Component] = {}
    visiting: list[str] = []
    by_name = {c.name: c for c in components}

    def visit(comp: Component) -> None:
        if comp.name in done:
            return
        if comp.name in visiting:
            cycle = " -> ".join([*visiting[visiting.index(comp.name):], comp.name])
            raise ComponentError(comp.name, f"dependency cycle {cycle}; remove one of these depends_on")
        visiting.append(comp.name)
        for dep in comp.depends_on:
            if dep in by_name:
                visit(by_name[dep])
        visiting.pop()
        done[comp.name] = comp

    for comp in components:
        visit(comp)
    return list(done.values())
