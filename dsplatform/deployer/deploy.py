"""deploy(): verify the account, take the environment lock, deploy the stack graph in parallel."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from dsplatform.deployer import assets
from dsplatform.deployer.clients import ClientFactory
from dsplatform.deployer.graph import Graph, run_graph
from dsplatform.deployer.images import with_image_digests
from dsplatform.deployer.inventory import deployed_stacks, stack_outputs, stack_tag
from dsplatform.deployer.lock import env_lock
from dsplatform.deployer.models import DeployOptions, DeployResult, Outcome, StackResult
from dsplatform.deployer.params import HASH_TAG, content_hash, resolve_parameters
from dsplatform.deployer.progress import NullReporter, Reporter
from dsplatform.deployer.requirements import check_requirements
from dsplatform.deployer.retained import kept_types
from dsplatform.deployer.stack import StackDeployer
from dsplatform.deployer.status import StackState, classify
from dsplatform.deployer.triggers import rollback_configuration
from dsplatform.deployer.waiters import Polling
from dsplatform.errors import DsPlatformError
from dsplatform.stackspec import Plan

# LocalStack's engine creates a 30-resource stack in ~0.5 s: a coarse poll would dominate the deploy.
LOCALSTACK_POLL_DELAY = 0.1
AWS_POLL_DELAY = 5.0
# Counting resources costs a call per stack; once a second is plenty for a live table.
_COUNT_INTERVAL = 1.0


def polling_for(clients: ClientFactory, options: DeployOptions) -> Polling:
    """Waiter timing for a target: quick polls on LocalStack, AWS-friendly ones otherwise."""
    delay = options.poll_delay
    if delay is None:
        delay = LOCALSTACK_POLL_DELAY if clients.is_localstack else AWS_POLL_DELAY
    return Polling(delay=delay, max_wait=options.max_wait_seconds)


def deploy(
    plan: Plan, clients: ClientFactory, options: DeployOptions | None = None, reporter: Reporter | None = None
) -> DeployResult:
    """Deploy every stack of ``plan``; a stack starts as soon as its own dependencies are done.

    Returns a DeployResult (``result.raise_for_failure()`` turns a failure into DeployFailedError).
    Raises AccountMismatchError, LockHeldError, PlanError or RequirementMissingError before anything is touched.
    """
    options = options or DeployOptions()
    reporter = reporter or NullReporter()
    graph = Graph.for_deploy(plan)
    clients.verify_account()
    if plan.images:
        plan = with_image_digests(plan, clients.client("ecr"))
    cfn = clients.client("cloudformation")
    env = plan.target.env
    result = DeployResult(env)
    t0 = time.monotonic()
    found = deployed_stacks(cfn, graph.nodes)
    check_requirements(plan, clients, found)  # before any upload or lock: a refused deploy writes nothing
    # Function code is zipped (or reused) and uploaded before anything is compared: its hash is a parameter.
    plan, _ = assets.with_assets(plan, clients.client("s3") if _uses_bucket(plan) else None, upload=True)
    unchanged = _unchanged_results(plan, graph, found)
    if unchanged is not None:
        # Nothing to write, so no lock to take: a no-op deploy stays a handful of read calls.
        reporter.started("deploy", env, list(graph.order()))
        for res in unchanged:
            result.stacks[res.name] = res
            reporter.stack_finished(res)
        result.elapsed = time.monotonic() - t0
        reporter.finished(result)
        return result
    with env_lock(
        clients.client("ssm"),
        env,
        options.lock_ttl_seconds,
        force=options.break_lock,
        name=plan.target.lock_name or None,
    ):
        current = deployed_stacks(cfn, graph.nodes)
        triggers = rollback_configuration(clients.client("cloudwatch"), plan.target) if plan.target.rollback_alarms \
            else None
        engine = StackDeployer(cfn, plan.target, options, polling_for(clients, options), reporter, triggers,
                               ecs=clients.client("ecs"), templates=_template_store(plan, clients),
                               sagemaker=clients.client("sagemaker") if kept_types(plan) else None)
        outputs: dict[str, dict[str, str]] = {}
        guard = threading.Lock()
        reporter.started("deploy", env, list(graph.order()))

        def work(name: str) -> bool:
            spec = plan.stack(name)
            with guard:
                dep_outputs = {d: outputs.get(d, {}) for d in spec.depends_on}
            res = engine.deploy(spec, current.get(name), dep_outputs)
            with guard:
                outputs[name] = res.outputs
                result.stacks[name] = res
            reporter.stack_finished(res)
            return res.ok

        def blocked(name: str, dep: str) -> None:
            res = StackResult(
                name, Outcome.BLOCKED, (current.get(name) or {}).get("StackStatus"), reason=f"not started: {dep} failed"
            )
            with guard:
                result.stacks[name] = res
            reporter.stack_finished(res)

        try:
            with _progress_hook(cfn, reporter, graph.nodes):
                run_graph(graph, work, concurrency=options.concurrency, on_blocked=blocked)
        finally:
            # Also on Ctrl-C: stop the live table and show what finished before the lock goes.
            result.stacks = {n: result.stacks[n] for n in graph.order() if n in result.stacks}
            result.elapsed = time.monotonic() - t0
            reporter.finished(result)
    return result


def _uses_bucket(plan: Plan) -> bool:
    return any(spec.assets or assets.too_large(spec) for spec in plan.stacks)


def _template_store(plan: Plan, clients: ClientFactory) -> assets.TemplateStore | None:
    """The assets bucket as the home of templates over the inline limit (created only when one is)."""
    if not any(assets.too_large(spec) for spec in plan.stacks):
        return None
    s3 = clients.client("s3")
    bucket = assets.ensure_bucket(s3, plan.target.account_id, plan.target.region, plan.target.assets_bucket or None)
    return assets.TemplateStore(s3, bucket, plan.target.region, clients.endpoint_url)


def _unchanged_results(plan: Plan, graph: Graph, current: dict[str, dict[str, Any]]) -> list[StackResult] | None:
    """UNCHANGED results for every stack when all are stable with their content hash, else None."""
    results = []
    for name in graph.order():
        spec, desc = plan.stack(name), current.get(name)
        if desc is None or classify(desc["StackStatus"]) is not StackState.STABLE:
            return None
        protect = spec.termination_protection or plan.target.protected
        if protect and not desc.get("EnableTerminationProtection"):
            return None
        try:
            params = resolve_parameters(spec, {d: stack_outputs(current.get(d)) for d in spec.depends_on})
        except DsPlatformError:
            return None
        if stack_tag(desc, HASH_TAG) != content_hash(spec, params, protect):
            return None
        results.append(StackResult(name, Outcome.UNCHANGED, desc["StackStatus"], stack_outputs(desc)))
    return results


class _progress_hook:
    """Forward every DescribeStacks answer the waiters get to the reporter (no extra polling of our own)."""

    def __init__(self, cfn: Any, reporter: Reporter, names: tuple[str, ...]) -> None:
        self.cfn, self.reporter, self.names = cfn, reporter, set(names)
        self.counts = bool(getattr(reporter, "wants_resource_counts", False))
        self.last_count: dict[str, float] = {}
        self.uid = f"dsplatform-progress-{uuid.uuid4().hex}"

    def __enter__(self) -> _progress_hook:
        self.cfn.meta.events.register("after-call.cloudformation.DescribeStacks", self._on_describe, unique_id=self.uid)
        return self

    def __exit__(self, *exc: object) -> None:
        self.cfn.meta.events.unregister("after-call.cloudformation.DescribeStacks", unique_id=self.uid)

    def _on_describe(self, parsed: dict[str, Any], **_: Any) -> None:
        for stack in parsed.get("Stacks", []) or []:
            name, status = stack.get("StackName"), stack.get("StackStatus")
            if name in self.names and status:
                self.reporter.stack_status(name, status, self._done(stack) if status.endswith("_IN_PROGRESS") else None)

    def _done(self, stack: dict[str, Any]) -> int | None:
        if not self.counts:
            return None
        now = time.monotonic()
        if now - self.last_count.get(stack["StackName"], 0.0) < _COUNT_INTERVAL:
            return None
        self.last_count[stack["StackName"]] = now
        done = 0
        for page in self.cfn.get_paginator("list_stack_resources").paginate(StackName=stack["StackId"]):
            done += sum(
                1 for r in page.get("StackResourceSummaries", []) if r.get("ResourceStatus", "").endswith("_COMPLETE")
            )
        return done
