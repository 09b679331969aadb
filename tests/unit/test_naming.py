"""Naming: every physical name comes from one place and breaks no AWS rule."""

from __future__ import annotations

import pytest

from dsplatform.errors import NamingError
from dsplatform.naming import Names, check_bucket_name


def names(env="dev", account="111111111111", region="us-east-1", qualify=False):
    return Names("ds", env, account, region, qualify)


def test_seed_names():
    n = names()
    assert n.input_bucket == "ds-input-dev-111111111111-us-east-1"
    assert n.output_bucket == "ds-output-dev-111111111111-us-east-1"
    assert n.artifact_bucket == "ds-artifacts-dev-111111111111-us-east-1"
    assert n.repository("preprocessing") == "ds-preprocessing"
    assert n.cluster == "ds-processing-cluster"
    assert n.state_machine("preprocessing") == "ds-preprocessing-pipeline"
    assert n.log_group("preprocessing") == "/ecs/ds-preprocessing"
    assert n.ssm_prefix("preprocessing") == "/ds/preprocessing/"
    assert n.stack("storage") == "ds-dev-storage"


def test_every_job_gets_its_own_names_with_the_project_prefix():
    ml = Names("ml", "qa", "111111111111", "us-east-1", False)
    assert ml.repository("enrich") == "ml-enrich"
    assert ml.task_family("enrich") == "ml-enrich"
    assert ml.ssm_prefix("enrich") == "/ml/enrich/"
    assert ml.repository("enrich") != ml.repository("preprocessing")
    assert Names("ml", "qa", "111111111111", "us-east-1", True).repository("enrich") == "ml-enrich-qa"


def test_lock_parameter_names_the_project():
    assert Names("ml", "dev", "1" * 12, "us-east-1", False).lock_parameter != names().lock_parameter


def test_shared_account_names_carry_the_environment():
    dev, stg = names("dev", qualify=True), names("stg", qualify=True)
    assert dev.cluster != stg.cluster
    for method in ("repository", "state_machine", "log_group", "ssm_prefix", "alert_topic", "schedule_rule",
                   "dashboard", "task_family"):
        assert getattr(dev, method)("preprocessing") != getattr(stg, method)("preprocessing"), method
    assert dev.log_group("preprocessing") == "/ecs/ds-preprocessing-dev"
    assert dev.ssm_prefix("preprocessing") == "/ds/dev/preprocessing/"


@pytest.mark.parametrize("bad", [
    "ab", "a" * 64, "UPPER-case", "-leading", "trailing-", "double..dot", "dot.-dash", "192.168.1.1",
    "xn--punycode", "bucket-s3alias", "under_score",
])
def test_bucket_rules(bad):
    with pytest.raises(NamingError) as info:
        check_bucket_name(bad)
    assert repr(bad) in str(info.value)


def test_longest_region_fits_bucket_limit():
    n = names(env="staging99", region="ap-southeast-4")
    assert len(n.artifact_bucket) <= 63


def test_config_limits_keep_every_bucket_name_legal():
    # project names are at most 10 characters and environment names at most 10 (config validation),
    # so the longest bucket name stays within S3's 63.
    n = Names("d" * 10, "e" * 10, "111111111111", "ap-southeast-4", False)
    assert len(n.artifact_bucket) == 59


def test_too_long_bucket_is_refused_with_its_length():
    with pytest.raises(NamingError, match="3-63 characters long, is 64"):
        check_bucket_name("b" * 64)


def test_state_machine_limit_is_enforced():
    n = Names("d" * 10, "e" * 70, "111111111111", "us-east-1", True)
    with pytest.raises(NamingError, match="state machine"):
        _ = n.state_machine("preprocessing")


def test_a_bucket_name_too_long_names_the_config_fields_that_made_it():

    # The config's own bounds (project.name <= 10, environment <= 10) keep every bucket <= 60 characters;
    # Names built directly by another repo can still go over.
    names = Names(project="analyticsteamx", env="experiment", account_id="111111111111", region="us-isof-south-1",
                  qualify=False)
    with pytest.raises(NamingError) as err:
        _ = names.artifact_bucket
    message = str(err.value)
    assert "is 64 characters, over AWS's 63" in message
    assert "project.name 'analyticsteamx' (14)" in message and "environment name 'experiment' (10)" in message
    assert "shorten project.name or the environment name by 1" in message and "\n" not in message
