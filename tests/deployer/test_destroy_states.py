"""Destroy per stack state, and the rarer repair paths, answered by botocore's Stubber."""

from __future__ import annotations

import datetime as dt
import json

from botocore.stub import ANY, Stubber

from dsplatform.deployer.clients import ClientFactory
from dsplatform.deployer.destroy import _destroy_stack
from dsplatform.deployer.models import Outcome
from dsplatform.deployer.params import HASH_TAG, content_hash
from dsplatform.deployer.progress import NullReporter
from dsplatform.deployer.stack import StackDeployer
from tests.deployer.deployer_stubs import FAST, spec, stack_desc, stack_id

NAME = "ds-dev-storage"
SID = stack_id(NAME)


def _describe(stub: Stubber, status: str, **kw: object) -> None:
    stub.add_response("describe_stacks", {"Stacks": [stack_desc(NAME, status, **kw)]}, {"StackName": ANY})


def _resources(stub: Stubber, *items: tuple[str, str, str]) -> None:
    summaries = [
        {
            "LogicalResourceId": lid,
            "PhysicalResourceId": pid,
            "ResourceType": rtype,
            "LastUpdatedTimestamp": dt.datetime(2026, 11, 22, tzinfo=dt.UTC),
            "ResourceStatus": "CREATE_COMPLETE",
        }
        for lid, rtype, pid in items
    ]
    stub.add_response("list_stack_resources", {"StackResourceSummaries": summaries}, {"StackName": SID})


def test_absent_stack_is_absent(factory: ClientFactory) -> None:
    res = _destroy_stack(factory, factory.client("cloudformation"), NAME, None, False, FAST, NullReporter())
    assert res.outcome is Outcome.ABSENT


def test_stack_is_deleted_and_data_buckets_are_left_alone(factory: ClientFactory, cfn_stub: Stubber) -> None:
    _resources(cfn_stub, ("Data", "AWS::S3::Bucket", "ds-input-dev"), ("Q", "AWS::SQS::Queue", "q"))
    retained = {"Resources": {"Data": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain"}}}
    cfn_stub.add_response("get_template", {"TemplateBody": json.dumps(retained)},
                          {"StackName": SID, "TemplateStage": "Original"})
    cfn_stub.add_response("delete_stack", {}, {"StackName": SID})
    _describe(cfn_stub, "DELETE_IN_PROGRESS")
    _describe(cfn_stub, "DELETE_COMPLETE")
    _describe(cfn_stub, "DELETE_COMPLETE")
    cfn = factory.client("cloudformation")
    # No S3 stub is active: any call to empty or delete the bucket would go unanswered and fail.
    res = _destroy_stack(factory, cfn, NAME, stack_desc(NAME, "UPDATE_COMPLETE"), False, FAST, NullReporter())
    assert res.outcome is Outcome.DELETED


def test_stack_in_progress_is_waited_for_before_delete(factory: ClientFactory, cfn_stub: Stubber) -> None:
    _describe(cfn_stub, "UPDATE_IN_PROGRESS")
    _describe(cfn_stub, "UPDATE_COMPLETE")
    _resources(cfn_stub)
    cfn_stub.add_response("delete_stack", {}, {"StackName": SID})
    _describe(cfn_stub, "DELETE_COMPLETE")
    _describe(cfn_stub, "DELETE_COMPLETE")
    cfn = factory.client("cloudformation")
    res = _destroy_stack(factory, cfn, NAME, stack_desc(NAME, "UPDATE_IN_PROGRESS"), False, FAST, NullReporter())
    assert res.outcome is Outcome.DELETED


def test_termination_protected_stack_is_not_deleted(factory: ClientFactory, cfn_stub: Stubber) -> None:
    cfn = factory.client("cloudformation")
    current = stack_desc(NAME, "CREATE_COMPLETE", protected=True)
    res = _destroy_stack(factory, cfn, NAME, current, False, FAST, NullReporter())
    assert res.outcome is Outcome.FAILED and "termination protection" in res.reason


def test_delete_failed_is_reported_with_events(factory: ClientFactory, cfn_stub: Stubber) -> None:
    _resources(cfn_stub)
    cfn_stub.add_response("delete_stack", {}, {"StackName": SID})
    _describe(cfn_stub, "DELETE_FAILED")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    cfn_stub.add_response(
        "describe_stack_events",
        {
            "StackEvents": [
                {
                    "StackId": SID,
                    "EventId": "e1",
                    "StackName": NAME,
                    "LogicalResourceId": "Data",
                    "ResourceType": "AWS::S3::Bucket",
                    "Timestamp": later,
                    "ResourceStatus": "DELETE_FAILED",
                    "ResourceStatusReason": "The bucket you tried to delete is not empty",
                }
            ]
        },
        {"StackName": SID},
    )
    cfn = factory.client("cloudformation")
    res = _destroy_stack(factory, cfn, NAME, stack_desc(NAME, "CREATE_COMPLETE"), False, FAST, NullReporter())
    assert res.outcome is Outcome.FAILED and "not empty" in res.reason and res.status == "DELETE_FAILED"


def test_update_failed_without_rollback_is_rolled_back(engine: StackDeployer, cfn_stub: Stubber) -> None:
    digest = content_hash(spec(NAME), {})
    cfn_stub.add_response("rollback_stack", {"StackId": SID}, {"StackName": SID})
    _describe(cfn_stub, "UPDATE_ROLLBACK_COMPLETE", tags={HASH_TAG: digest})
    res = engine.deploy(spec(NAME), stack_desc(NAME, "UPDATE_FAILED"), {})
    assert res.outcome is Outcome.UNCHANGED


def test_review_stack_that_owns_resources_is_left_for_a_human(engine: StackDeployer, cfn_stub: Stubber) -> None:
    _resources(cfn_stub, ("Q", "AWS::SQS::Queue", "q"))
    res = engine.deploy(spec(NAME), stack_desc(NAME, "REVIEW_IN_PROGRESS"), {})
    assert res.outcome is Outcome.FAILED and "owns resources" in res.reason


def test_failed_create_whose_delete_fails_is_deleted_again_keeping_never_created_resources(
    engine: StackDeployer, cfn_stub: Stubber
) -> None:
    cfn_stub.add_response("delete_stack", {}, {"StackName": SID})
    _describe(cfn_stub, "DELETE_FAILED")
    when = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
    events = [
        {
            "StackId": SID,
            "EventId": "e2",
            "StackName": NAME,
            "LogicalResourceId": "Bucket",
            "ResourceType": "AWS::S3::Bucket",
            "Timestamp": when,
            "ResourceStatus": "CREATE_FAILED",
        },
        {
            "StackId": SID,
            "EventId": "e1",
            "StackName": NAME,
            "LogicalResourceId": "Q",
            "ResourceType": "AWS::SQS::Queue",
            "Timestamp": when,
            "ResourceStatus": "CREATE_COMPLETE",
        },
    ]
    cfn_stub.add_response("describe_stack_events", {"StackEvents": events}, {"StackName": SID})
    summaries = [
        {
            "LogicalResourceId": lid,
            "ResourceType": "AWS::S3::Bucket",
            "LastUpdatedTimestamp": when,
            "ResourceStatus": "DELETE_FAILED",
        }
        for lid in ("Bucket", "Q")
    ]
    cfn_stub.add_response("list_stack_resources", {"StackResourceSummaries": summaries}, {"StackName": SID})
    # Only the bucket that never existed is kept out; the queue that was created must really go.
    cfn_stub.add_response("delete_stack", {}, {"StackName": SID, "RetainResources": ["Bucket"]})
    _describe(cfn_stub, "DELETE_COMPLETE")
    _describe(cfn_stub, "DELETE_COMPLETE")
    cfn_stub.add_response(
        "create_change_set",
        {"Id": "cs", "StackId": SID},
        {
            "StackName": NAME,
            "ChangeSetName": ANY,
            "ChangeSetType": "CREATE",
            "TemplateBody": ANY,
            "Parameters": ANY,
            "Capabilities": ANY,
            "Tags": ANY,
            "Description": ANY,
        },
    )
    cfn_stub.add_response(
        "describe_change_set", {"Status": "CREATE_COMPLETE", "Changes": []}, {"ChangeSetName": "cs", "StackName": NAME}
    )
    cfn_stub.add_response("execute_change_set", {}, {"ChangeSetName": "cs", "StackName": SID})
    _describe(cfn_stub, "CREATE_COMPLETE")
    res = engine.deploy(spec(NAME), stack_desc(NAME, "ROLLBACK_COMPLETE"), {})
    assert res.outcome is Outcome.CREATED


def test_keep_images_retains_the_repository_that_failed_its_delete(factory: ClientFactory, cfn_stub: Stubber) -> None:
    """As on AWS: a repository with images fails the delete; the second delete keeps it out (RetainResources)."""
    _resources(cfn_stub, ("Repository", "AWS::ECR::Repository", "ds-preprocessing"))
    cfn_stub.add_response("delete_stack", {}, {"StackName": SID})
    _describe(cfn_stub, "DELETE_FAILED")
    _resources(cfn_stub, ("Repository", "AWS::ECR::Repository", "ds-preprocessing"))
    cfn_stub.add_response("delete_stack", {}, {"StackName": SID, "RetainResources": ["Repository"]})
    _describe(cfn_stub, "DELETE_COMPLETE")
    _describe(cfn_stub, "DELETE_COMPLETE")
    cfn = factory.client("cloudformation")
    # No ECR stub is active: purging the images would go unanswered and fail.
    res = _destroy_stack(factory, cfn, NAME, stack_desc(NAME, "UPDATE_COMPLETE"), False, FAST, NullReporter(),
                         keep_images=True)
    assert res.outcome is Outcome.DELETED
    cfn_stub.assert_no_pending_responses()
