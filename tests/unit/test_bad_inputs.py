"""Hostile configuration files, by category (YAML, types, values, names, files): each one through
`invoke synth --config FILE` gives exit code 2 and one stderr line naming the key and the bad value,
writes nothing and contacts nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.conftest import snapshot

ACCOUNT = 'account_id: "111111111111"'


def env(settings: str = "", extra: str = "") -> str:
    """A one-environment config whose dev environment has these settings (flow YAML) and extra keys."""
    body = f"{ACCOUNT}, region: us-east-1, target: localstack"
    body += f", {extra}" if extra else ""
    body += f", settings: {{{settings}}}" if settings else ""
    return f"environments:\n  dev: {{{body}}}\n"


LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)) + env()

# (category, id, file content, texts the one error line must contain)
CASES: list[tuple[str, str, str | bytes, tuple[str, ...]]] = [
    # --- YAML traps
    ("yaml", "duplicate top-level key", env() + "project: {name: ds}\nproject: {name: xx}\n",
     ("line 4", "duplicate key 'project'", "line 3")),
    ("yaml", "duplicate environment", "environments:\n  dev: {" + ACCOUNT + "}\n  dev: {account_id: '222222222222'}\n",
     ("line 3", "duplicate key 'dev'", "first at line 2")),
    ("yaml", "duplicate nested key", env("logs: {retention_days: 7, retention_days: 30}"),
     ("duplicate key 'retention_days'",)),
    ("yaml", "duplicate block key", "environments:\n  dev:\n    account_id: '1'\n    account_id: '111111111111'\n",
     ("line 4", "duplicate key 'account_id'", "first at line 3")),
    ("yaml", "duplicate tag", "project:\n  tags:\n    owner: a\n    owner: b\n" + env(), ("duplicate key 'owner'",)),
    ("yaml", "billion laughs", LAUGHS, ("aliases expand to", "limit 10000")),
    ("yaml", "recursive alias", "x: &a [*a]\n" + env(), ("recursive alias",)),
    ("yaml", "latin-1", ("project: {tags: {owner: 'Jos\xe9'}}\n" + env()).encode("latin-1"),
     ("not UTF-8", "0xe9", "line 1")),
    ("yaml", "utf-16", env().encode("utf-16"), ("not UTF-8", "0xff")),
    ("yaml", "nul byte", b"project: {name: ds}\x00\n" + env().encode(), ("special characters",)),
    ("yaml", "tab indentation", "environments:\n\tdev: {" + ACCOUNT + "}\n", ("line 2", "fix the YAML syntax")),
    ("yaml", "unclosed flow", "environments:\n  dev: {" + ACCOUNT + "\n", ("line", "fix the YAML syntax")),
    ("yaml", "unclosed quote", "environments:\n  dev: {account_id: '1111}\n", ("fix the YAML syntax",)),
    ("yaml", "python tag", "project: !!python/object/apply:os.system [ls]\n" + env(),
     ("line 1", "could not determine a constructor", "python/objec")),
    ("yaml", "custom tag", "project: !Ref name\n" + env(), ("could not determine a constructor",)),
    ("yaml", "two documents", env() + "---\n" + env(), ("expected a single document",)),
    ("yaml", "list file", "- dev\n- stg\n", ("must be a mapping", "got list")),
    ("yaml", "scalar file", "dev\n", ("must be a mapping", "got str")),
    ("yaml", "empty file", "", ("must be a mapping", "got NoneType")),
    ("yaml", "comments only", "# nothing\n", ("must be a mapping",)),
    ("yaml", "deep nesting", "x: " + "[" * 2000 + "]" * 2000 + "\n" + env(), ("nested too deeply",)),
    ("yaml", "undefined alias", "project: *nope\n" + env(), ("undefined alias",)),
    ("yaml", "huge file", env() + "# " + "x" * 1_100_000 + "\n", ("too large", "limit 1000000")),
    ("yaml", "complex key", "? [a, b]\n: 1\n" + env(), ("unhashable",)),
    # --- types: strict, no coercion
    ("types", "retention true", env("logs: {retention_days: true}"),
     ("settings.logs.retention_days", "whole number", "True")),
    ("types", "retention text", env("logs: {retention_days: '30'}"), ("retention_days", "'30'")),
    ("types", "retention float", env("logs: {retention_days: 30.0}"), ("retention_days", "30.0")),
    ("types", "cpu text", env("compute: {cpu: '1024', memory: 2048}"), ("compute.cpu", "'1024'")),
    ("types", "cpu bool", env("compute: {cpu: true}"), ("compute.cpu", "True")),
    ("types", "memory float", env("compute: {cpu: 1024, memory: 2048.5}"), ("compute.memory", "2048.5")),
    ("types", "enabled text", env("schedule: {enabled: 'yes'}"), ("schedule.enabled", "true or false", "'yes'")),
    ("types", "enabled number", env("schedule: {enabled: 1}"), ("schedule.enabled", "1")),
    ("types", "enabled null", env("schedule: {enabled: null}"), ("schedule.enabled", "None")),
    ("types", "versioning text", env("storage: {versioning: 'false'}"), ("storage.versioning", "'false'")),
    ("types", "account number", "environments:\n  dev: {account_id: 111111111111}\n",
     ("environments.dev.account_id", "must be text", "111111111111")),
    ("types", "account bool", "environments:\n  dev: {account_id: true}\n", ("account_id", "True")),
    ("types", "region number", env(extra="region: 1").replace("region: us-east-1, ", ""), ("region", "1")),
    ("types", "target bool", env().replace("target: localstack", "target: true"), ("target", "True")),
    ("types", "protected text", env(extra="protected: 'no'"), ("protected", "'no'")),
    ("types", "emails scalar", env("alerts: {emails: a@example.com}"), ("alerts.emails", "must be a list")),
    ("types", "emails number", env("alerts: {emails: [1]}"), ("alerts.emails.0", "1")),
    ("types", "subnets scalar", env("network: {mode: existing, vpc_id: vpc-0123456789abcdef0, "
                                    "subnet_ids: subnet-0123456789abcdef0}"), ("network.subnet_ids", "list")),
    ("types", "artifact readers number", env("storage: {artifact_readers: [222222222222]}"),
     ("artifact_readers.0", "222222222222")),
    ("types", "tags value number", "project: {tags: {owner: 1}}\n" + env(), ("project.tags.owner", "1")),
    ("types", "tags list", "project: {tags: [owner]}\n" + env(), ("project.tags", "['owner']")),
    ("types", "project name number", "project: {name: 1}\n" + env(), ("project.name", "1")),
    ("types", "settings list", env(extra="settings: [compute]"), ("environments.dev", "['compute']")),
    ("types", "section scalar", env("compute: big"), ("settings.compute", "'big'")),
    ("types", "lifecycle scalar", env("storage: {lifecycle: 5}"), ("storage.lifecycle", "5")),
    ("types", "max images text", env("registry: {max_images: '3'}"), ("registry.max_images", "'3'")),
    ("types", "timeout float", env("orchestration: {timeout_seconds: 3600.0}"), ("timeout_seconds", "3600.0")),
    ("types", "threshold date", env("alarms: {failed_threshold: 2026-01-01}"), ("failed_threshold", "2026")),
    ("types", "environment empty", "environments:\n  dev:\n", ("environments.dev.account_id", "missing")),
    ("types", "environment scalar", "environments:\n  dev: yes\n", ("environments.dev", "True")),
    ("types", "artifacts_from list", env("parameters: {artifacts_from: [stg]}"), ("artifacts_from", "['stg']")),
    ("types", "defaults list", "defaults: [compute]\n" + env(), ("defaults", "['compute']")),
    # --- values that look valid but are not
    ("values", "region zz-nowhere-1", env().replace("us-east-1", "zz-nowhere-1"),
     ("environments.dev.region", "not an AWS region", "zz-nowhere-1")),
    ("values", "region us-east-7", env().replace("us-east-1", "us-east-7"), ("region", "us-east-7", "did you mean")),
    ("values", "region upper", env().replace("us-east-1", "US-EAST-1"), ("region", "US-EAST-1")),
    ("values", "region space", env().replace("us-east-1", "'us-east-1 '"), ("region", "'us-east-1 '")),
    ("values", "region long", env().replace("us-east-1", "u" * 500), ("region", "...")),
    ("values", "cron hour 99", env("schedule: {expression: 'cron(0 99 15 * ? *)'}"),
     ("schedule.expression", "hours", "99 is outside 0-23")),
    ("values", "cron minute 60", env("schedule: {expression: 'cron(60 9 15 * ? *)'}"), ("minutes", "60")),
    ("values", "cron dom 32", env("schedule: {expression: 'cron(0 9 32 * ? *)'}"), ("day-of-month", "32")),
    ("values", "cron dom 0", env("schedule: {expression: 'cron(0 9 0 * ? *)'}"), ("day-of-month", "0")),
    ("values", "cron month 13", env("schedule: {expression: 'cron(0 9 15 13 ? *)'}"), ("month", "13")),
    ("values", "cron month name", env("schedule: {expression: 'cron(0 9 15 FOO ? *)'}"), ("month", "'FOO'")),
    ("values", "cron dow 8", env("schedule: {expression: 'cron(0 9 ? * 8 *)'}"), ("day-of-week", "8")),
    ("values", "cron year 1969", env("schedule: {expression: 'cron(0 9 15 * ? 1969)'}"), ("year", "1969")),
    ("values", "cron both days", env("schedule: {expression: 'cron(0 9 15 * MON *)'}"),
     ("day-of-month '15'", "day-of-week 'MON'", "exactly one")),
    ("values", "cron both star", env("schedule: {expression: 'cron(0 9 * * * *)'}"), ("exactly one",)),
    ("values", "cron both ?", env("schedule: {expression: 'cron(0 9 ? * ? *)'}"), ("exactly one",)),
    ("values", "cron ? in hours", env("schedule: {expression: 'cron(0 ? 15 * ? *)'}"), ("hours", "?")),
    ("values", "cron 5 fields", env("schedule: {expression: 'cron(0 9 15 * ?)'}"), ("6 fields", "got 5")),
    ("values", "cron 7 fields", env("schedule: {expression: 'cron(0 0 9 15 * ? *)'}"), ("6 fields", "got 7")),
    ("values", "cron double space", env("schedule: {expression: 'cron(0  9 15 * ? *)'}"), ("6 fields",)),
    ("values", "cron step 0", env("schedule: {expression: 'cron(*/0 9 15 * ? *)'}"), ("minutes", "step '0'")),
    ("values", "cron step 99", env("schedule: {expression: 'cron(0 */99 15 * ? *)'}"), ("hours", "step '99'")),
    ("values", "cron backwards", env("schedule: {expression: 'cron(0 10-5 15 * ? *)'}"), ("10-5", "backwards")),
    ("values", "cron L in hours", env("schedule: {expression: 'cron(0 L 15 * ? *)'}"), ("hours", "'L'")),
    ("values", "cron W in dow", env("schedule: {expression: 'cron(0 9 ? * 3W *)'}"), ("day-of-week", "3W")),
    ("values", "cron #6", env("schedule: {expression: 'cron(0 9 ? * 3#6 *)'}"), ("#6", "1-5")),
    ("values", "cron empty list item", env("schedule: {expression: 'cron(0 9,,10 15 * ? *)'}"), ("empty list",)),
    ("values", "cron 32W", env("schedule: {expression: 'cron(0 9 32W * ? *)'}"), ("day-of-month", "32")),
    ("values", "rate 0", env("schedule: {expression: 'rate(0 minutes)'}"), ("rate value", ">= 1")),
    ("values", "rate singular", env("schedule: {expression: 'rate(5 minute)'}"), ("plural", "rate(5 minutes)")),
    ("values", "rate plural", env("schedule: {expression: 'rate(1 days)'}"), ("singular", "rate(1 day)")),
    ("values", "rate negative", env("schedule: {expression: 'rate(-1 days)'}"), ("rate(-1 days)",)),
    ("values", "rate fraction", env("schedule: {expression: 'rate(1.5 hours)'}"), ("rate(1.5 hours)",)),
    ("values", "rate weeks", env("schedule: {expression: 'rate(2 weeks)'}"), ("rate(2 weeks)",)),
    ("values", "tag key 129", "project: {tags: {" + "k" * 129 + ": v}}\n" + env(),
     ("project.tags", "129 characters", "1-128")),
    ("values", "tag value 257", "project: {tags: {owner: " + "v" * 257 + "}}\n" + env(),
     ("project.tags", "'owner'", "257 characters")),
    ("values", "tag aws prefix", "project: {tags: {'aws:owner': x}}\n" + env(), ("'aws:owner'", "reserved")),
    ("values", "tag AWS prefix", "project: {tags: {'AWS:owner': x}}\n" + env(), ("'AWS:owner'", "reserved")),
    ("values", "tag dsplatform prefix", "project: {tags: {'dsplatform:env': x}}\n" + env(), ("'dsplatform:env'",)),
    ("values", "tag newline", 'project: {tags: {owner: "a\\nb"}}\n' + env(), ("'owner'", "'\\n'")),
    ("values", "tag empty key", "project: {tags: {'': x}}\n" + env(), ("project.tags", "1-128")),
    ("values", "tag semicolon", "project: {tags: {'a;b': x}}\n" + env(), ("'a;b'", "';'")),
    ("values", "48 tags", "project: {tags: {" + ", ".join(f"t{i}: v" for i in range(48)) + "}}\n" + env(),
     ("48 tags", "47")),
    ("values", "retention 8", env("logs: {retention_days: 8}"), ("retention_days", "8")),
    ("values", "cpu 3000", env("compute: {cpu: 3000}"), ("compute.cpu", "3000")),
    ("values", "memory mismatch", env("compute: {cpu: 256, memory: 4096}"), ("compute.memory", "4096")),
    ("values", "period 45", env("alarms: {period_seconds: 45}"), ("period_seconds", "45")),
    ("values", "alarm window over a day", env("alarms: {period_seconds: 3600, evaluation_periods: 25}"),
     ("settings.alarms", "3600", "25", "one day")),
    ("values", "period huge", env("alarms: {period_seconds: " + "6" * 40 + "0}"), ("settings.alarms", "one day")),
    ("values", "threshold 0", env("alarms: {failed_threshold: 0}"), ("failed_threshold", "0")),
    ("values", "cidr /8", env("network: {cidr: 10.0.0.0/8}"), ("network", "10.0.0.0/8")),
    ("values", "cidr long", env("network: {cidr: '" + "1" * 300 + "'}"), ("network", "...")),
    ("values", "image tag space", env("compute: {image_tag: 'bad tag'}"), ("image_tag", "bad tag")),
    ("values", "email", env("alerts: {emails: [not-an-email]}"), ("emails.0", "not-an-email")),
    ("values", "input key", env("parameters: {input_key: 'raw/{month}.csv'}"), ("input_key", "raw/{month}.csv")),
    ("values", "artifacts_from unknown", env("parameters: {artifacts_from: qa}"), ("artifacts_from", "'qa'")),
    ("values", "artifacts_from self", env("parameters: {artifacts_from: dev}"), ("artifacts_from", "itself")),
    ("values", "role other account", env(extra="deploy_role_arn: 'arn:aws:iam::999999999999:role/d'"),
     ("environments.dev", "999999999999")),
    ("values", "endpoint url", "localstack: {endpoint_url: 'localhost:4566'}\n" + env(),
     ("localstack.endpoint_url", "localhost:4566")),
    ("values", "lifecycle 0", env("storage: {lifecycle: {abort_multipart_days: 0}}"), ("abort_multipart_days", "0")),
    ("values", "model version long", env("parameters: {model_version: '" + "v" * 200 + "'}"),
     ("model_version", "...")),
    ("values", "lifecycle huge", env("storage: {lifecycle: {input_expiration_days: 100000000000000000000}}"),
     ("input_expiration_days", "36500", "100000000000000000000")),
    ("values", "encryption", env("storage: {encryption: aes}"), ("storage.encryption", "aes")),
    # --- names
    ("names", "env upper", "environments:\n  Dev: {" + ACCOUNT + "}\n", ("environments.Dev", "'Dev'")),
    ("names", "env accent", "environments:\n  dév: {" + ACCOUNT + "}\n", ("environments.dév", "'dév'")),
    ("names", "env 11 chars", "environments:\n  abcdefghijk: {" + ACCOUNT + "}\n", ("abcdefghijk",)),
    ("names", "env dash", "environments:\n  dev-1: {" + ACCOUNT + "}\n", ("'dev-1'",)),
    ("names", "env empty", "environments:\n  '': {" + ACCOUNT + "}\n", ("environments.", "''")),
    ("names", "env number", "environments:\n  1: {" + ACCOUNT + "}\n", ("environments.1", "got 1")),
    ("names", "env null", "environments:\n  null: {" + ACCOUNT + "}\n", ("environments.None", "None")),
    ("names", "env yes", "environments:\n  yes: {" + ACCOUNT + "}\n", ("environments.True", "True")),
    ("names", "env long", "environments:\n  " + "e" * 1000 + ": {" + ACCOUNT + "}\n", ("eeee", "...")),
    ("names", "env too long for YAML", "environments:\n  " + "e" * 3000 + ": {" + ACCOUNT + "}\n",
     ("line 2", "fix the YAML syntax")),
    ("names", "project spaces", "project: {name: 'Data Science'}\n" + env(), ("project.name", "Data Science")),
    ("names", "project short", "project: {name: d}\n" + env(), ("project.name", "'d'")),
    ("names", "project long", "project: {name: abcdefghijk}\n" + env(), ("project.name", "abcdefghijk")),
    ("names", "project unicode", "project: {name: dätä}\n" + env(), ("project.name", "dätä")),
    ("names", "unknown top key", env() + "extras: 1\n", ("extras", "unknown key")),
    ("names", "unknown long top key", env() + "k" * 1000 + ": 1\n", ("kkkk", "...", "unknown key")),
    ("names", "unknown env key", env(extra="colour: blue"), ("environments.dev.colour", "unknown key")),
    ("names", "unknown section", env("gpu: {count: 1}"), ("settings.gpu", "unknown key")),
    ("names", "unknown nested", env("compute: {cpus: 1}"), ("compute.cpus", "unknown key")),
]


@pytest.mark.parametrize(("category", "name", "content", "expected"), CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_bad_config_is_one_line_exit_2_and_changes_nothing(run_task, project_dir: Path, category, name, content,
                                                           expected) -> None:
    bad = project_dir / "bad.yml"
    if isinstance(content, bytes):
        bad.write_bytes(content)
    else:
        bad.write_text(content, encoding="utf-8")
    before = snapshot(project_dir)
    result = run_task("synth", "--env", "dev", "--config", "bad.yml")
    assert result.code == 2, (result.code, result.stderr[-2000:])
    assert len(result.lines) == 1, result.lines[:5]
    line = result.lines[0]
    assert line.startswith("error: bad.yml: ") and len(line) < 400, line[:400]
    for text in expected:
        assert text in line, line
    assert snapshot(project_dir) == before, "a bad config changed files"


GOOD_SCHEDULES = ["cron(0 9 15 * ? *)", "cron(0/15 * ? * MON-FRI *)", "cron(0 9 L * ? *)", "cron(0 9 15W * ? *)",
                  "cron(0 9 ? * 6L *)", "cron(0 9 ? * 2#1 *)", "cron(5,35 14 * JAN,JUL ? 2026-2030)",
                  "cron(0 18 ? * SUN *)", "cron(*/5 8-17 ? * 2-6 *)", "rate(1 minute)", "rate(5 minutes)",
                  "rate(1 hour)", "rate(12 hours)", "rate(1 day)", "rate(7 days)"]


@pytest.mark.parametrize("expression", GOOD_SCHEDULES)
def test_schedules_eventbridge_accepts_still_load(expression: str) -> None:
    from dsplatform.config import parse_config

    config = parse_config(env(f"schedule: {{expression: '{expression}'}}"))
    assert config.environment("dev").settings.schedule.expression == expression


def test_good_values_of_every_checked_kind_load() -> None:
    """The new checks refuse only what AWS refuses: another partition's region, 47 tags, aliases, merge keys."""
    from dsplatform.config import parse_config

    tags = ", ".join(f"t{i}: 'v é/+=.:_-@'" for i in range(46)) + ", k: ''"
    config = parse_config(
        f"project: {{tags: {{{tags}}}}}\n"
        "defaults: {logs: &logs {retention_days: 14}, alarms: {<<: {period_seconds: 60}, period_seconds: 120}}\n"
        + env("logs: *logs").replace("us-east-1", "cn-north-1"))
    dev = config.environment("dev")
    assert (dev.region, dev.settings.logs.retention_days, len(config.project.tags)) == ("cn-north-1", 14, 47)
    assert dev.settings.alarms.period_seconds == 120


def _fifo(path: Path) -> None:
    import os

    os.mkfifo(path)


def _loop(path: Path) -> None:
    path.symlink_to(path)


def _png(path: Path) -> None:
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))


def _dangling(path: Path) -> None:
    path.symlink_to(path.parent / "gone.yml")


FILES = [
    ("fifo", _fifo, ("bad.yml", "not a regular file")),
    ("symlink loop", _loop, ("bad.yml", "cannot be read")),
    ("binary", _png, ("bad.yml", "not UTF-8", "0x89", "offset 0")),
    ("dangling symlink", _dangling, ("bad.yml", "cannot be read", "No such file")),
]


@pytest.mark.parametrize(("name", "make", "expected"), FILES, ids=[f"files:{f[0]}" for f in FILES])
def test_bad_config_file_is_one_line_exit_2(run_task, project_dir: Path, name, make, expected) -> None:
    make(project_dir / "bad.yml")
    before = snapshot(project_dir)
    result = run_task("synth", "--env", "dev", "--config", "bad.yml")
    assert result.code == 2 and len(result.lines) == 1, result.stderr[-2000:]
    for text in expected:
        assert text in result.lines[0], result.lines[0]
    assert snapshot(project_dir) == before

