"""Requirements (StackSpec.requires): a stack is not created while what its tasks need is absent."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from botocore.stub import Stubber

from dsplatform.deployer import deploy
from dsplatform.deployer.clients import ClientFactory
from dsplatform.deployer.requirements import RequirementMissingError, missing_requirements
from dsplatform.stackspec import Plan, Requirement
from tests.deployer.deployer_stubs import TARGET, spec, stack_desc

MODEL = Requirement("the model", "art", "models/m.pkl", "run `invoke model.train --env dev`")


@pytest.fixture
def s3_stub(factory: ClientFactory) -> Iterator[Stubber]:
    """Stubber on the factory's S3 client."""
    with Stubber(factory.client("s3")) as stub:
        yield stub
        stub.assert_no_pending_responses()


def _needing(name: str = "ds-dev-api") -> Plan:
    return Plan(TARGET, (spec("ds-dev-a"), dataclasses.replace(spec(name, depends_on=("ds-dev-a",)),
                                                               requires=(MODEL,))))


def test_deploy_refuses_to_create_a_stack_whose_requirement_is_absent(
    factory: ClientFactory, sts_stub: Stubber, cfn_stub: Stubber, s3_stub: Stubber
) -> None:
    sts_stub.add_response("get_caller_identity", {"Account": "111111111111", "Arn": "arn:aws:iam::1:user/d",
                                                  "UserId": "A"}, {})
    cfn_stub.add_response("describe_stacks", {"Stacks": []}, {})
    s3_stub.add_client_error("head_object", "404", http_status_code=404,
                             expected_params={"Bucket": "art", "Key": "models/m.pkl"})
    # no lock call (ssm) and no create call (cfn) is queued: either would fail the test
    with pytest.raises(RequirementMissingError) as err:
        deploy(_needing(), factory)
    message = str(err.value)
    assert err.value.exit_code == 2 and "\n" not in message
    assert "ds-dev-api needs the model at s3://art/models/m.pkl" in message and "invoke model.train" in message


def test_an_existing_stack_or_a_present_object_is_not_in_the_way(factory: ClientFactory, s3_stub: Stubber) -> None:
    existing = {"ds-dev-api": stack_desc("ds-dev-api", "UPDATE_COMPLETE")}
    assert missing_requirements(_needing(), factory, existing) == []  # no S3 call for an update
    s3_stub.add_response("head_object", {}, {"Bucket": "art", "Key": "models/m.pkl"})
    assert missing_requirements(_needing(), factory, {}) == []
    s3_stub.add_client_error("head_object", "403", http_status_code=403)  # another env's bucket: cannot tell
    assert missing_requirements(_needing(), factory, {}) == []
    s3_stub.add_client_error("head_object", "NoSuchBucket", http_status_code=404)
    failed = {"ds-dev-api": stack_desc("ds-dev-api", "ROLLBACK_COMPLETE")}  # a failed create is created again
    assert missing_requirements(_needing(), factory, failed) == [("ds-dev-api", MODEL)]


def test_plan_before_keeps_what_the_named_stacks_do_not_reach() -> None:
    plan = Plan(TARGET, (spec("ds-dev-a"), spec("ds-dev-b", depends_on=("ds-dev-a",)),
                         spec("ds-dev-c", depends_on=("ds-dev-b",)), spec("ds-dev-d")))
    before = plan.before({"ds-dev-b"})
    assert before is not None and [s.name for s in before.stacks] == ["ds-dev-a", "ds-dev-d"]
    assert plan.before({s.name for s in plan.stacks}) is None
