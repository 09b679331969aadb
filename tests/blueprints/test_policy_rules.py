"""The lint policy rules catch what they claim to catch (each rule shown failing on a bad template)."""

from __future__ import annotations

import copy

import pytest

from blueprints import alerts, compute, orchestration, storage
from dsplatform.lint import check_policies

BASE_STORAGE = storage.build(storage.StorageProps("b-in", "b-out", "b-art")).to_dict()
BASE_COMPUTE = compute.build(compute.ComputeProps("c", "f", "n", "/l", "/p/")).to_dict()
BASE_ALERTS = alerts.build(alerts.AlertsProps("t")).to_dict()
BASE_ORCHESTRATION = orchestration.build(orchestration.OrchestrationProps("sm", "n")).to_dict()


def rules(template):
    return sorted({f.rule for f in check_policies("s", template)})


def test_clean_templates_pass():
    assert rules(BASE_STORAGE) == [] and rules(BASE_COMPUTE) == []
    assert rules(BASE_ALERTS) == [] and rules(BASE_ORCHESTRATION) == []


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


def test_unencrypted_topic_is_refused():
    template = copy.deepcopy(BASE_ALERTS)
    template["Resources"]["AlertTopic"]["Properties"].pop("KmsMasterKeyId")
    assert rules(template) == ["DSP030"]


def _logging(template):
    return template["Resources"]["StateMachine"]["Properties"]["LoggingConfiguration"]


@pytest.mark.parametrize(("mutate", "says"), [
    (lambda t: t["Resources"]["StateMachine"]["Properties"].pop("LoggingConfiguration"), "no LoggingConfiguration"),
    (lambda t: _logging(t).update(Level="OFF"), "Level 'OFF'"),
    (lambda t: _logging(t).update(Destinations=[]), "no CloudWatchLogsLogGroup destination"),
    (lambda t: _logging(t).update(IncludeExecutionData=True), "IncludeExecutionData is true"),
])
def test_state_machine_without_safe_logging_is_refused(mutate, says):
    template = copy.deepcopy(BASE_ORCHESTRATION)
    mutate(template)
    found = check_policies("s", template)
    assert [f.rule for f in found] == ["DSP031"] and says in found[0].message, found


def test_log_delivery_actions_are_the_only_unscoped_ones_of_the_state_machine_role():
    template = copy.deepcopy(BASE_ORCHESTRATION)
    statements = template["Resources"]["StateMachineRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    delivery = next(st for st in statements if st["Sid"] == "DeliverLogs")
    assert delivery["Resource"] == ["*"] and all("Delivery" in a or a.startswith("logs:") for a in delivery["Action"])
    delivery["Action"].append("sns:Publish")  # a scoped action slipped into the unscoped statement
    assert rules(template) == ["DSP011"]
