"""The lint policy rules catch what they claim to catch (each rule shown failing on a bad template)."""

from __future__ import annotations

import copy

import pytest

from blueprints import compute, storage
from dsplatform.lint import check_policies

BASE_STORAGE = storage.build(storage.StorageProps("b-in", "b-out", "b-art")).to_dict()
BASE_COMPUTE = compute.build(compute.ComputeProps("c", "f", "n", "/l", "/p/")).to_dict()


def rules(template):
    return sorted({f.rule for f in check_policies("s", template)})


def test_clean_templates_pass():
    assert rules(BASE_STORAGE) == [] and rules(BASE_COMPUTE) == []


@pytest.mark.parametrize(("mutate", "rule"), [
    (lambda t: t["Resources"]["InputBucket"]["Properties"].pop("BucketEncryption"), "DSP001"),
    (lambda t: t["Resources"]["InputBucket"]["Properties"]["PublicAccessBlockConfiguration"].update(
        BlockPublicPolicy=False), "DSP002"),
    (lambda t: t["Resources"]["OutputBucket"]["Properties"]["PublicAccessBlockConfiguration"].pop(
        "RestrictPublicBuckets"), "DSP002"),  # a missing key, not only a false one
    (lambda t: t["Resources"]["ArtifactBucket"]["Properties"].pop("PublicAccessBlockConfiguration"), "DSP002"),
    (lambda t: t["Resources"].pop("InputBucketPolicy"), "DSP003"),
    (lambda t: t["Resources"]["InputBucket"].pop("DeletionPolicy"), "DSP004"),
])
def test_bucket_rules_fail_on_bad_buckets(mutate, rule):
    template = copy.deepcopy(BASE_STORAGE)
    mutate(template)
    assert rules(template) == [rule]


def _task_statements(template):
    return template["Resources"]["TaskRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]


def test_wildcard_action_is_refused():
    template = copy.deepcopy(BASE_COMPUTE)
    _task_statements(template)[0]["Action"] = ["s3:Get*"]
    assert rules(template) == ["DSP010"]


def test_wildcard_action_in_a_later_statement_is_refused():
    template = copy.deepcopy(BASE_COMPUTE)
    _task_statements(template)[-1]["Action"] = ["ssm:*"]
    assert rules(template) == ["DSP010"]


def test_star_resource_for_scoped_action_is_refused():
    template = copy.deepcopy(BASE_COMPUTE)
    _task_statements(template)[0]["Resource"] = ["*"]
    assert rules(template) == ["DSP011"]


def test_log_group_without_retention_is_refused():
    template = copy.deepcopy(BASE_COMPUTE)
    template["Resources"]["LogGroup"]["Properties"].pop("RetentionInDays")
    assert rules(template) == ["DSP020"]
