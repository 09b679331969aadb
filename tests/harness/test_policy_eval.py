"""The IAM policy evaluator follows AWS's documented evaluation rules (each case from the IAM User Guide)."""

from __future__ import annotations

import pytest

from harness.policy_eval import Decision, UnsupportedPolicyError, evaluate, glob_match, parse_document

BUCKET = "arn:aws:s3:::data"


def _doc(*statements):
    return parse_document({"Version": "2012-10-17", "Statement": list(statements)}, "test")


def _allow(action, resource, **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def test_no_statement_is_an_implicit_deny():
    assert evaluate([], "s3:GetObject", f"{BUCKET}/k") is Decision.IMPLICIT_DENY


def test_explicit_deny_wins_over_any_allow():
    statements = _doc(_allow("s3:*", "*"), {"Effect": "Deny", "Action": "s3:PutObject", "Resource": f"{BUCKET}/*"})
    assert evaluate(statements, "s3:PutObject", f"{BUCKET}/k") is Decision.EXPLICIT_DENY
    assert evaluate(statements, "s3:GetObject", f"{BUCKET}/k") is Decision.ALLOWED


@pytest.mark.parametrize(("pattern", "value", "ignore_case", "expected"), [
    ("s3:Get*", "s3:GetObjectVersion", True, True),
    ("s3:Get*", "S3:getobject", True, True),
    ("s3:Get?bject", "s3:GetObject", True, True),
    ("s3:Get?bject", "s3:GetObjects", True, False),
    ("arn:aws:s3:::data/*", "arn:aws:s3:::data", False, False),  # the bucket is not one of its objects
    ("arn:aws:s3:::data/*", "arn:aws:s3:::data/a/b.csv", False, True),
    ("arn:aws:s3:::Data/*", "arn:aws:s3:::data/x", False, False),  # resources are case-sensitive
    ("arn:aws:s3:::d[a]ta", "arn:aws:s3:::data", False, False),  # brackets are literal in IAM, unlike fnmatch
    ("arn:aws:s3:::d[a]ta", "arn:aws:s3:::d[a]ta", False, True),
])
def test_wildcards_are_iams_star_and_question_mark_only(pattern, value, ignore_case, expected):
    assert glob_match(pattern, value, ignore_case) is expected


def test_not_action_and_not_resource_match_everything_else():
    statements = _doc({"Effect": "Allow", "NotAction": "iam:*", "NotResource": f"{BUCKET}/secret/*"})
    assert evaluate(statements, "s3:GetObject", f"{BUCKET}/k") is Decision.ALLOWED
    assert evaluate(statements, "iam:PassRole", f"{BUCKET}/k") is Decision.IMPLICIT_DENY
    assert evaluate(statements, "s3:GetObject", f"{BUCKET}/secret/k") is Decision.IMPLICIT_DENY


def test_condition_must_hold_and_a_missing_key_fails_a_positive_operator():
    sns = "sns.us-east-1.amazonaws.com"
    statements = _doc(_allow("kms:Decrypt", "*", Condition={"StringEquals": {"kms:ViaService": sns}}))
    assert evaluate(statements, "kms:Decrypt", "k", {"kms:ViaService": sns}) is Decision.ALLOWED
    assert evaluate(statements, "kms:Decrypt", "k", {"kms:ViaService": "s3.us-east-1.amazonaws.com"}) is (
        Decision.IMPLICIT_DENY)
    assert evaluate(statements, "kms:Decrypt", "k", {}) is Decision.IMPLICIT_DENY


def test_values_of_one_key_are_or_and_operators_and_keys_are_and():
    cond = {"StringEquals": {"aws:SourceAccount": ["111111111111", "222222222222"]},
            "Bool": {"aws:SecureTransport": "true"}}
    statements = _doc(_allow("s3:GetObject", "*", Condition=cond))
    ok = {"aws:SourceAccount": "222222222222", "aws:SecureTransport": True}
    assert evaluate(statements, "s3:GetObject", "x", ok) is Decision.ALLOWED
    assert evaluate(statements, "s3:GetObject", "x", {**ok, "aws:SecureTransport": False}) is Decision.IMPLICIT_DENY
    assert evaluate(statements, "s3:GetObject", "x", {**ok, "aws:SourceAccount": "3"}) is Decision.IMPLICIT_DENY


def test_condition_keys_are_case_insensitive():
    statements = _doc(_allow("s3:GetObject", "*", Condition={"Bool": {"aws:SecureTransport": "true"}}))
    assert evaluate(statements, "s3:GetObject", "x", {"AWS:securetransport": "true"}) is Decision.ALLOWED


def test_deny_unless_tls_is_the_bucket_policy_pattern():
    statements = _doc(_allow("s3:GetObject", "*"),
                      {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
                       "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
    assert evaluate(statements, "s3:GetObject", "x", {"aws:SecureTransport": False}) is Decision.EXPLICIT_DENY
    assert evaluate(statements, "s3:GetObject", "x", {"aws:SecureTransport": True}) is Decision.ALLOWED


def test_negated_operators_and_if_exists_hold_when_the_key_is_missing():
    negated = _doc(_allow("s3:GetObject", "*", Condition={"StringNotEquals": {"aws:PrincipalAccount": "1"}}))
    assert evaluate(negated, "s3:GetObject", "x", {}) is Decision.ALLOWED
    assert evaluate(negated, "s3:GetObject", "x", {"aws:PrincipalAccount": "1"}) is Decision.IMPLICIT_DENY
    if_exists = _doc(_allow("s3:GetObject", "*", Condition={"StringEqualsIfExists": {"s3:prefix": "raw/"}}))
    assert evaluate(if_exists, "s3:GetObject", "x", {}) is Decision.ALLOWED
    assert evaluate(if_exists, "s3:GetObject", "x", {"s3:prefix": "other/"}) is Decision.IMPLICIT_DENY


def test_null_tests_presence():
    statements = _doc(_allow("s3:GetObject", "*", Condition={"Null": {"aws:TokenIssueTime": "true"}}))
    assert evaluate(statements, "s3:GetObject", "x", {}) is Decision.ALLOWED
    assert evaluate(statements, "s3:GetObject", "x", {"aws:TokenIssueTime": "2026"}) is Decision.IMPLICIT_DENY


@pytest.mark.parametrize(("operator", "pattern", "value", "expected"), [
    ("StringLike", "raw/*", "raw/2026/x.csv", True),
    ("StringLike", "raw/*", "processed/x", False),
    ("ArnLike", "arn:aws:iam::*:role/ds-*", "arn:aws:iam::111111111111:role/ds-task", True),
    ("ArnLike", "arn:aws:iam::*:role/ds-*", "arn:aws:iam::111111111111:user/ds-task", False),
    ("ArnEquals", "arn:aws:sns:us-east-1:1:t", "arn:aws:sns:us-east-1:1:t", True),
    ("NumericLessThan", "10", "9", True),
    ("NumericLessThan", "10", "10", False),
    ("DateGreaterThan", "2026-01-01T00:00:00Z", "2026-06-01T00:00:00Z", True),
    ("IpAddress", "10.0.0.0/16", "10.0.3.4", True),
    ("NotIpAddress", "10.0.0.0/16", "10.0.3.4", False),
])
def test_operators(operator, pattern, value, expected):
    statements = _doc(_allow("s3:GetObject", "*", Condition={operator: {"k": pattern}}))
    decision = evaluate(statements, "s3:GetObject", "x", {"k": value})
    assert (decision is Decision.ALLOWED) is expected


def test_multivalued_keys_with_set_qualifiers():
    any_of = _doc(_allow("s3:GetObject", "*", Condition={"ForAnyValue:StringEquals": {"tags": ["a", "b"]}}))
    all_of = _doc(_allow("s3:GetObject", "*", Condition={"ForAllValues:StringEquals": {"tags": ["a", "b"]}}))
    assert evaluate(any_of, "s3:GetObject", "x", {"tags": ["c", "b"]}) is Decision.ALLOWED
    assert evaluate(all_of, "s3:GetObject", "x", {"tags": ["c", "b"]}) is Decision.IMPLICIT_DENY
    assert evaluate(all_of, "s3:GetObject", "x", {"tags": ["a", "b"]}) is Decision.ALLOWED
    assert evaluate(any_of, "s3:GetObject", "x", {}) is Decision.IMPLICIT_DENY


def test_what_it_cannot_evaluate_raises_instead_of_guessing():
    unknown = _doc(_allow("s3:GetObject", "*", Condition={"StringMagic": {"k": "v"}}))
    with pytest.raises(UnsupportedPolicyError, match="StringMagic"):
        evaluate(unknown, "s3:GetObject", "x", {"k": "v"})
    variable = _doc(_allow("s3:GetObject", "arn:aws:s3:::home/${aws:username}/*"))
    with pytest.raises(UnsupportedPolicyError, match="policy variables"):
        evaluate(variable, "s3:GetObject", "arn:aws:s3:::home/bob/x")


def test_single_statement_documents_and_string_actions_parse():
    statements = parse_document({"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": BUCKET}})
    assert evaluate(statements, "s3:GetObject", BUCKET) is Decision.ALLOWED
