"""Hostile flags, task by task: exit code 2, one stderr line naming the flag and its value, nothing written,
no AWS client, socket or process (the ``no_contact`` fixture makes each of those fail loudly)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.conftest import ROOT, snapshot

NO_CREDS = "no AWS credentials found"
# (task arguments, texts the one error line must contain)
CASES: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    # invoke's own parse errors: one line, exit 2
    (("synth", "--bogus"), ("--bogus",)),
    (("synth", "--env"), ("--env",)),
    (("deploy",), ("env",)),
    (("diff",), ("env",)),
    (("destroy",), ("env",)),
    (("outputs",), ("env",)),
    (("localstack.coverage",), ("env",)),
    (("nosuchtask",), ("nosuchtask",)),
    (("deploy", "--env", "dev", "--colour", "red"), ("--colour",)),
    (("data.sample", "--rowz", "5"), ("--rowz",)),
    # synth / lint: --env lists are checked whole before anything is written
    (("synth", "--env", ""), ("--env ''", "names no environment")),
    (("synth", "--env", ","), ("--env ','", "names no environment")),
    (("synth", "--env", " , "), ("--env ' , '",)),
    (("synth", "--env", "dev,"), ("--env 'dev,'", "empty name")),
    (("synth", "--env", ",dev"), ("--env ',dev'", "empty name")),
    (("synth", "--env", "dev,,stg"), ("--env 'dev,,stg'",)),
    (("synth", "--env", "dev,qa"), ("environments.qa", "no such environment")),
    (("synth", "--env", "qa,dev"), ("environments.qa",)),
    (("synth", "--env", "all,dev"), ("environments.all",)),
    (("synth", "--env", "DEV"), ("environments.DEV",)),
    (("synth", "--env", "x" * 5000), ("environments.xxxx", "...")),
    (("synth", "--env", "dev", "--target", "docker"), ("--target", "'docker'")),
    (("synth", "--env", "dev", "--target", ""), ("--target", "''")),
    (("synth", "--env", "dev", "--config", "nope.yml"), ("nope.yml", "cannot be read")),
    (("synth", "--env", "dev", "--config", "build"), ("build", "is a folder")),
    (("synth", "--env", "dev", "--config", ""), ("is a folder",)),
    (("lint", "--env", ""), ("--env ''",)),
    (("lint", "--env", "dev,qa"), ("environments.qa",)),
    (("lint", "--env", "dev", "--target", "gcp"), ("--target", "'gcp'")),
    # deploy / diff / destroy / outputs
    (("deploy", "--env", ""), ("--env ''",)),
    (("deploy", "--env", "dev,stg"), ("--env 'dev,stg'", "one environment")),
    (("deploy", "--env", "qa"), ("environments.qa",)),
    (("deploy", "--env", "dev", "--concurrency", "abc"), ("--concurrency 'abc'",)),
    (("deploy", "--env", "dev", "--concurrency", "0"), ("--concurrency '0'", "out of range")),
    (("deploy", "--env", "dev", "--concurrency", "33"), ("--concurrency '33'", "out of range")),
    (("deploy", "--env", "dev", "--concurrency", "nan"), ("--concurrency 'nan'",)),
    (("deploy", "--env", "dev", "--concurrency", "1e3"), ("--concurrency '1e3'",)),
    (("deploy", "--env", "dev", "--concurrency", " 4"), ("--concurrency ' 4'",)),
    (("deploy", "--env", "dev", "--concurrency", "1_0"), ("--concurrency '1_0'",)),
    (("deploy", "--env", "dev", "--concurrency", "٤"), ("--concurrency '٤'",)),
    (("deploy", "--env", "dev", "--allow-replace", "Bad Id!"), ("--allow-replace 'Bad Id!'",)),
    (("deploy", "--env", "dev", "--target", "docker"), ("--target", "'docker'")),
    (("diff", "--env", ""), ("--env ''",)),
    (("diff", "--env", "qa"), ("environments.qa",)),
    (("diff", "--env", "dev", "--config", "missing.yml"), ("missing.yml",)),
    (("destroy", "--env", "prod"), ("'prod' is protected",)),
    (("destroy", "--env", "dev,stg"), ("--env 'dev,stg'",)),
    (("destroy", "--env", "qa"), ("environments.qa",)),
    (("outputs", "--env", "qa"), ("environments.qa",)),
    (("outputs", "--env", ","), ("--env ','",)),
    (("outputs", "--env", "stg"), ("'stg'", NO_CREDS)),
    (("outputs", "--env", "prod"), ("'prod'", NO_CREDS)),
    # model.train
    (("model.train", "--env", ""), ("--env ''",)),
    (("model.train", "--env", "qa"), ("environments.qa",)),
    (("model.train", "--env", "dev", "--rows", "x"), ("--rows 'x'",)),
    (("model.train", "--env", "dev", "--rows", "5"), ("--rows '5'", "out of range")),
    (("model.train", "--env", "dev", "--rows", "100000000"), ("--rows '100000000'", "out of range")),
    (("model.train", "--env", "dev", "--rows", "nan"), ("--rows 'nan'",)),
    (("model.train", "--env", "dev", "--seed", "-1"), ("--seed '-1'",)),
    (("model.train", "--env", "dev", "--seed", str(2**32)), (f"--seed '{2**32}'",)),
    (("model.train", "--env", "stg"), ("'stg'", NO_CREDS)),
    # releases, rollback, image.tag
    (("releases",), ("env",)),
    (("releases", "--env", ""), ("--env ''",)),
    (("releases", "--env", "qa"), ("environments.qa",)),
    (("releases", "--env", "dev,stg"), ("--env 'dev,stg'",)),
    (("releases", "--env", "stg"), ("'stg'", NO_CREDS)),
    (("rollback",), ("env",)),
    (("rollback", "--env", ""), ("--env ''",)),
    (("rollback", "--env", "qa"), ("environments.qa",)),
    (("rollback", "--env", "dev", "--to", ""), ("--to ''",)),
    (("rollback", "--env", "stg"), ("'stg'", NO_CREDS)),
    (("image.tag", "--env", "dev"), ("version",)),
    (("image.tag", "--env", "dev", "--version", "bad tag!"), ("--version 'bad tag!'",)),
    (("image.tag", "--env", "dev", "--version", ""), ("--version ''",)),
    (("image.tag", "--env", "dev", "--version", "latest"), ("--version 'latest'",)),
    (("image.tag", "--env", "dev", "--version", "v" * 300), ("--version 'vvv", "...")),
    (("image.tag", "--env", "stg", "--version", "v1"), ("'stg'", NO_CREDS)),
    # --stacks
    (("deploy", "--env", "dev", "--stacks", ","), ("--stacks", "','")),
    (("deploy", "--env", "dev", "--stacks", "nosuch"), ("--stacks", "'nosuch'")),
    (("e2e", "--stacks", "nosuch"), ("--stacks", "'nosuch'")),
    # data.sample: bounded rows, finite fractions, a writable file path; checked before writing
    (("data.sample", "--rows", "0"), ("--rows '0'",)),
    (("data.sample", "--rows", "-1"), ("--rows '-1'",)),
    (("data.sample", "--rows", "1.5"), ("--rows '1.5'",)),
    (("data.sample", "--rows", ""), ("--rows ''",)),
    (("data.sample", "--rows", "1000000000"), ("--rows '1000000000'", "out of range")),
    (("data.sample", "--rows", "9" * 400), ("--rows '999", "...")),
    (("data.sample", "--dirty", "nan"), ("--dirty 'nan'", "finite")),
    (("data.sample", "--dirty", "inf"), ("--dirty 'inf'",)),
    (("data.sample", "--dirty", "-0.1"), ("--dirty '-0.1'",)),
    (("data.sample", "--dirty", "1.5"), ("--dirty '1.5'",)),
    (("data.sample", "--dirty", "five%"), ("--dirty 'five%'",)),
    (("data.sample", "--seed", "-3"), ("--seed '-3'",)),
    (("data.sample", "--out", "build"), ("--out 'build'", "is a folder")),
    (("data.sample", "--out", "."), ("--out '.'",)),
    (("data.sample", "--out", "out/.."), ("--out 'out/..'",)),
    (("data.sample", "--out", ""), ("--out ''",)),
    (("data.sample", "--out", "dsplatform.yml/x.csv"), ("--out 'dsplatform.yml/x.csv'", "is a file")),
    (("data.sample", "--env", "qa"), ("environments.qa",)),
    (("data.sample", "--env", ""), ("--env ''",)),
    (("data.sample", "--env", "dev", "--key", "bad key\n"), ("--key",)),
    (("data.sample", "--env", "stg"), ("'stg'", NO_CREDS)),
    # localstack.*
    (("localstack.status", "--port", "http"), ("--port 'http'",)),
    (("localstack.status", "--port", "0"), ("--port '0'",)),
    (("localstack.status", "--port", "70000"), ("--port '70000'",)),
    (("localstack.status", "--host", "not a host"), ("--host 'not a host'",)),
    (("localstack.start", "--host", "example.com"), ("--host 'example.com'",)),
    (("localstack.start", "--port", "-1"), ("--port '-1'",)),
    (("localstack.stop", "--port", "x"), ("--port 'x'",)),
    (("localstack.logs", "--lines", "0"), ("--lines '0'",)),
    (("localstack.logs", "--lines", "1000000000"), ("--lines '1000000000'",)),
    (("localstack.coverage", "--env", "dev", "--format", "xml"), ("--format 'xml'",)),
    (("localstack.coverage", "--env", "qa"), ("environments.qa",)),
    # e2e: flags (markers included) are checked before LocalStack starts
    (("e2e", "--markers", "not ("), ("--markers 'not ('", "pytest -m expression")),
    (("e2e", "--markers", "smoke and"), ("--markers 'smoke and'",)),
    (("e2e", "--markers", "a b"), ("--markers 'a b'",)),
    (("e2e", "--markers", ""), ("--markers ''",)),
    (("e2e", "--env", "prod"), ("'prod' is protected",)),
    (("e2e", "--env", "qa"), ("environments.qa",)),
    (("e2e", "--env", ""), ("--env ''",)),
    (("e2e", "--env", "dev,stg"), ("--env 'dev,stg'",)),
    (("e2e", "--target", "docker"), ("--target", "'docker'")),
    # promote: forward one step along the config's order only, and credentials checked before use
    (("promote", "--from", "prod", "--to", "dev"), ("--from prod --to dev", "--to")),
    (("promote", "--from", "stg", "--to", "stg"), ("--from stg --to stg",)),
    (("promote", "--from", "prod", "--to", "stg"), ("--from prod --to stg",)),
    (("promote", "--from", "dev", "--to", "prod"), ("--from dev --to prod", "use --to stg")),
    (("promote", "--from", "stg", "--to", "dev"), ("--from stg --to dev", "use --to prod")),
    (("promote", "--from", "prod", "--to", "prod"), ("--from prod", "last environment")),
    (("promote", "--from", "qa", "--to", "prod"), ("environments.qa",)),
    (("promote", "--from", "stg", "--to", ""), ("--to ''",)),
    (("promote", "--from", "", "--to", "prod"), ("--from ''",)),
    (("promote", "--from", "stg", "--to", "prod,dev"), ("--to 'prod,dev'",)),
    (("promote", "--from", "stg", "--to", "prod", "--target", "docker"), ("--target", "'docker'")),
    (("promote", "--from", "stg", "--to", "prod", "--target", "aws", "--yes"), ("'stg'", NO_CREDS)),
]


@pytest.mark.parametrize(("argv", "expected"), CASES, ids=[" ".join(a)[:60] for a, _ in CASES])
def test_bad_flag_is_one_line_exit_2_and_changes_nothing(run_task, project_dir: Path, argv, expected) -> None:
    before = snapshot(project_dir)
    result = run_task(*argv)
    assert result.code == 2, (result.code, result.stderr[-2000:])
    assert len(result.lines) == 1, result.lines[:5]
    line = result.lines[0]
    assert len(line) < 600, line[:200]
    for text in expected:
        assert text in line, line
    assert snapshot(project_dir) == before, "a bad flag changed files"


def test_synth_of_a_good_and_a_bad_environment_leaves_build_untouched(run_task, project_dir: Path) -> None:
    """The issue's own case: `synth --env dev,qa` used to rewrite build/dev before failing on qa."""
    earlier = (project_dir / "build" / "dev" / "ds-dev-storage.json").read_text()
    assert run_task("synth", "--env", "dev,qa").code == 2
    assert (project_dir / "build" / "dev" / "ds-dev-storage.json").read_text() == earlier
    assert sorted(p.name for p in (project_dir / "build").rglob("*")) == ["dev", "ds-dev-storage.json"]


def test_good_flags_still_work(run_task, project_dir: Path) -> None:
    """The checks refuse only bad input: a good synth and a small sample still write their files."""
    assert run_task("synth", "--env", "dev,stg", "--quiet").code == 0
    assert (project_dir / "build" / "stg").is_dir()
    result = run_task("data.sample", "--rows", "25", "--out", "out/s.csv", "--dirty", "0")
    assert result.code == 0, result.stderr
    assert len((project_dir / "out" / "s.csv").read_text().splitlines()) == 26
    assert [p.name for p in (project_dir / "out").iterdir()] == ["s.csv"]  # no temporary file left


def test_the_real_invoke_command_exits_2_on_an_unknown_flag() -> None:
    """The parse-error hook is installed by importing the collection, so the `invoke` binary gets it too."""
    result = subprocess.run([sys.executable, "-m", "invoke", "synth", "--no-such-flag"], capture_output=True,
                            text=True, cwd=ROOT)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: No idea what '--no-such-flag' is!; see `invoke --help TASK`"]
