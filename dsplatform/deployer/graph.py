"""The plan's dependency graph and a runner that starts each stack as soon as its own dependencies are done."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from dsplatform.deployer.errors import PlanError
from dsplatform.stackspec import Plan


@dataclass(frozen=True)
class Graph:
    """Stack names with the names each one waits for (``after``); build with ``for_deploy``/``for_destroy``."""

    nodes: tuple[str, ...]
    after: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def for_deploy(cls, plan: Plan) -> Graph:
        """Each stack waits for its dependencies; raises PlanError on unknown names or cycles."""
        names = tuple(s.name for s in plan.stacks)
        known = set(names)
        after: dict[str, frozenset[str]] = {}
        for spec in plan.stacks:
            unknown = [d for d in spec.depends_on if d not in known]
            if unknown:
                raise PlanError(
                    f"stack {spec.name} depends on {', '.join(unknown)}, which is not in the plan "
                    f"(stacks: {', '.join(names)})"
                )
            after[spec.name] = frozenset(spec.depends_on)
        graph = cls(names, after)
        graph.order()  # fail early on cycles
        return graph

    @classmethod
    def for_destroy(cls, plan: Plan) -> Graph:
        """The reverse graph: a stack waits for every stack that depends on it."""
        forward = cls.for_deploy(plan)
        after: dict[str, set[str]] = {n: set() for n in forward.nodes}
        for node, deps in forward.after.items():
            for dep in deps:
                after[dep].add(node)
        return cls(forward.nodes, {k: frozenset(v) for k, v in after.items()})

    def order(self) -> list[str]:
        """A topological order (stable with the plan's order); raises PlanError on a cycle."""
        done: list[str] = []
        placed: set[str] = set()
        pending = list(self.nodes)
        while pending:
            ready = [n for n in pending if self.after.get(n, frozenset()) <= placed]
            if not ready:
                raise PlanError(f"the stacks {', '.join(pending)} depend on each other in a cycle")
            for n in ready:
                done.append(n)
                placed.add(n)
            pending = [n for n in pending if n not in placed]
        return done

    def downstream(self, node: str) -> set[str]:
        """Every node that (transitively) waits for ``node``."""
        out: set[str] = set()
        frontier = [node]
        while frontier:
            cur = frontier.pop()
            for other, deps in self.after.items():
                if cur in deps and other not in out:
                    out.add(other)
                    frontier.append(other)
        return out


def run_graph(
    graph: Graph,
    work: Callable[[str], bool],
    *,
    concurrency: int,
    on_blocked: Callable[[str, str], None],
    cancel: threading.Event | None = None,
) -> dict[str, bool]:
    """Run ``work(name)`` for every node, at most ``concurrency`` at once, each as soon as its waits are done.

    ``work`` returns True on success; the nodes downstream of a failure are not run and are handed to
    ``on_blocked(name, failed_dependency)``. Workers are daemon threads so Ctrl-C is not held up by a
    waiter sleeping in a worker; the caller's ``finally`` (lock release) runs at once.
    """
    results: dict[str, bool] = {}
    done_q: queue.Queue[tuple[str, bool, BaseException | None]] = queue.Queue()
    remaining = list(graph.order())
    running: set[str] = set()
    blocked: set[str] = set()

    def worker(name: str) -> None:
        try:
            done_q.put((name, bool(work(name)), None))
        except BaseException as exc:  # handed to the main thread and re-raised there
            done_q.put((name, False, exc))

    def start_ready() -> None:
        for name in list(remaining):
            if len(running) >= max(1, concurrency) or (cancel is not None and cancel.is_set()):
                return
            waits = graph.after.get(name, frozenset())
            if all(results.get(d) for d in waits):
                remaining.remove(name)
                running.add(name)
                threading.Thread(target=worker, args=(name,), name=f"deploy-{name}", daemon=True).start()

    start_ready()
    error: BaseException | None = None
    while running:
        name, ok, exc = done_q.get()
        running.discard(name)
        results[name] = ok
        if exc is not None and error is None:
            error = exc
        if not ok:
            for down in _in_order(graph.downstream(name), remaining):
                remaining.remove(down)
                blocked.add(down)
                on_blocked(down, name)
        if error is None:
            start_ready()
    if error is not None:
        raise error
    for name in blocked:
        results[name] = False
    return results


def _in_order(names: Iterable[str], order: list[str]) -> list[str]:
    wanted = set(names)
    return [n for n in order if n in wanted]
