"""Pure parts of the deployer: status mapping, parameters, hashing, change parsing, graph order."""

from __future__ import annotations

import threading

import pytest

from dsplatform.deployer.changes import STATEFUL_TYPES, Change, changes_from_change_set, refused_changes
from dsplatform.deployer.errors import ParameterResolutionError, PlanError, TemplateTooLargeError
from dsplatform.deployer.graph import Graph, run_graph
from dsplatform.deployer.params import content_hash, resolve_parameters, stack_tags, template_body
from dsplatform.deployer.status import StackState, classify
from dsplatform.stackspec import Plan, StackSpec
from tests.deployer.deployer_stubs import TARGET, spec


@pytest.mark.parametrize(
    ("status", "state"),
    [
        (None, StackState.ABSENT),
        ("DELETE_COMPLETE", StackState.ABSENT),
        ("CREATE_COMPLETE", StackState.STABLE),
        ("UPDATE_COMPLETE", StackState.STABLE),
        ("UPDATE_ROLLBACK_COMPLETE", StackState.STABLE),
        ("ROLLBACK_COMPLETE", StackState.FAILED_CREATE),
        ("ROLLBACK_FAILED", StackState.FAILED_CREATE),
        ("CREATE_FAILED", StackState.FAILED_CREATE),
        ("UPDATE_ROLLBACK_FAILED", StackState.ROLLBACK_FAILED),
        ("REVIEW_IN_PROGRESS", StackState.REVIEW),
        ("CREATE_IN_PROGRESS", StackState.IN_PROGRESS),
        ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", StackState.IN_PROGRESS),
        ("UPDATE_ROLLBACK_IN_PROGRESS", StackState.IN_PROGRESS),
        ("DELETE_IN_PROGRESS", StackState.IN_PROGRESS),
        ("DELETE_FAILED", StackState.DELETE_FAILED),
    ],
)
def test_classify_maps_each_status(status: str | None, state: StackState) -> None:
    assert classify(status) is state


def test_classify_rejects_unknown_status() -> None:
    with pytest.raises(ValueError, match="BOGUS"):
        classify("BOGUS")


def test_parameters_come_from_the_one_dependency_that_exports_them() -> None:
    s = spec(
        "ds-dev-parameters",
        depends_on=("ds-dev-storage", "ds-dev-alerts"),
        parameters={"Literal": "x"},
        parameters_decl={
            "InputBucketName": {"Type": "String"},
            "Literal": {"Type": "String"},
            "Opt": {"Type": "String", "Default": "d"},
        },
    )
    outs = {"ds-dev-storage": {"InputBucketName": "in-bucket"}, "ds-dev-alerts": {"AlertTopicArn": "arn"}}
    assert resolve_parameters(s, outs) == {"InputBucketName": "in-bucket", "Literal": "x"}


def test_missing_parameter_names_stack_parameter_and_dependencies() -> None:
    s = spec("ds-dev-compute", depends_on=("ds-dev-storage",), parameters_decl={"RepositoryUri": {"Type": "String"}})
    with pytest.raises(ParameterResolutionError) as err:
        resolve_parameters(s, {"ds-dev-storage": {"InputBucketName": "b"}})
    msg = str(err.value)
    assert "ds-dev-compute" in msg and "RepositoryUri" in msg and "ds-dev-storage" in msg and "\n" not in msg


def test_parameter_exported_twice_is_ambiguous() -> None:
    s = spec("ds-dev-x", depends_on=("a", "b"), parameters_decl={"P": {"Type": "String"}})
    with pytest.raises(ParameterResolutionError, match="several dependencies"):
        resolve_parameters(s, {"a": {"P": "1"}, "b": {"P": "2"}})


def test_content_hash_follows_template_parameters_and_protection() -> None:
    s = spec()
    base = content_hash(s, {"A": "1"})
    assert base == content_hash(spec(), {"A": "1"})
    assert base != content_hash(s, {"A": "2"})
    assert base != content_hash(spec(resources={"Other": {"Type": "AWS::SQS::Queue"}}), {"A": "1"})
    assert base != content_hash(s, {"A": "1"}, protected=True)


def test_stack_tags_carry_the_hash_and_env() -> None:
    tags = {t["Key"]: t["Value"] for t in stack_tags(spec(tags={"team": "ds"}), "dev", "abc")}
    assert tags["dsplatform:content-hash"] == "abc" and tags["dsplatform:env"] == "dev" and tags["team"] == "ds"


def test_template_over_inline_limit_is_refused() -> None:
    big = spec(
        resources={f"Q{i}": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "x" * 80}} for i in range(600)}
    )
    with pytest.raises(TemplateTooLargeError, match="inline limit"):
        template_body(big)


def _page(*changes: dict) -> dict:
    return {"Changes": [{"Type": "Resource", "ResourceChange": c} for c in changes]}


def test_change_set_parsing_and_stateful_flags() -> None:
    page = _page(
        {
            "Action": "Modify",
            "LogicalResourceId": "InputBucket",
            "ResourceType": "AWS::S3::Bucket",
            "Replacement": "True",
            "Details": [{"Target": {"Attribute": "Properties", "Name": "BucketName"}}],
        },
        {"Action": "Modify", "LogicalResourceId": "Queue", "ResourceType": "AWS::SQS::Queue", "Replacement": "True"},
        {"Action": "Remove", "LogicalResourceId": "Logs", "ResourceType": "AWS::Logs::LogGroup"},
        {
            "Action": "Modify",
            "LogicalResourceId": "Repo",
            "ResourceType": "AWS::ECR::Repository",
            "Replacement": "False",
            "Details": [{"Target": {"Attribute": "Tags"}}],
        },
    )
    changes = changes_from_change_set("ds-dev-storage", [page])
    assert [c.logical_id for c in changes if c.destructive] == ["InputBucket", "Logs"]
    assert changes[0].properties == ("BucketName",) and changes[3].properties == ("Tags",)
    assert "DATA LOSS" in changes[0].describe() and "DATA LOSS" not in changes[1].describe()
    refused = refused_changes(changes, ["ds-dev-storage/Logs"])
    assert [c.logical_id for c in refused] == ["InputBucket"]
    assert refused_changes(changes, ["InputBucket", "Logs"]) == []


def test_conditional_replacement_of_stateful_is_destructive() -> None:
    c = Change("s", "Modify", "T", "AWS::DynamoDB::Table", "Conditional")
    assert c.destructive and "AWS::KMS::Key" in STATEFUL_TYPES


def _plan(*specs: StackSpec) -> Plan:
    return Plan(TARGET, specs)


def test_graph_orders_and_reverses() -> None:
    plan = _plan(spec("c", depends_on=("b",)), spec("b", depends_on=("a",)), spec("a"), spec("d"))
    order = Graph.for_deploy(plan).order()
    assert order.index("a") < order.index("b") < order.index("c")
    rev = Graph.for_destroy(plan).order()
    assert rev.index("c") < rev.index("b") < rev.index("a")


def test_graph_rejects_cycles_and_unknown_dependencies() -> None:
    with pytest.raises(PlanError, match="cycle"):
        Graph.for_deploy(_plan(spec("a", depends_on=("b",)), spec("b", depends_on=("a",))))
    with pytest.raises(PlanError, match="not in the plan"):
        Graph.for_deploy(_plan(spec("a", depends_on=("zzz",))))


def test_stack_starts_when_its_own_dependencies_are_done_not_in_levels() -> None:
    # a is slow; b is quick and c needs only b: c must start while a is still running.
    plan = _plan(spec("a"), spec("b"), spec("c", depends_on=("b",)), spec("d", depends_on=("a",)))
    release_a = threading.Event()
    c_started = threading.Event()
    seen: list[str] = []

    def work(name: str) -> bool:
        seen.append(name)
        if name == "a":
            # a ends only once c has started; in level batches this would deadlock and time out
            assert c_started.wait(10)
            release_a.set()
        if name == "c":
            c_started.set()
        return True

    results = run_graph(Graph.for_deploy(plan), work, concurrency=4, on_blocked=lambda n, d: None)
    assert release_a.is_set() and all(results.values()) and seen.index("c") < seen.index("d")


def test_failure_blocks_only_downstream_stacks() -> None:
    plan = _plan(spec("a"), spec("b", depends_on=("a",)), spec("c", depends_on=("b",)), spec("x"))
    blocked: list[tuple[str, str]] = []
    results = run_graph(
        Graph.for_deploy(plan), lambda n: n != "a", concurrency=1, on_blocked=lambda n, d: blocked.append((n, d))
    )
    assert results == {"a": False, "x": True, "b": False, "c": False}
    assert blocked == [("b", "a"), ("c", "a")]


def test_concurrency_bound_is_respected() -> None:
    plan = _plan(*(spec(f"s{i}") for i in range(6)))
    lock = threading.Lock()
    running = [0]
    peak = [0]

    def work(name: str) -> bool:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        threading.Event().wait(0.01)
        with lock:
            running[0] -= 1
        return True

    run_graph(Graph.for_deploy(plan), work, concurrency=2, on_blocked=lambda n, d: None)
    assert 1 <= peak[0] <= 2
