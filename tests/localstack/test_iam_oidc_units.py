"""The extension's AWS::IAM::OIDCProvider rules without LocalStack: what AWS refuses, and the update's IAM calls."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "localstack" / "extension"))

from dsplatform_localstack.cfn.iam_oidc_props import create_request, problem, update_calls

GITHUB = "https://token.actions.githubusercontent.com"
PRINT = "6938fd4d98bab03faadb97b34396831e3780aea1"


@pytest.mark.parametrize("model", [
    {"Url": GITHUB},  # no thumbprint: optional on AWS today
    {"Url": GITHUB, "ClientIdList": ["sts.amazonaws.com"] * 100, "ThumbprintList": [PRINT.upper()] * 5},
])
def test_what_aws_accepts_passes(model: dict[str, Any]) -> None:
    assert problem(model) is None


@pytest.mark.parametrize(("model", "named"), [
    ({}, "Url is required: give the issuer's URL beginning with https://"),
    ({"Url": "http://token.actions.githubusercontent.com"}, "Url 'http://token.actions.githubusercontent.com'"),
    ({"Url": "https://"}, "Url 'https://' is not valid"),
    ({"Url": "https://" + "a" * 248}, "is 256 characters long; at most 255"),
    ({"Url": GITHUB, "ThumbprintList": [PRINT] * 6}, "ThumbprintList has 6 entries"),
    ({"Url": GITHUB, "ThumbprintList": [PRINT[:-1] + "g"]}, f"ThumbprintList entry '{PRINT[:-1]}g' is not valid"),
    ({"Url": GITHUB, "ThumbprintList": [PRINT + "0"]}, "40 hexadecimal characters"),
    ({"Url": GITHUB, "ClientIdList": ["a"] * 101}, "ClientIdList has 101 entries; at most 100"),
    ({"Url": GITHUB, "ClientIdList": [""]}, "ClientIdList entry '' is not valid"),
])
def test_what_aws_refuses_is_named_with_its_value(model: dict[str, Any], named: str) -> None:
    reason = problem(model)
    assert reason is not None and named in reason and "\n" not in reason


def test_create_request_carries_every_property() -> None:
    model = {"Url": GITHUB, "ClientIdList": ["sts.amazonaws.com"], "ThumbprintList": [PRINT],
             "Tags": [{"Key": "team", "Value": "ds"}]}
    assert create_request(model) == {"Url": GITHUB, "ClientIDList": ["sts.amazonaws.com"], "ThumbprintList": [PRINT],
                                     "Tags": [{"Key": "team", "Value": "ds"}]}
    assert create_request({"Url": GITHUB}) == {"Url": GITHUB, "ClientIDList": []}


def test_an_update_adds_before_it_removes_and_touches_only_what_changed() -> None:
    previous = {"Url": GITHUB, "ClientIdList": ["a", "b"], "ThumbprintList": [PRINT],
                "Tags": [{"Key": "keep", "Value": "1"}, {"Key": "gone", "Value": "x"}, {"Key": "moved", "Value": "1"}]}
    desired = {"Url": GITHUB, "ClientIdList": ["b", "c"], "ThumbprintList": [PRINT],
               "Tags": [{"Key": "keep", "Value": "1"}, {"Key": "moved", "Value": "2"}, {"Key": "new", "Value": "n"}]}
    assert update_calls(previous, desired) == [
        ("add_client_id_to_open_id_connect_provider", {"ClientID": "c"}),
        ("remove_client_id_from_open_id_connect_provider", {"ClientID": "a"}),
        ("untag_open_id_connect_provider", {"TagKeys": ["gone"]}),
        ("tag_open_id_connect_provider", {"Tags": [{"Key": "moved", "Value": "2"}, {"Key": "new", "Value": "n"}]}),
    ]
    assert update_calls(desired, desired) == []
    assert update_calls(previous, {**previous, "ThumbprintList": []}) == [
        ("update_open_id_connect_provider_thumbprint", {"ThumbprintList": []})]
