"""Configuration: the repo's file loads; every bad value is reported on one line naming key and value."""

from __future__ import annotations

import textwrap

import pytest

from dsplatform.config import load_config, parse_config
from dsplatform.errors import ConfigError

GOOD = """
environments:
  dev: {account_id: "111111111111", region: us-east-1, target: localstack}
  stg: {account_id: "222222222222", region: us-east-1}
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(textwrap.dedent(text), source="cfg.yml")
    return info.value.problems


def test_repository_config_loads_with_three_environments():
    config = load_config()
    assert sorted(config.environments) == ["dev", "prod", "stg"]
    assert config.environment("prod").is_protected
    assert config.environment("dev").settings.compute.cpu == 1024  # override
    assert config.environment("stg").settings.compute.cpu == 2048  # default
    assert config.environment("prod").settings.parameters.artifacts_from == "stg"


def test_defaults_merge_under_overrides():
    config = parse_config("""
defaults: {compute: {cpu: 1024, memory: 2048}, logs: {retention_days: 14}}
environments:
  dev: {account_id: "111111111111", settings: {compute: {memory: 3072}}}
""")
    env = config.environment("dev")
    assert (env.settings.compute.cpu, env.settings.compute.memory, env.settings.logs.retention_days) == (1024, 3072, 14)


def test_target_override_keeps_the_account():
    config = parse_config(GOOD)
    rehearsal = config.environment("stg", target="localstack")
    assert rehearsal.target == "localstack" and rehearsal.account_id == "222222222222"
    assert config.environment("stg").target == "aws"  # the original is untouched (frozen)


def test_bad_target_override_is_a_config_error():
    with pytest.raises(ConfigError, match="--target: 'docker'"):
        parse_config(GOOD).environment("dev", target="docker")


def test_config_is_frozen():
    env = parse_config(GOOD).environment("dev")
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises ValidationError for frozen models
        env.region = "eu-west-1"  # type: ignore[misc]


def test_shared_account_without_explicit_qualify_names_is_an_error_naming_both():
    # Inferring qualify_names would rename the existing environment's resources the day another one joins.
    problems = problems_of("""
environments:
  dev: {account_id: "111111111111"}
  stg: {account_id: "111111111111", qualify_names: true}
  prod: {account_id: "333333333333"}
""")
    assert len(problems) == 1
    assert "environments.dev.qualify_names" in problems[0] and "dev, stg" in problems[0]
    assert "qualify_names: true" in problems[0]


def test_shared_account_with_explicit_qualify_names():
    config = parse_config("""
environments:
  dev: {account_id: "111111111111", qualify_names: true}
  stg: {account_id: "111111111111", qualify_names: true}
  prod: {account_id: "333333333333"}
""")
    assert config.environment("dev").qualify_names and config.environment("stg").qualify_names
    assert not config.environment("prod").qualify_names


def test_shared_account_in_other_regions_needs_no_qualify_names():
    config = parse_config("""
environments:
  dev: {account_id: "111111111111", region: us-east-1}
  stg: {account_id: "111111111111", region: eu-west-1}
""")
    assert not config.environment("dev").qualify_names


def test_all_problems_are_reported_at_once():
    problems = problems_of("""
    environments:
      dev: {account_id: "1", region: mars-1, target: cloud}
      stg: {account_id: "222222222222", settings: {compute: {cpu: 3}}}
    """)
    assert len(problems) == 4
    assert all(p.startswith("cfg.yml: ") and "\n" not in p for p in problems)


ENV = 'account_id: "111111111111"'
BAD_CASES = [
    # (yaml, key path expected in the message, bad value expected in the message)
    ("environments:\n  dev: {account_id: 1234}", "environments.dev.account_id", "1234"),
    ("environments:\n  dev: {account_id: '12345'}", "environments.dev.account_id", "12345"),
    ("environments:\n  dev: {" + ENV + ", region: useast}", "environments.dev.region", "useast"),
    ("environments:\n  dev: {" + ENV + ", target: docker}", "environments.dev.target", "docker"),
    ("environments:\n  dev: {" + ENV + ", colour: blue}", "environments.dev.colour", "unknown key"),
    ("environments:\n  dev: {" + ENV + ", deploy_role_arn: 'role/x'}", "environments.dev", "role/x"),
    ("environments:\n  dev: {" + ENV + ", deploy_role_arn: 'arn:aws:iam::999999999999:role/d'}",
     "environments.dev", "999999999999"),
    ("environments:\n  dev: {" + ENV + ", settings: {compute: {cpu: 3000}}}",
     "environments.dev.settings.compute.cpu", "3000"),
    ("environments:\n  dev: {" + ENV + ", settings: {compute: {cpu: 256, memory: 4096}}}",
     "environments.dev.settings.compute.memory", "4096"),
    ("environments:\n  dev: {" + ENV + ", settings: {compute: {image_tag: 'bad tag'}}}",
     "environments.dev.settings.compute.image_tag", "bad tag"),
    ("environments:\n  dev: {" + ENV + ", settings: {logs: {retention_days: 8}}}",
     "environments.dev.settings.logs.retention_days", "8"),
    ("environments:\n  dev: {" + ENV + ", settings: {api: {cpu: 300}}}",
     "environments.dev.settings.api.cpu", "300 is not a Fargate CPU size"),
    ("environments:\n  dev: {" + ENV + "}\ndelivery: {pipeline: {log_retention_days: 8}}",
     "delivery.pipeline.log_retention_days", "8 is not a CloudWatch Logs retention"),
    ("environments:\n  dev: {" + ENV + ", settings: {schedule: {expression: 'every month'}}}",
     "environments.dev.settings.schedule.expression", "every month"),
    ("environments:\n  dev: {" + ENV + ", settings: {schedule: {expression: 'rate(1 days)'}}}",
     "environments.dev.settings.schedule.expression", "rate(1 days)"),
    ("environments:\n  dev: {" + ENV + ", settings: {schedule: {enabled: maybe}}}",
     "environments.dev.settings.schedule.enabled", "maybe"),
    ("environments:\n  dev: {" + ENV + ", settings: {alarms: {period_seconds: 45}}}",
     "environments.dev.settings.alarms.period_seconds", "45"),
    ("environments:\n  dev: {" + ENV + ", settings: {alarms: {failed_threshold: 0}}}",
     "environments.dev.settings.alarms.failed_threshold", "0"),
    ("environments:\n  dev: {" + ENV + ", settings: {alerts: {emails: [not-an-email]}}}",
     "environments.dev.settings.alerts.emails.0", "not-an-email"),
    ("environments:\n  dev: {" + ENV + ", settings: {storage: {encryption: aes}}}",
     "environments.dev.settings.storage.encryption", "aes"),
    ("environments:\n  dev: {" + ENV + ", settings: {storage: {artifact_readers: ['12']}}}",
     "environments.dev.settings.storage.artifact_readers.0", "12"),
    ("environments:\n  dev: {" + ENV + ", settings: {registry: {tag_mutability: sometimes}}}",
     "environments.dev.settings.registry.tag_mutability", "sometimes"),
    ("environments:\n  dev: {" + ENV + ", settings: {registry: {max_images: 0}}}",
     "environments.dev.settings.registry.max_images", "0"),
    ("environments:\n  dev: {" + ENV + ", settings: {network: {cidr: 10.0.0.0/8}}}",
     "environments.dev.settings.network", "10.0.0.0/8"),
    ("environments:\n  dev: {" + ENV + ", settings: {network: {mode: existing, vpc_id: vpc-1}}}",
     "environments.dev.settings.network", "vpc-1"),
    ("environments:\n  dev: {" + ENV + ", settings: {network: {vpc_id: vpc-0123456789abcdef0}}}",
     "environments.dev.settings.network", "mode: existing"),
    ("environments:\n  dev: {" + ENV + ", settings: {parameters: {input_key: 'raw/{month}.csv'}}}",
     "environments.dev.settings.parameters.input_key", "raw/{month}.csv"),
    ("environments:\n  dev: {" + ENV + ", settings: {parameters: {artifacts_from: qa}}}",
     "environments.dev.settings.parameters.artifacts_from", "qa"),
    ("environments:\n  dev: {" + ENV + ", settings: {parameters: {artifacts_from: dev}}}",
     "environments.dev.settings.parameters.artifacts_from", "itself"),
    ("environments:\n  dev: {" + ENV + ", settings: {orchestration: {timeout_seconds: 5}}}",
     "environments.dev.settings.orchestration.timeout_seconds", "5"),
    ("environments:\n  Dev1_: {" + ENV + "}", "environments.Dev1_", "Dev1_"),
    ("environments:\n  dev: {" + ENV + "}\ndefaults: {compute: {cpuu: 1}}", "defaults.compute.cpuu", "unknown key"),
    ("environments:\n  dev: {" + ENV + "}\nproject: {name: 'Data Science'}", "project.name", "Data Science"),
    ("environments:\n  dev: {" + ENV + "}\nlocalstack: {endpoint_url: 'localhost:4566'}",
     "localstack.endpoint_url", "localhost:4566"),
    ("environments:\n  dev: {" + ENV + "}\nextras: 1", "extras", "unknown key"),
    ("environments: {}", "environments", "no environment"),
    ("project: {name: ds}", "environments", "missing"),
    ("environments: [dev]", "environments", "['dev']"),
    ("environments:\n  dev: {" + ENV + "\n", "line", "YAML"),
]


@pytest.mark.parametrize(("text", "path", "value"), BAD_CASES, ids=[c[1] + ":" + c[2] for c in BAD_CASES])
def test_bad_configuration_names_key_and_value(text, path, value):
    problems = problems_of(text)
    assert any(path in p and value in p for p in problems), problems
    assert all(p.startswith("cfg.yml: ") and "\n" not in p for p in problems)


BRANCH_RULE = "must be a git branch name of letters, digits and . _ / - (no .., //, or / or . at the ends), e.g. main"
PATTERN_CASES = [
    # Pattern-checked fields share one validator (dsplatform.config.fields.matches): field, rule and fix, value.
    ("delivery: {github: {repository: acme}}", "cfg.yml: delivery.github.repository: must be owner/name of a GitHub "
                                               "repository, e.g. acme/ds-platform (got 'acme')"),
    ("delivery: {github: {repository: 'acme/ds platform'}}", "cfg.yml: delivery.github.repository: must be "
     "owner/name of a GitHub repository, e.g. acme/ds-platform (got 'acme/ds platform')"),
    ("delivery: {branches: {'feat..x': dev}}", f"cfg.yml: delivery.branches.feat..x: {BRANCH_RULE} (got 'feat..x')"),
    ("delivery: {pipeline: {source: {branch: main/}}}",
     f"cfg.yml: delivery.pipeline.source.branch: {BRANCH_RULE} (got 'main/')"),
    ("delivery: {pipeline: {image: ubuntu}}", "cfg.yml: delivery.pipeline.image: must be a CodeBuild image: "
     "aws/codebuild/standard:7.0 or an ECR image URI such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/build:1 "
     "(got 'ubuntu')"),
]


@pytest.mark.parametrize(("text", "line"), PATTERN_CASES, ids=[c[0] for c in PATTERN_CASES])
def test_a_pattern_field_is_one_line_with_the_field_the_rule_and_the_value(text: str, line: str) -> None:
    assert problems_of(GOOD + text + "\n") == [line]


def test_cross_account_reads_from_a_kms_environment_are_refused():
    problems = problems_of("""
    environments:
      stg: {account_id: "222222222222", settings: {storage: {encryption: kms}}}
      prod: {account_id: "333333333333", settings: {parameters: {artifacts_from: stg}}}
    """)
    assert any("environments.stg.settings.storage.encryption: s3" in p for p in problems)


def test_missing_file_says_how_to_fix(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.yml: cannot be read: No such file"):
        load_config(tmp_path / "nope.yml")


def test_configuration_reference_is_current():
    from pathlib import Path

    from dsplatform.config.reference import render

    doc = Path(__file__).parents[2] / "docs" / "configuration.md"
    assert doc.read_text(encoding="utf-8") == render(), (
        "docs/configuration.md is stale: python -m dsplatform.config.reference > docs/configuration.md")
