"""Reading deployed stacks' outputs: a plain dict for printing, and the one typed view every reader uses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from dsplatform.deployer.clients import ClientFactory
from dsplatform.deployer.errors import DeployerError
from dsplatform.deployer.inventory import deployed_stacks, stack_outputs
from dsplatform.stackspec import Plan

OutputsT = TypeVar("OutputsT")


class MissingOutputError(DeployerError):
    """A stack or output the caller needs is not deployed."""

    exit_code = 2

    def __init__(self, env: str, stack: str, key: str | None, have: list[str]) -> None:
        self.env, self.stack, self.key = env, stack, key
        if key is None:
            msg = f"stack {stack} is not deployed; run `invoke deploy --env {env}` first"
        else:
            msg = (
                f"stack {stack} has no output {key!r} (it has: {', '.join(sorted(have)) or 'none'}); "
                f"run `invoke deploy --env {env}` to bring it up to date"
            )
        super().__init__(msg)


def read_outputs(plan: Plan, clients: ClientFactory) -> dict[str, dict[str, str]]:
    """Outputs of every deployed stack of the plan: {stack name: {output key: value}} in plan order."""
    found = deployed_stacks(clients.client("cloudformation"), [s.name for s in plan.stacks])
    return {s.name: stack_outputs(found[s.name]) for s in plan.stacks if s.name in found}


@dataclass(frozen=True)
class Deployed:
    """The one typed view of a deployed environment: each deployed component's outputs, as its Outputs class.

    ``deployed.get(StorageOutputs).input_bucket_name`` or ``deployed["storage"]``; nothing else spells an
    output key. Components of the plan that are not deployed are absent (``in`` tells).
    """

    env: str
    by_component: Mapping[str, Any]  # component -> instance of its blueprints.outputs.Outputs class
    stack_names: Mapping[str, str]  # component -> stack name, from the plan (the naming module)

    def __getitem__(self, component: str) -> Any:
        """The outputs of a deployed component; MissingOutputError when it is not deployed."""
        if component not in self.by_component:
            raise MissingOutputError(self.env, self.stack_names.get(component, component), None, [])
        return self.by_component[component]

    def __contains__(self, component: object) -> bool:
        return component in self.by_component

    def get(self, cls: type[OutputsT]) -> OutputsT:
        """The outputs of the deployed component whose Outputs class is ``cls`` (ValueError when several share it)."""
        found = [(c, outputs) for c, outputs in self.by_component.items() if type(outputs) is cls]
        if len(found) > 1:  # e.g. RegistryOutputs: the stock registry and api-registry; the first would be a guess
            raise ValueError(f"{cls.__name__} are the outputs of {', '.join(c for c, _ in found)}; read one by its "
                             f"component name: deployed[{found[0][0]!r}]")
        if found:
            return cast(OutputsT, found[0][1])
        wanted = [c for c, name in self.stack_names.items() if c not in self.by_component]
        stack = ", ".join(self.stack_names[c] for c in wanted) or cls.__name__
        raise MissingOutputError(self.env, stack, None, [])


def read_deployed(plan: Plan, clients: ClientFactory) -> Deployed:
    """Read every deployed stack of the plan into its component's typed outputs (one DescribeStacks listing)."""
    raw = read_outputs(plan, clients)
    typed: dict[str, Any] = {}
    for spec in plan.stacks:
        if spec.name not in raw or spec.outputs is None:
            continue
        missing = [key for key in spec.outputs.required_names() if key not in raw[spec.name]]
        if missing:
            raise MissingOutputError(plan.target.env, spec.name, missing[0], list(raw[spec.name]))
        typed[spec.component] = spec.outputs.read(raw[spec.name])
    return Deployed(env=plan.target.env, by_component=typed,
                    stack_names={spec.component: spec.name for spec in plan.stacks})
