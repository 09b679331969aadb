"""AWS::IAM::OIDCProvider through CloudFormation on LocalStack (the extension's provider): created, updated in
place, read back through IAM, Ref and GetAtt Arn as on AWS, deleted; a property AWS refuses fails the stack."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.localstack.support import ACCOUNT, unique

pytestmark = pytest.mark.localstack
WAITER = {"Delay": 1, "MaxAttempts": 60}
PRINT = "6938fd4d98bab03faadb97b34396831e3780aea1"


def _template(url: str, client_ids: list[str], thumbprints: list[str], tags: dict[str, str]) -> str:
    return json.dumps({
        "Resources": {"Provider": {"Type": "AWS::IAM::OIDCProvider", "Properties": {
            "Url": url, "ClientIdList": client_ids, "ThumbprintList": thumbprints,
            "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}}},
        "Outputs": {"Ref": {"Value": {"Ref": "Provider"}}, "Arn": {"Value": {"Fn::GetAtt": ["Provider", "Arn"]}}}})


def _outputs(cfn: Any, name: str) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName=name)["Stacks"][0]["Outputs"]}


def _reasons(cfn: Any, name: str) -> list[str]:
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    return [e.get("ResourceStatusReason") or "" for e in events if e["LogicalResourceId"] == "Provider"]


@contextlib.contextmanager
def _stack(cfn: Any, name: str, body: str) -> Iterator[None]:
    """Create the stack; delete it and wait, whatever the test found."""
    cfn.create_stack(StackName=name, TemplateBody=body)
    try:
        yield
    finally:
        cfn.delete_stack(StackName=name)
        cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=WAITER)


def _host() -> str:
    return f"oidc-{uuid.uuid4().hex[:8]}.example.com"  # one issuer per test: an account holds one per URL


def test_provider_is_created_updated_in_place_read_back_and_deleted(localstack: Any) -> None:
    cfn, iam = localstack.client("cloudformation", ACCOUNT), localstack.client("iam", ACCOUNT)
    name, host = unique("oidc"), _host()
    arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{host}"
    with _stack(cfn, name, _template(f"https://{host}", ["sts.amazonaws.com"], [PRINT], {"team": "ds"})):
        cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=WAITER)
        assert _outputs(cfn, name) == {"Ref": arn, "Arn": arn}
        created = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        assert (created["Url"], created["ClientIDList"], created["ThumbprintList"]) == (
            host, ["sts.amazonaws.com"], [PRINT])
        assert created["Tags"] == [{"Key": "team", "Value": "ds"}]

        cfn.update_stack(StackName=name, TemplateBody=_template(
            f"https://{host}", ["sts.amazonaws.com", "ci.example.com"], [PRINT, "f" * 40], {"team": "ml"}))
        cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=WAITER)
        assert _outputs(cfn, name) == {"Ref": arn, "Arn": arn}  # in place: the same provider
        updated = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        assert sorted(updated["ClientIDList"]) == ["ci.example.com", "sts.amazonaws.com"]
        assert updated["ThumbprintList"] == [PRINT, "f" * 40]
        assert updated["Tags"] == [{"Key": "team", "Value": "ml"}]
        assert updated["CreateDate"] == created["CreateDate"]
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)


@pytest.mark.parametrize(("url", "thumbprints", "reason"), [
    ("http://{host}", [PRINT], "Url 'http://{host}' is not valid: it must be the issuer's URL beginning with https://"),
    ("https://{host}", [PRINT[:-2] + "zz"], f"ThumbprintList entry '{PRINT[:-2]}zz' is not valid"),
    ("https://{host}", [PRINT] * 6, "ThumbprintList has 6 entries"),
])
def test_a_property_aws_refuses_fails_the_stack_with_the_reason(localstack: Any, url: str, thumbprints: list[str],
                                                                 reason: str) -> None:
    cfn, iam = localstack.client("cloudformation", ACCOUNT), localstack.client("iam", ACCOUNT)
    name, host = unique("oidc-bad"), _host()
    with _stack(cfn, name, _template(url.format(host=host), ["sts.amazonaws.com"], thumbprints, {})):
        with pytest.raises(Exception, match=r"ROLLBACK_COMPLETE|failure state"):
            cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=WAITER)
        assert any(reason.format(host=host) in r for r in _reasons(cfn, name)), _reasons(cfn, name)
        arns = [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
        assert not [a for a in arns if a.endswith(host)]  # nothing was created


def test_a_refused_update_fails_and_leaves_the_provider_as_it_was(localstack: Any) -> None:
    cfn, iam = localstack.client("cloudformation", ACCOUNT), localstack.client("iam", ACCOUNT)
    name, host = unique("oidc-upd"), _host()
    with _stack(cfn, name, _template(f"https://{host}", ["sts.amazonaws.com"], [PRINT], {})):
        cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=WAITER)
        arn = _outputs(cfn, name)["Arn"]
        cfn.update_stack(StackName=name, TemplateBody=_template(f"https://{host}", ["sts.amazonaws.com", "more"],
                                                                [PRINT] * 6, {}))
        with pytest.raises(Exception, match=r"UPDATE_ROLLBACK_COMPLETE|failure state"):
            cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=WAITER)
        assert any("ThumbprintList has 6 entries" in r for r in _reasons(cfn, name)), _reasons(cfn, name)
        kept = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        assert (kept["ClientIDList"], kept["ThumbprintList"]) == (["sts.amazonaws.com"], [PRINT])  # nothing applied


def test_deleting_a_stack_whose_provider_is_already_gone_succeeds(localstack: Any) -> None:
    cfn, iam = localstack.client("cloudformation", ACCOUNT), localstack.client("iam", ACCOUNT)
    name, host = unique("oidc-gone"), _host()
    stack_id = cfn.create_stack(StackName=name, TemplateBody=_template(f"https://{host}", ["sts.amazonaws.com"], [],
                                                                       {}))["StackId"]
    cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=WAITER)
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=_outputs(cfn, name)["Arn"])
    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack_id, WaiterConfig=WAITER)
    assert cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"
    # The engine marks the stack DELETE_COMPLETE even when a resource's delete failed: the resource's event says.
    statuses = [e["ResourceStatus"] for e in cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
                if e["LogicalResourceId"] == "Provider"]
    assert statuses[0] == "DELETE_COMPLETE" and "DELETE_FAILED" not in statuses, statuses
