"""Reading deployed stacks' outputs: a plain dict for printing, a typed view for the harness."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from dsplatform.deployer.clients import ClientFactory
from dsplatform.deployer.errors import DeployerError
from dsplatform.deployer.inventory import deployed_stacks, stack_outputs
from dsplatform.stackspec import Plan


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
class StackOutputs(Mapping[str, str]):
    """One stack's outputs with typed getters that fail with a one-line, actionable error."""

    env: str
    stack: str
    data: Mapping[str, str]

    def __getitem__(self, key: str) -> str:
        """The output value; MissingOutputError when absent."""
        if key not in self.data:
            raise MissingOutputError(self.env, self.stack, key, list(self.data))
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def text(self, key: str) -> str:
        """A string output."""
        return self[key]

    def items_list(self, key: str) -> list[str]:
        """A comma-joined output (e.g. SubnetIds) as a list."""
        return [part for part in self[key].split(",") if part]


@dataclass(frozen=True)
class EnvironmentOutputs:
    """Every deployed stack's outputs of one environment, looked up by component (``storage``) or stack name."""

    env: str
    by_stack: Mapping[str, StackOutputs]
    components: Mapping[str, str]  # component -> stack name

    def component(self, component: str) -> StackOutputs:
        """The outputs of a component's stack; MissingOutputError when it is not deployed."""
        stack = self.components.get(component, component)
        if stack not in self.by_stack:
            raise MissingOutputError(self.env, stack, None, [])
        return self.by_stack[stack]

    def __getitem__(self, component: str) -> StackOutputs:
        return self.component(component)


def environment_outputs(plan: Plan, clients: ClientFactory) -> EnvironmentOutputs:
    """The typed view of read_outputs, for the harness and scripts."""
    env = plan.target.env
    raw = read_outputs(plan, clients)
    return EnvironmentOutputs(
        env=env,
        by_stack={name: StackOutputs(env, name, values) for name, values in raw.items()},
        components={s.component: s.name for s in plan.stacks},
    )
