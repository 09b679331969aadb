"""Waiting for ECS services after a stack update, and reporting their events (botocore Stubber)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from dsplatform.deployer.clients import ClientFactory
from dsplatform.deployer.events import StackEvent
from dsplatform.deployer.services import (
    SERVICE_EVENT,
    ServiceUnstableError,
    cluster_of,
    failed_service_events,
    wait_stable,
)
from dsplatform.deployer.waiters import Polling
from tests.deployer.deployer_stubs import NOW, stack_id

STACK = "ds-dev-api"
ARN = "arn:aws:ecs:us-east-1:111111111111:service/ds-dev/ds-dev-api"
SINCE = NOW - dt.timedelta(seconds=1)
QUICK = Polling(delay=0.01, max_wait=0.03)  # three waiter attempts, 10 ms apart


@pytest.fixture
def ecs_stub(factory: ClientFactory) -> Iterator[Stubber]:
    """Stubber on the factory's ECS client."""
    with Stubber(factory.client("ecs")) as stub:
        yield stub
        stub.assert_no_pending_responses()


def _resources(cfn_stub: Stubber) -> None:
    cfn_stub.add_response(
        "list_stack_resources",
        {
            "StackResourceSummaries": [
                {
                    "LogicalResourceId": "Service",
                    "PhysicalResourceId": ARN,
                    "ResourceType": "AWS::ECS::Service",
                    "LastUpdatedTimestamp": NOW,
                    "ResourceStatus": "UPDATE_COMPLETE",
                },
                {
                    "LogicalResourceId": "Queue",
                    "PhysicalResourceId": "q",
                    "ResourceType": "AWS::SQS::Queue",
                    "LastUpdatedTimestamp": NOW,
                    "ResourceStatus": "CREATE_COMPLETE",
                },
            ]
        },
        {"StackName": stack_id(STACK)},
    )


def _service(deployments: list[dict[str, Any]], running: int, messages: list[str]) -> dict[str, Any]:
    return {
        "serviceArn": ARN,
        "serviceName": "ds-dev-api",
        "status": "ACTIVE",
        "desiredCount": 2,
        "runningCount": running,
        "deployments": deployments,
        "events": [
            {"id": str(i), "createdAt": NOW + dt.timedelta(seconds=len(messages) - i), "message": m}
            for i, m in enumerate(messages)  # newest first, as ECS lists them
        ],
    }


def _describe(ecs_stub: Stubber, service: dict[str, Any]) -> None:
    ecs_stub.add_response("describe_services", {"services": [service]}, {"cluster": "ds-dev", "services": [ARN]})


def _deployment(state: str, reason: str = "", task_definition: str = "td:2") -> dict[str, Any]:
    return {
        "id": f"ecs-svc/{state}",
        "status": "PRIMARY",
        "taskDefinition": task_definition,
        "rolloutState": state,
        "rolloutStateReason": reason,
    }


def test_cluster_comes_from_the_long_arn_and_defaults_for_the_short_one() -> None:
    assert cluster_of(ARN) == "ds-dev"
    assert cluster_of("arn:aws:ecs:us-east-1:111111111111:service/old-style") == "default"


def test_waits_until_one_deployment_runs_the_desired_count(
    factory: ClientFactory, cfn_stub: Stubber, ecs_stub: Stubber
) -> None:
    _resources(cfn_stub)
    rolling = [_deployment("IN_PROGRESS"), {**_deployment("COMPLETED", task_definition="td:1"), "status": "ACTIVE"}]
    _describe(ecs_stub, _service(rolling, 3, []))  # the waiter's first look: two deployments
    done = _service([_deployment("COMPLETED")], 2, ["(service ds-dev-api) has reached a steady state."])
    _describe(ecs_stub, done)  # stable
    _describe(ecs_stub, done)  # the rollout check
    wait_stable(
        factory.client("cloudformation"), factory.client("ecs"), STACK, stack_id(STACK), ["Service"], QUICK, SINCE
    )


def test_a_service_that_never_settles_fails_with_its_events(
    factory: ClientFactory, cfn_stub: Stubber, ecs_stub: Stubber
) -> None:
    _resources(cfn_stub)
    messages = [
        "(service ds-dev-api) (task 1) (port 8080) is unhealthy in (target-group tg) due to (reason Health checks "
        "failed with these codes: [503]).",
        "(service ds-dev-api) has started 1 tasks: (task 1).",
    ]
    stuck = _service([_deployment("IN_PROGRESS"), {**_deployment("COMPLETED"), "status": "ACTIVE"}], 2, messages)
    for _ in range(3):
        _describe(ecs_stub, stuck)
    _describe(ecs_stub, stuck)  # the events for the report
    with pytest.raises(ServiceUnstableError) as caught:
        wait_stable(
            factory.client("cloudformation"), factory.client("ecs"), STACK, stack_id(STACK), ["Service"], QUICK, SINCE
        )
    err = caught.value
    assert err.service == ARN and "not stable after" in err.reason
    assert [e.reason for e in err.events] == messages[::-1]  # oldest first
    assert "is unhealthy in (target-group tg)" in str(err)


def test_a_service_stable_only_after_the_circuit_breaker_rolled_back_is_a_failure(
    factory: ClientFactory, cfn_stub: Stubber, ecs_stub: Stubber
) -> None:
    _resources(cfn_stub)
    messages = [
        "(service ds-dev-api) has reached a steady state.",
        "(service ds-dev-api) rolling back to deployment ecs-svc/2.",
        "(service ds-dev-api) (deployment ecs-svc/1) deployment failed: tasks failed to start.",
    ]
    back = _service([_deployment("COMPLETED", task_definition="td:1")], 2, messages)
    _describe(ecs_stub, back)
    _describe(ecs_stub, back)
    with pytest.raises(ServiceUnstableError, match="rolled back") as caught:
        wait_stable(
            factory.client("cloudformation"), factory.client("ecs"), STACK, stack_id(STACK), ["Service"], QUICK, SINCE
        )
    assert caught.value.events[0].status == SERVICE_EVENT
    assert caught.value.events[-1].reason.endswith("has reached a steady state.")


def test_a_failed_rollout_state_is_reported_with_its_reason(
    factory: ClientFactory, cfn_stub: Stubber, ecs_stub: Stubber
) -> None:
    _resources(cfn_stub)
    failed = _service([_deployment("FAILED", "ECS deployment circuit breaker: tasks failed to start.")], 2, [])
    _describe(ecs_stub, failed)
    _describe(ecs_stub, failed)
    with pytest.raises(ServiceUnstableError, match="circuit breaker: tasks failed to start"):
        wait_stable(
            factory.client("cloudformation"), factory.client("ecs"), STACK, stack_id(STACK), ["Service"], QUICK, SINCE
        )


def test_a_failed_stack_update_carries_the_failed_services_events(
    factory: ClientFactory, cfn_stub: Stubber, ecs_stub: Stubber
) -> None:
    failure = StackEvent(
        NOW,
        "Service",
        "AWS::ECS::Service",
        "UPDATE_FAILED",
        "Error occurred during operation 'ECS Deployment Circuit Breaker was triggered'.",
    )
    _resources(cfn_stub)
    old = {"id": "old", "createdAt": NOW - dt.timedelta(hours=1), "message": "(service ds-dev-api) old news"}
    service = _service([_deployment("COMPLETED")], 2, ["(service ds-dev-api) rolling back to deployment x."])
    service["events"].append(old)
    _describe(ecs_stub, service)
    events = failed_service_events(
        factory.client("cloudformation"), factory.client("ecs"), stack_id(STACK), [failure], SINCE
    )
    assert [e.reason for e in events] == ["(service ds-dev-api) rolling back to deployment x."]  # not older ones
    assert (
        failed_service_events(factory.client("cloudformation"), factory.client("ecs"), stack_id(STACK), [], SINCE) == []
    )


def test_a_stack_update_that_changes_a_service_waits_for_it_and_fails_on_a_rollback(
    factory: ClientFactory, cfn_stub: Stubber, ecs_stub: Stubber
) -> None:
    from botocore.stub import ANY

    from dsplatform.deployer.models import DeployOptions, Outcome
    from dsplatform.deployer.progress import NullReporter
    from dsplatform.deployer.stack import StackDeployer
    from tests.deployer.deployer_stubs import FAST, TARGET, spec, stack_desc

    cs_id = f"arn:aws:cloudformation:us-east-1:111111111111:changeSet/dsplatform-1/{STACK}"
    cfn_stub.add_response(
        "create_change_set",
        {"Id": cs_id, "StackId": stack_id(STACK)},
        {
            "StackName": STACK,
            "ChangeSetName": ANY,
            "ChangeSetType": "UPDATE",
            "TemplateBody": ANY,
            "Parameters": ANY,
            "Capabilities": ANY,
            "Tags": ANY,
            "Description": ANY,
        },
    )
    change = {
        "Action": "Modify",
        "LogicalResourceId": "Service",
        "ResourceType": "AWS::ECS::Service",
        "Replacement": "False",
    }
    cfn_stub.add_response(
        "describe_change_set",
        {"Status": "CREATE_COMPLETE", "Changes": [{"Type": "Resource", "ResourceChange": change}]},
        {"ChangeSetName": cs_id, "StackName": STACK},
    )
    cfn_stub.add_response("execute_change_set", {}, {"ChangeSetName": cs_id, "StackName": stack_id(STACK)})
    cfn_stub.add_response("describe_stacks", {"Stacks": [stack_desc(STACK, "UPDATE_COMPLETE")]}, {"StackName": ANY})
    _resources(cfn_stub)
    messages = [
        "(service ds-dev-api) has reached a steady state.",
        "(service ds-dev-api) (deployment ecs-svc/1) deployment failed: tasks failed to start.",
    ]
    back = _service([_deployment("COMPLETED", task_definition="td:1")], 2, messages)
    for e in back["events"]:  # this run's events happen after the deploy starts
        e["createdAt"] = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    _describe(ecs_stub, back)
    _describe(ecs_stub, back)
    engine = StackDeployer(
        factory.client("cloudformation"), TARGET, DeployOptions(), FAST, NullReporter(), ecs=factory.client("ecs")
    )
    template = {"Resources": {"Service": {"Type": "AWS::ECS::Service"}}}
    res = engine.deploy(spec(STACK, resources=template["Resources"]), stack_desc(STACK, "UPDATE_COMPLETE"), {})
    assert res.outcome is Outcome.FAILED and "rolled back" in (res.reason or "")
    assert {e.reason for e in res.events} == set(messages)
