"""Native rollback pins (dsplatform.native) with botocore's Stubber, and the prod confirmation of `rollback`."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from dsplatform.native import ALIAS, ENDPOINT, SERVICE, Pin, capture, restore
from dsplatform.releases import Release
from dsplatform.stackspec import Plan, StackSpec, Target
from dsplatform.workflows.rollback import DATA_NOTE, RollbackAborted, confirm_rollback

TARGET = Target(env="prod", account_id="333333333333", region="us-east-1", kind="aws", protected=True)
TD1 = "arn:aws:ecs:us-east-1:333333333333:task-definition/ds-prod-api:1"
TD2 = "arn:aws:ecs:us-east-1:333333333333:task-definition/ds-prod-api:2"
SERVICE_ARN = "arn:aws:ecs:us-east-1:333333333333:service/ds-prod/ds-prod-api"
ALIAS_ARN = "arn:aws:lambda:us-east-1:333333333333:function:ds-prod-ingest:live"
ENDPOINT_ARN = "arn:aws:sagemaker:us-east-1:333333333333:endpoint/ds-prod-serving"


class Clients:
    """Stubbed boto3 clients by service name (what ClientFactory.client returns)."""

    def __init__(self) -> None:
        self.made = {name: boto3.client(name, region_name="us-east-1", aws_access_key_id="x",
                                        aws_secret_access_key="x")
                     for name in ("cloudformation", "ecs", "lambda", "sagemaker")}
        self.stubs = {name: Stubber(client) for name, client in self.made.items()}

    def client(self, name: str) -> Any:
        return self.made[name]

    def __enter__(self) -> Clients:
        for stub in self.stubs.values():
            stub.activate()
        return self

    def __exit__(self, *exc: object) -> None:
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()
            stub.deactivate()


def _summary(logical: str, kind: str, physical: str) -> dict[str, Any]:
    return {"LogicalResourceId": logical, "PhysicalResourceId": physical, "ResourceType": kind,
            "LastUpdatedTimestamp": "2026-11-30T10:00:00Z", "ResourceStatus": "UPDATE_COMPLETE"}


def _service(td: str) -> dict[str, Any]:
    return {"services": [{"serviceName": "ds-prod-api", "taskDefinition": td}]}


def test_capture_reads_each_service_alias_and_endpoint_of_the_stacks() -> None:
    def template(*kinds: str) -> dict[str, Any]:
        return {"Resources": {f"R{i}": {"Type": kind} for i, kind in enumerate(kinds)}}

    plan = Plan(TARGET, (StackSpec(name="ds-prod-api", component="api", template=template(SERVICE, ENDPOINT)),
                         StackSpec(name="ds-prod-ingest", component="ingest", template=template(ALIAS)),
                         # no service, alias or endpoint: not listed (the stubs would fail on an extra call)
                         StackSpec(name="ds-prod-storage", component="storage", template=template("AWS::S3::Bucket"))))
    with Clients() as clients:
        cfn, ecs, lam, sm = (clients.stubs[n] for n in ("cloudformation", "ecs", "lambda", "sagemaker"))
        cfn.add_response("list_stack_resources", {"StackResourceSummaries": [
            _summary("Service", SERVICE, SERVICE_ARN), _summary("Endpoint", ENDPOINT, ENDPOINT_ARN),
            _summary("Logs", "AWS::Logs::LogGroup", "g")]}, {"StackName": "ds-prod-api"})
        ecs.add_response("describe_services", _service(TD1), {"cluster": "ds-prod", "services": ["ds-prod-api"]})
        sm.add_response("describe_endpoint", {
            "EndpointName": "ds-prod-serving", "EndpointArn": ENDPOINT_ARN, "EndpointConfigName": "cfg-1",
            "EndpointStatus": "InService", "CreationTime": "2026-11-30", "LastModifiedTime": "2026-11-30"},
            {"EndpointName": "ds-prod-serving"})
        cfn.add_response("list_stack_resources", {"StackResourceSummaries": [_summary("LiveAlias", ALIAS, ALIAS_ARN)]},
                         {"StackName": "ds-prod-ingest"})
        lam.add_response("get_alias", {"Name": "live", "FunctionVersion": "3"},
                         {"FunctionName": "ds-prod-ingest", "Name": "live"})
        pins = capture(plan, clients)
    assert pins == (Pin("ds-prod-api", "Service", SERVICE, "ds-prod", "ds-prod-api", TD1),
                    Pin("ds-prod-api", "Endpoint", ENDPOINT, "", "ds-prod-serving", "cfg-1"),
                    Pin("ds-prod-ingest", "LiveAlias", ALIAS, "ds-prod-ingest", "live", "3"))


def test_restore_moves_what_changed_and_skips_what_cannot_run_any_more() -> None:
    pins = (Pin("s", "Service", SERVICE, "ds-prod", "ds-prod-api", TD1),
            Pin("i", "LiveAlias", ALIAS, "ds-prod-ingest", "live", "3"),
            Pin("m", "Endpoint", ENDPOINT, "", "ds-prod-serving", "cfg-1"))
    with Clients() as clients:
        ecs, lam, sm = (clients.stubs[n] for n in ("ecs", "lambda", "sagemaker"))
        ecs.add_response("describe_services", _service(TD2), {"cluster": "ds-prod", "services": ["ds-prod-api"]})
        ecs.add_response("describe_task_definition", {"taskDefinition": {"taskDefinitionArn": TD1,
                                                                          "status": "ACTIVE"}},
                         {"taskDefinition": TD1})
        ecs.add_response("update_service", {"service": {"taskDefinition": TD1}},
                         {"cluster": "ds-prod", "service": "ds-prod-api", "taskDefinition": TD1})
        lam.add_response("get_alias", {"Name": "live", "FunctionVersion": "3"},
                         {"FunctionName": "ds-prod-ingest", "Name": "live"})
        sm.add_response("describe_endpoint", {
            "EndpointName": "ds-prod-serving", "EndpointArn": ENDPOINT_ARN, "EndpointConfigName": "cfg-2",
            "EndpointStatus": "InService", "CreationTime": "2026-11-30", "LastModifiedTime": "2026-11-30"},
            {"EndpointName": "ds-prod-serving"})
        sm.add_client_error("describe_endpoint_config", "ValidationException", "Could not find endpoint config")
        switches = restore(pins, clients, wait=False)
    assert [s.outcome for s in switches] == ["moved", "unchanged", "skipped"]
    assert "cfg-1 no longer exists" in switches[2].describe()


def test_a_deregistered_task_definition_is_left_to_the_change_sets() -> None:
    pin = Pin("s", "Service", SERVICE, "ds-prod", "ds-prod-api", TD1)
    with Clients() as clients:
        ecs = clients.stubs["ecs"]
        ecs.add_response("describe_services", _service(TD2), {"cluster": "ds-prod", "services": ["ds-prod-api"]})
        ecs.add_response("describe_task_definition", {"taskDefinition": {"taskDefinitionArn": TD1,
                                                                          "status": "INACTIVE"}},
                         {"taskDefinition": TD1})
        (switch,) = restore((pin,), clients, wait=False)
    assert switch.outcome == "skipped" and "INACTIVE" in switch.detail


def _release() -> Release:
    return Release(id="r1", env="prod", account_id="333333333333", project="ds", created_at="t", who="me",
                   commit="abc", stacks=())


def test_prod_rollback_needs_yes_or_a_confirmation_that_says_data_stays() -> None:
    asked: list[str] = []

    def no(question: str) -> bool:
        asked.append(question)
        return False

    with pytest.raises(RollbackAborted, match="--yes"):
        confirm_rollback(TARGET, _release(), False, no)
    assert DATA_NOTE in asked[0]
    confirm_rollback(TARGET, _release(), True, no)  # --yes: not asked
    confirm_rollback(TARGET, _release(), False, lambda q: True)
    dev = Target(env="dev", account_id="1" * 12, region="us-east-1", kind="localstack")
    confirm_rollback(dev, _release(), False, no)  # unprotected: never asked
    assert len(asked) == 1


def _endpoint_on(config: str) -> dict[str, Any]:
    return {"EndpointName": "ds-prod-serving", "EndpointArn": ENDPOINT_ARN, "EndpointConfigName": config,
            "EndpointStatus": "InService", "CreationTime": "2026-11-30", "LastModifiedTime": "2026-11-30"}


def _config(name: str, model: str) -> dict[str, Any]:
    return {"EndpointConfigName": name, "EndpointConfigArn": f"{ENDPOINT_ARN}-config/{name}",
            "CreationTime": "2026-11-30", "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": model}]}


def test_an_endpoint_moves_to_its_kept_config_only_while_the_model_it_serves_exists() -> None:
    pin = Pin("m", "Endpoint", ENDPOINT, "", "ds-prod-serving", "cfg-1")
    with Clients() as clients:
        sm = clients.stubs["sagemaker"]
        sm.add_response("describe_endpoint", _endpoint_on("cfg-2"), {"EndpointName": "ds-prod-serving"})
        sm.add_response("describe_endpoint_config", _config("cfg-1", "model-1"), {"EndpointConfigName": "cfg-1"})
        sm.add_response("describe_model", {"ModelName": "model-1", "ModelArn": f"{ENDPOINT_ARN}-model/model-1",
                                           "CreationTime": "2026-11-30"}, {"ModelName": "model-1"})
        sm.add_response("update_endpoint", {"EndpointArn": ENDPOINT_ARN},
                        {"EndpointName": "ds-prod-serving", "EndpointConfigName": "cfg-1"})
        sm.add_response("describe_endpoint", _endpoint_on("cfg-2"), {"EndpointName": "ds-prod-serving"})
        sm.add_response("describe_endpoint_config", _config("cfg-1", "model-1"), {"EndpointConfigName": "cfg-1"})
        sm.add_client_error("describe_model", "ValidationException", "Could not find model",
                            expected_params={"ModelName": "model-1"})
        moved, gone = restore((pin,), clients, wait=False) + restore((pin,), clients, wait=False)
    assert moved.outcome == "moved"
    # a config kept without its model: UpdateEndpoint would accept it and then fail the update
    assert gone.outcome == "skipped" and "model model-1 of endpoint config cfg-1 no longer exists" in gone.detail
