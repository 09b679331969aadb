"""deploy()/destroy()/diff() around the engine: account check first, lock held, results and messages."""

from __future__ import annotations

import dataclasses
import io
import json

import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import ANY, Stubber

from dsplatform.deployer import (
    AccountMismatchError,
    DeployOptions,
    JsonReporter,
    Outcome,
    PlainReporter,
    ProtectedTargetError,
    deploy,
    destroy,
    read_outputs,
)
from dsplatform.deployer.clients import ClientFactory
from dsplatform.deployer.destroy import empty_bucket, purge_images
from dsplatform.deployer.errors import DeployFailedError, EndpointUnreachableError
from dsplatform.deployer.lock import LockInfo
from dsplatform.deployer.params import HASH_TAG, content_hash
from dsplatform.stackspec import Plan
from tests.deployer.deployer_stubs import TARGET, spec, stack_desc, stack_id

LOCK = "/dsplatform/locks/dev"


def _identity(stub: Stubber, account: str = "111111111111") -> None:
    stub.add_response(
        "get_caller_identity", {"Account": account, "Arn": f"arn:aws:iam::{account}:user/dev", "UserId": "AID"}, {}
    )


def _lock_cycle(stub: Stubber) -> None:
    stub.add_response(
        "put_parameter", {"Version": 1}, {"Name": LOCK, "Value": ANY, "Type": "String", "Overwrite": False}
    )


MINE = LockInfo("me", "here", 1, "2026-11-22T12:00:00+00:00", 3600, "tok-me")


@pytest.fixture(autouse=True)
def fixed_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Our lock record is known in advance, so the stubbed read-back before release can answer it."""
    monkeypatch.setattr(LockInfo, "mine", classmethod(lambda cls, ttl: MINE))


def _unlock(stub: Stubber) -> None:
    stub.add_response("get_parameter", {"Parameter": {"Name": LOCK, "Value": MINE.to_value()}}, {"Name": LOCK})
    stub.add_response("delete_parameter", {}, {"Name": LOCK})


def test_wrong_account_is_refused_before_anything_is_touched(factory: ClientFactory, sts_stub: Stubber) -> None:
    _identity(sts_stub, account="999999999999")
    with pytest.raises(AccountMismatchError) as err:
        deploy(Plan(TARGET, (spec("ds-dev-a"),)), factory)
    assert "111111111111" in str(err.value) and "999999999999" in str(err.value)


def test_noop_deploy_skips_every_stack_without_taking_the_lock(
    factory: ClientFactory, sts_stub: Stubber, ssm_stub: Stubber, cfn_stub: Stubber
) -> None:
    a = spec("ds-dev-a")
    b = spec("ds-dev-b", depends_on=("ds-dev-a",), parameters_decl={"QueueUrl": {"Type": "String"}})
    _identity(sts_stub)
    cfn_stub.add_response(
        "describe_stacks",
        {
            "Stacks": [
                stack_desc(
                    "ds-dev-a", "CREATE_COMPLETE", tags={HASH_TAG: content_hash(a, {})}, outputs={"QueueUrl": "u"}
                ),
                stack_desc("ds-dev-b", "UPDATE_COMPLETE", tags={HASH_TAG: content_hash(b, {"QueueUrl": "u"})}),
                stack_desc("someone-else", "CREATE_COMPLETE"),
            ]
        },
        {},
    )
    # ssm_stub has nothing queued: any lock call would fail the test
    out = io.StringIO()
    result = deploy(Plan(TARGET, (a, b)), factory, DeployOptions(concurrency=2), JsonReporter(stream=out))
    assert result.ok and [r.outcome for r in result.stacks.values()] == [Outcome.UNCHANGED, Outcome.UNCHANGED]
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert events[0]["event"] == "started" and events[-1] == {**events[-1], "event": "finished", "ok": True}


def test_changed_parameter_from_a_dependency_triggers_an_update(
    factory: ClientFactory, sts_stub: Stubber, ssm_stub: Stubber, cfn_stub: Stubber
) -> None:
    a = spec("ds-dev-a")
    b = spec("ds-dev-b", depends_on=("ds-dev-a",), parameters_decl={"QueueUrl": {"Type": "String"}})
    _identity(sts_stub)
    _lock_cycle(ssm_stub)
    listing = {
        "Stacks": [
            stack_desc(
                "ds-dev-a", "CREATE_COMPLETE", tags={HASH_TAG: content_hash(a, {})}, outputs={"QueueUrl": "new"}
            ),
            stack_desc("ds-dev-b", "CREATE_COMPLETE", tags={HASH_TAG: content_hash(b, {"QueueUrl": "old"})}),
        ]
    }
    cfn_stub.add_response("describe_stacks", listing, {})  # the lock-free no-op check
    cfn_stub.add_response("describe_stacks", listing, {})  # read again under the lock
    cs = "arn:cs/1"
    cfn_stub.add_response(
        "create_change_set",
        {"Id": cs, "StackId": stack_id("ds-dev-b")},
        {
            "StackName": "ds-dev-b",
            "ChangeSetName": ANY,
            "ChangeSetType": "UPDATE",
            "TemplateBody": ANY,
            "Parameters": [{"ParameterKey": "QueueUrl", "ParameterValue": "new"}],
            "Capabilities": ANY,
            "Tags": ANY,
            "Description": ANY,
        },
    )
    cfn_stub.add_response(
        "describe_change_set",
        {"Status": "FAILED", "StatusReason": "No updates are to be performed."},
        {"ChangeSetName": cs, "StackName": "ds-dev-b"},
    )
    cfn_stub.add_response("delete_change_set", {}, {"ChangeSetName": cs, "StackName": stack_id("ds-dev-b")})
    cfn_stub.add_response(
        "describe_stacks", {"Stacks": [stack_desc("ds-dev-b", "CREATE_COMPLETE")]}, {"StackName": ANY}
    )
    _unlock(ssm_stub)
    result = deploy(Plan(TARGET, (a, b)), factory, DeployOptions(concurrency=1, poll_delay=0.0))
    assert result.stacks["ds-dev-b"].outcome is Outcome.NO_CHANGES and result.ok


def test_failure_message_lists_events_and_what_to_run_next(
    factory: ClientFactory, sts_stub: Stubber, ssm_stub: Stubber, cfn_stub: Stubber
) -> None:
    a = spec("ds-dev-a", depends_on=(), parameters_decl={"Missing": {"Type": "String"}})
    b = spec("ds-dev-b", depends_on=("ds-dev-a",))
    _identity(sts_stub)
    _lock_cycle(ssm_stub)
    cfn_stub.add_response("describe_stacks", {"Stacks": []}, {})
    cfn_stub.add_response("describe_stacks", {"Stacks": []}, {})
    _unlock(ssm_stub)
    out = io.StringIO()
    result = deploy(Plan(TARGET, (a, b)), factory, DeployOptions(concurrency=1), PlainReporter(stream=out))
    assert not result.ok
    assert result.stacks["ds-dev-a"].outcome is Outcome.FAILED and result.stacks["ds-dev-b"].outcome is Outcome.BLOCKED
    with pytest.raises(DeployFailedError) as err:
        result.raise_for_failure()
    text = str(err.value)
    assert "ds-dev-a" in text and "Missing" in text and "invoke deploy --env dev" in text
    assert "FAILED" in out.getvalue()


def test_destroy_refuses_a_protected_environment(factory: ClientFactory) -> None:
    prod = TARGET.__class__(**{**TARGET.__dict__, "env": "prod", "protected": True})
    with pytest.raises(ProtectedTargetError, match="prod"):
        destroy(Plan(prod, (spec("ds-prod-a"),)), factory)


def test_empty_bucket_deletes_versions_and_delete_markers(factory: ClientFactory) -> None:
    s3 = factory.client("s3")
    with Stubber(s3) as stub:
        stub.add_response(
            "list_object_versions",
            {
                "Versions": [{"Key": "a.csv", "VersionId": "v1"}, {"Key": "a.csv", "VersionId": "v2"}],
                "DeleteMarkers": [{"Key": "b.csv", "VersionId": "m1"}],
            },
            {"Bucket": "data"},
        )
        stub.add_response(
            "delete_objects",
            {},
            {
                "Bucket": "data",
                "Delete": {
                    "Objects": [
                        {"Key": "a.csv", "VersionId": "v1"},
                        {"Key": "a.csv", "VersionId": "v2"},
                        {"Key": "b.csv", "VersionId": "m1"},
                    ],
                    "Quiet": True,
                },
            },
        )
        assert empty_bucket(s3, "data") == 3
        stub.assert_no_pending_responses()


def test_read_outputs_returns_deployed_stacks_only(factory: ClientFactory, cfn_stub: Stubber) -> None:
    cfn_stub.add_response(
        "describe_stacks", {"Stacks": [stack_desc("ds-dev-a", "CREATE_COMPLETE", outputs={"K": "v"})]}, {}
    )
    plan = Plan(TARGET, (spec("ds-dev-a"), spec("ds-dev-b")))
    assert read_outputs(plan, factory) == {"ds-dev-a": {"K": "v"}}


def test_purge_images_deletes_every_image_in_batches(factory: ClientFactory) -> None:
    ecr = factory.client("ecr")
    ids = [{"imageDigest": f"sha256:{i:064x}"} for i in range(150)]
    with Stubber(ecr) as stub:
        stub.add_response("list_images", {"imageIds": ids}, {"repositoryName": "ds-preprocessing"})
        stub.add_response(
            "batch_delete_image",
            {"imageIds": ids[:100], "failures": []},
            {"repositoryName": "ds-preprocessing", "imageIds": ids[:100]},
        )
        stub.add_response(
            "batch_delete_image",
            {"imageIds": ids[100:], "failures": []},
            {"repositoryName": "ds-preprocessing", "imageIds": ids[100:]},
        )
        assert purge_images(ecr, "ds-preprocessing") == 150
        stub.assert_no_pending_responses()


def test_purge_images_of_a_missing_repository_is_a_no_op(factory: ClientFactory) -> None:
    ecr = factory.client("ecr")
    with Stubber(ecr) as stub:
        stub.add_client_error("list_images", "RepositoryNotFoundException", "gone")
        assert purge_images(ecr, "ds-preprocessing") == 0


def test_unreachable_endpoint_is_one_line_saying_what_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    target = dataclasses.replace(TARGET, endpoint_url="http://127.0.0.1:4601")
    session = boto3.Session(aws_access_key_id="111111111111", aws_secret_access_key="test", region_name="us-east-1")
    factory = ClientFactory(target, session=session)

    def refuse(**_: object) -> None:
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:4601")

    monkeypatch.setattr(factory.client("sts"), "get_caller_identity", refuse)
    with pytest.raises(EndpointUnreachableError) as err:
        factory.verify_account()
    # The hint names the port of the endpoint that did not answer, not LocalStack's default.
    assert "`invoke localstack.start --port 4601`" in str(err.value) and "\n" not in str(err.value)


def test_lost_connection_fails_the_stack_not_the_process(
    factory: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dsplatform.deployer.progress import NullReporter
    from dsplatform.deployer.stack import StackDeployer
    from tests.deployer.deployer_stubs import FAST

    cfn = factory.client("cloudformation")

    def refuse(**_: object) -> None:
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:4566")

    monkeypatch.setattr(cfn, "create_change_set", refuse)
    res = StackDeployer(cfn, TARGET, DeployOptions(), FAST, NullReporter()).deploy(spec("ds-dev-a"), None, {})
    assert res.outcome is Outcome.FAILED and "run the deploy again" in res.reason
