"""Every state transition of one stack's deploy, answered by botocore's Stubber."""

from __future__ import annotations

import datetime as dt
from typing import Any

from botocore.stub import ANY, Stubber

from dsplatform.deployer.models import DeployOptions, Outcome
from dsplatform.deployer.params import HASH_TAG, content_hash
from dsplatform.deployer.stack import StackDeployer
from dsplatform.stackspec import StackSpec
from tests.deployer.deployer_stubs import NOW, TARGET, spec, stack_desc, stack_id

NAME = "ds-dev-storage"
SID = stack_id(NAME)
CS_ID = f"arn:aws:cloudformation:us-east-1:111111111111:changeSet/dsplatform-1/{NAME}"


def _describe(stub: Stubber, status: str, name: str = NAME, **kw: Any) -> None:
    stub.add_response("describe_stacks", {"Stacks": [stack_desc(name, status, **kw)]}, {"StackName": ANY})


def _create_change_set(stub: Stubber, change_type: str) -> None:
    expected = {
        "StackName": NAME,
        "ChangeSetName": ANY,
        "ChangeSetType": change_type,
        "TemplateBody": ANY,
        "Parameters": ANY,
        "Capabilities": ANY,
        "Tags": ANY,
        "Description": ANY,
    }
    stub.add_response("create_change_set", {"Id": CS_ID, "StackId": SID}, expected)


def _change_set_ready(stub: Stubber, changes: list[dict[str, Any]]) -> None:
    # One answer: the waiter's last DescribeChangeSet is also the (only) page of changes.
    stub.add_response(
        "describe_change_set",
        {"Status": "CREATE_COMPLETE", "Changes": [{"Type": "Resource", "ResourceChange": c} for c in changes]},
        {"ChangeSetName": CS_ID, "StackName": NAME},
    )


def _execute(stub: Stubber) -> None:
    stub.add_response("execute_change_set", {}, {"ChangeSetName": CS_ID, "StackName": SID})


ADD_QUEUE = {"Action": "Add", "LogicalResourceId": "Queue", "ResourceType": "AWS::SQS::Queue"}


def _digest(protect: bool = False) -> str:
    return content_hash(spec(NAME), {}, protect)


def test_absent_stack_is_created_through_a_change_set(engine: StackDeployer, cfn_stub: Stubber) -> None:
    _create_change_set(cfn_stub, "CREATE")
    _change_set_ready(cfn_stub, [ADD_QUEUE])
    _execute(cfn_stub)
    _describe(cfn_stub, "CREATE_IN_PROGRESS")  # waiter: still moving
    _describe(cfn_stub, "CREATE_COMPLETE", outputs={"QueueUrl": "http://q"})  # waiter: settled, read as is
    res = engine.deploy(spec(NAME), None, {})
    assert res.outcome is Outcome.CREATED and res.status == "CREATE_COMPLETE"
    assert res.outputs == {"QueueUrl": "http://q"} and [c.logical_id for c in res.changes] == ["Queue"]


def test_outputs_stored_after_the_status_are_waited_for(engine: StackDeployer, cfn_stub: Stubber) -> None:
    # LocalStack sets CREATE_COMPLETE a moment before it stores the outputs.
    s = StackSpec(
        NAME,
        "storage",
        {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}, "Outputs": {"QueueUrl": {"Value": {"Ref": "Queue"}}}},
    )
    _create_change_set(cfn_stub, "CREATE")
    _change_set_ready(cfn_stub, [ADD_QUEUE])
    _execute(cfn_stub)
    _describe(cfn_stub, "CREATE_COMPLETE")
    _describe(cfn_stub, "CREATE_COMPLETE")
    _describe(cfn_stub, "CREATE_COMPLETE", outputs={"QueueUrl": "http://q"})
    assert engine.deploy(s, None, {}).outputs == {"QueueUrl": "http://q"}


def test_change_set_of_several_pages_is_read_to_the_end(engine: StackDeployer, cfn_stub: Stubber) -> None:
    second = {"Action": "Add", "LogicalResourceId": "Topic", "ResourceType": "AWS::SNS::Topic"}
    _create_change_set(cfn_stub, "CREATE")
    cfn_stub.add_response(
        "describe_change_set",
        {
            "Status": "CREATE_COMPLETE",
            "NextToken": "p2",
            "Changes": [{"Type": "Resource", "ResourceChange": ADD_QUEUE}],
        },
        {"ChangeSetName": CS_ID, "StackName": NAME},
    )
    cfn_stub.add_response(
        "describe_change_set",
        {
            "Status": "CREATE_COMPLETE",
            "NextToken": "p2",
            "Changes": [{"Type": "Resource", "ResourceChange": ADD_QUEUE}],
        },
        {"ChangeSetName": CS_ID, "StackName": SID},
    )
    cfn_stub.add_response(
        "describe_change_set",
        {"Status": "CREATE_COMPLETE", "Changes": [{"Type": "Resource", "ResourceChange": second}]},
        {"ChangeSetName": CS_ID, "StackName": SID, "NextToken": "p2"},
    )
    _execute(cfn_stub)
    _describe(cfn_stub, "CREATE_COMPLETE")
    res = engine.deploy(spec(NAME), None, {})
    assert [c.logical_id for c in res.changes] == ["Queue", "Topic"]


def test_equal_hash_and_stable_status_skips_without_any_call(engine: StackDeployer, cfn_stub: Stubber) -> None:
    current = stack_desc(NAME, "UPDATE_COMPLETE", tags={HASH_TAG: _digest()}, outputs={"K": "v"})
    res = engine.deploy(spec(NAME), current, {})
    assert res.outcome is Outcome.UNCHANGED and res.outputs == {"K": "v"}


def test_no_changes_change_set_is_an_outcome_not_an_error(engine: StackDeployer, cfn_stub: Stubber) -> None:
    current = stack_desc(NAME, "CREATE_COMPLETE", tags={HASH_TAG: "old"})
    _create_change_set(cfn_stub, "UPDATE")
    cfn_stub.add_response(
        "describe_change_set",
        {
            "Status": "FAILED",
            "StatusReason": (
                "The submitted information didn't contain changes. Submit different information to create a change set."
            ),
        },
        {"ChangeSetName": CS_ID, "StackName": NAME},
    )
    cfn_stub.add_response("delete_change_set", {}, {"ChangeSetName": CS_ID, "StackName": SID})
    _describe(cfn_stub, "CREATE_COMPLETE")
    res = engine.deploy(spec(NAME), current, {})
    assert res.outcome is Outcome.NO_CHANGES and res.ok


def test_failed_change_set_reports_its_reason(engine: StackDeployer, cfn_stub: Stubber) -> None:
    current = stack_desc(NAME, "CREATE_COMPLETE", tags={HASH_TAG: "old"})
    _create_change_set(cfn_stub, "UPDATE")
    cfn_stub.add_response(
        "describe_change_set",
        {"Status": "FAILED", "StatusReason": "Template format error: bad"},
        {"ChangeSetName": CS_ID, "StackName": NAME},
    )
    cfn_stub.add_response("delete_change_set", {}, {"ChangeSetName": CS_ID, "StackName": SID})
    res = engine.deploy(spec(NAME), current, {})
    assert res.outcome is Outcome.FAILED and "Template format error" in res.reason


def test_rollback_complete_is_deleted_then_created(engine: StackDeployer, cfn_stub: Stubber) -> None:
    current = stack_desc(NAME, "ROLLBACK_COMPLETE")
    cfn_stub.add_response("delete_stack", {}, {"StackName": SID})
    _describe(cfn_stub, "DELETE_IN_PROGRESS")
    _describe(cfn_stub, "DELETE_COMPLETE")
    _describe(cfn_stub, "DELETE_COMPLETE")
    _create_change_set(cfn_stub, "CREATE")
    _change_set_ready(cfn_stub, [ADD_QUEUE])
    _execute(cfn_stub)
    _describe(cfn_stub, "CREATE_COMPLETE")
    assert engine.deploy(spec(NAME), current, {}).outcome is Outcome.CREATED


def test_stuck_update_rollback_is_continued(engine: StackDeployer, cfn_stub: Stubber) -> None:
    current = stack_desc(NAME, "UPDATE_ROLLBACK_FAILED", tags={HASH_TAG: _digest()})
    cfn_stub.add_response("continue_update_rollback", {}, {"StackName": SID})
    _describe(cfn_stub, "UPDATE_ROLLBACK_IN_PROGRESS")
    _describe(cfn_stub, "UPDATE_ROLLBACK_COMPLETE", tags={HASH_TAG: _digest()})
    res = engine.deploy(spec(NAME), current, {})
    assert res.outcome is Outcome.UNCHANGED and res.status == "UPDATE_ROLLBACK_COMPLETE"


def test_rollback_that_fails_again_is_reported_with_events(engine: StackDeployer, cfn_stub: Stubber) -> None:
    current = stack_desc(NAME, "UPDATE_ROLLBACK_FAILED")
    cfn_stub.add_response("continue_update_rollback", {}, {"StackName": SID})
    _describe(cfn_stub, "UPDATE_ROLLBACK_FAILED")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    cfn_stub.add_response(
        "describe_stack_events",
        {
            "StackEvents": [
                _event("Bucket", "AWS::S3::Bucket", "UPDATE_FAILED", "bucket is not empty", later),
            ]
        },
        {"StackName": SID},
    )
    res = engine.deploy(spec(NAME), current, {})
    assert res.outcome is Outcome.FAILED and "bucket is not empty" in res.reason and len(res.events) == 1


def test_empty_review_in_progress_stack_is_cleaned_up(engine: StackDeployer, cfn_stub: Stubber) -> None:
    current = stack_desc(NAME, "REVIEW_IN_PROGRESS")
    cfn_stub.add_response("list_stack_resources", {"StackResourceSummaries": []}, {"StackName": SID})
    cfn_stub.add_response("delete_stack", {}, {"StackName": SID})
    cfn_stub.add_client_error("describe_stacks", "ValidationError", "Stack with id x does not exist")
    cfn_stub.add_client_error("describe_stacks", "ValidationError", "Stack with id x does not exist")
    _create_change_set(cfn_stub, "CREATE")
    _change_set_ready(cfn_stub, [ADD_QUEUE])
    _execute(cfn_stub)
    _describe(cfn_stub, "CREATE_COMPLETE")
    assert engine.deploy(spec(NAME), current, {}).outcome is Outcome.CREATED


def test_stack_in_progress_from_an_earlier_run_is_waited_for(engine: StackDeployer, cfn_stub: Stubber) -> None:
    current = stack_desc(NAME, "CREATE_IN_PROGRESS")
    _describe(cfn_stub, "CREATE_IN_PROGRESS")
    _describe(cfn_stub, "CREATE_COMPLETE", tags={HASH_TAG: _digest()})
    assert engine.deploy(spec(NAME), current, {}).outcome is Outcome.UNCHANGED


def _event(lid: str, rtype: str, status: str, reason: str, when: dt.datetime) -> dict[str, Any]:
    return {
        "StackId": SID,
        "EventId": f"{lid}-{status}",
        "StackName": NAME,
        "LogicalResourceId": lid,
        "ResourceType": rtype,
        "Timestamp": when,
        "ResourceStatus": status,
        "ResourceStatusReason": reason,
    }


def test_failed_execution_reports_failing_events_in_time_order(engine: StackDeployer, cfn_stub: Stubber) -> None:
    _create_change_set(cfn_stub, "CREATE")
    _change_set_ready(cfn_stub, [ADD_QUEUE])
    _execute(cfn_stub)
    _describe(cfn_stub, "ROLLBACK_IN_PROGRESS")
    _describe(cfn_stub, "ROLLBACK_COMPLETE")
    t = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=10)
    newest_first = [
        _event(NAME, "AWS::CloudFormation::Stack", "ROLLBACK_COMPLETE", "", t + dt.timedelta(seconds=3)),
        _event("Other", "AWS::SQS::Queue", "CREATE_FAILED", "Resource creation cancelled", t + dt.timedelta(seconds=2)),
        _event("Queue", "AWS::SQS::Queue", "CREATE_FAILED", "QueueName too long", t + dt.timedelta(seconds=1)),
        _event(NAME, "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS", "User Initiated", t),
        _event("Old", "AWS::SQS::Queue", "CREATE_FAILED", "from last week", NOW - dt.timedelta(days=7)),
    ]
    cfn_stub.add_response("describe_stack_events", {"StackEvents": newest_first}, {"StackName": SID})
    res = engine.deploy(spec(NAME), None, {})
    assert res.outcome is Outcome.FAILED and res.status == "ROLLBACK_COMPLETE"
    assert [e.logical_id for e in res.events] == ["Queue"]
    assert res.reason == "Queue: QueueName too long"


BUCKET_REPLACED = {
    "Action": "Modify",
    "LogicalResourceId": "InputBucket",
    "ResourceType": "AWS::S3::Bucket",
    "Replacement": "True",
    "Details": [{"Target": {"Attribute": "Properties", "Name": "BucketName"}}],
}


def test_stateful_replacement_is_refused_without_allow_replace(engine: StackDeployer, cfn_stub: Stubber) -> None:
    current = stack_desc(NAME, "UPDATE_COMPLETE", tags={HASH_TAG: "old"})
    _create_change_set(cfn_stub, "UPDATE")
    _change_set_ready(cfn_stub, [BUCKET_REPLACED])
    cfn_stub.add_response("delete_change_set", {}, {"ChangeSetName": CS_ID, "StackName": SID})
    _describe(cfn_stub, "UPDATE_COMPLETE")
    res = engine.deploy(spec(NAME), current, {})
    assert res.outcome is Outcome.REFUSED and f"--allow-replace {NAME}/InputBucket" in res.reason


def test_stateful_replacement_named_in_allow_replace_goes_ahead(factory: Any, cfn_stub: Stubber) -> None:
    from dsplatform.deployer.progress import NullReporter
    from tests.deployer.deployer_stubs import FAST

    allowed = StackDeployer(
        factory.client("cloudformation"), TARGET, DeployOptions(allow_replace=("InputBucket",)), FAST, NullReporter()
    )
    current = stack_desc(NAME, "UPDATE_COMPLETE", tags={HASH_TAG: "old"})
    _create_change_set(cfn_stub, "UPDATE")
    _change_set_ready(cfn_stub, [BUCKET_REPLACED])
    _execute(cfn_stub)
    _describe(cfn_stub, "UPDATE_COMPLETE")
    assert allowed.deploy(spec(NAME), current, {}).outcome is Outcome.UPDATED


def test_protected_target_turns_on_termination_protection(factory: Any, cfn_stub: Stubber) -> None:
    from dsplatform.deployer.progress import NullReporter
    from tests.deployer.deployer_stubs import FAST

    prod = TARGET.__class__(**{**TARGET.__dict__, "env": "prod", "protected": True})
    eng = StackDeployer(factory.client("cloudformation"), prod, DeployOptions(), FAST, NullReporter())
    current = stack_desc(NAME, "CREATE_COMPLETE", tags={HASH_TAG: _digest(protect=True)}, protected=False)
    cfn_stub.add_response(
        "update_termination_protection", {"StackId": SID}, {"StackName": SID, "EnableTerminationProtection": True}
    )
    assert eng.deploy(spec(NAME), current, {}).outcome is Outcome.UNCHANGED


def test_delete_failed_stack_is_not_touched(engine: StackDeployer, cfn_stub: Stubber) -> None:
    current = stack_desc(NAME, "DELETE_FAILED")
    cfn_stub.add_response("describe_stack_events", {"StackEvents": []}, {"StackName": SID})
    res = engine.deploy(spec(NAME), current, {})
    assert res.outcome is Outcome.FAILED and "invoke destroy" in res.reason


def test_missing_parameter_fails_the_stack_with_a_clear_reason(engine: StackDeployer, cfn_stub: Stubber) -> None:
    s = spec(NAME, depends_on=("ds-dev-registry",), parameters_decl={"RepositoryUri": {"Type": "String"}})
    res = engine.deploy(s, None, {"ds-dev-registry": {}})
    assert res.outcome is Outcome.FAILED and "RepositoryUri" in res.reason


def test_rollback_triggers_go_with_updates_only(engine: StackDeployer, cfn_stub: Stubber) -> None:
    triggers = {"RollbackTriggers": [{"Arn": "arn:aws:cloudwatch:us-east-1:111111111111:alarm:a",
                                      "Type": "AWS::CloudWatch::Alarm"}], "MonitoringTimeInMinutes": 2}
    engine.rollback = triggers
    current = stack_desc(NAME, "CREATE_COMPLETE", tags={HASH_TAG: "old"})
    expected = {"StackName": NAME, "ChangeSetName": ANY, "ChangeSetType": "UPDATE", "TemplateBody": ANY,
                "Parameters": ANY, "Capabilities": ANY, "Tags": ANY, "Description": ANY,
                "RollbackConfiguration": triggers}
    cfn_stub.add_response("create_change_set", {"Id": CS_ID, "StackId": SID}, expected)
    cfn_stub.add_response("describe_change_set", {"Status": "FAILED", "StatusReason": "Template format error: bad"},
                          {"ChangeSetName": CS_ID, "StackName": NAME})
    cfn_stub.add_response("delete_change_set", {}, {"ChangeSetName": CS_ID, "StackName": SID})
    engine.deploy(spec(NAME), current, {})
    cfn_stub.assert_no_pending_responses()
    _create_change_set(cfn_stub, "CREATE")  # a create never carries them (its alarms may not exist yet)
    _change_set_ready(cfn_stub, [ADD_QUEUE])
    _execute(cfn_stub)
    _describe(cfn_stub, "CREATE_COMPLETE")
    assert engine.deploy(spec(NAME), None, {}).outcome is Outcome.CREATED


def test_an_aws_target_deploys_through_the_bootstrap_execution_role(factory: Any, cfn_stub: Stubber) -> None:
    """CloudFormation acts as the execution role (its scope), not as the caller."""
    from dataclasses import replace

    from dsplatform.deployer.progress import NullReporter
    from tests.deployer.deployer_stubs import FAST

    role = "arn:aws:iam::111111111111:role/ds-cfn-exec-us-east-1"
    engine = StackDeployer(factory.client("cloudformation"), replace(TARGET, execution_role_arn=role), DeployOptions(),
                           FAST, NullReporter())
    cfn_stub.add_response("create_change_set", {"Id": CS_ID, "StackId": SID}, {
        "StackName": NAME, "ChangeSetName": ANY, "ChangeSetType": "CREATE", "TemplateBody": ANY, "Parameters": ANY,
        "Capabilities": ANY, "Tags": ANY, "Description": ANY, "RoleARN": role})
    _change_set_ready(cfn_stub, [ADD_QUEUE])
    _execute(cfn_stub)
    _describe(cfn_stub, "CREATE_COMPLETE")
    assert engine.deploy(spec(NAME), None, {}).outcome is Outcome.CREATED
