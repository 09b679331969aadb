"""Synthesis: deterministic files, the stack graph, and every parameter fed by exactly one dependency."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dsplatform.config import load_config
from dsplatform.lint import LintCache, cfn_lint
from dsplatform.synth import build_plan, plan_from_config, write_templates
from tests.unit.conftest import snapshot

ROOT = Path(__file__).parents[2]
PROJECT = load_config(ROOT / "dsplatform.yml")


def test_synth_is_byte_identical_across_runs(tmp_path):
    first = write_templates(plan_from_config(PROJECT, "dev"), tmp_path / "a")
    second = write_templates(plan_from_config(load_config(ROOT / "dsplatform.yml"), "dev"), tmp_path / "b")
    for name, path in first.files.items():
        assert path.read_bytes() == second.files[name].read_bytes()


def test_synth_removes_templates_of_stacks_that_no_longer_exist(tmp_path):
    stale = tmp_path / "dev" / "ds-dev-retired.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    result = write_templates(plan_from_config(PROJECT, "dev"), tmp_path)
    assert not stale.exists() and len(result.files) == 10


@pytest.mark.parametrize("env", ["dev", "stg", "prod"])
def test_every_parameter_is_the_output_of_exactly_one_dependency(env):
    from dsplatform.deployer.images import IMAGE_DIGEST_PARAMETER

    plan = plan_from_config(PROJECT, env)
    for spec in plan.stacks:
        # Code asset parameters are the deployer's to fill (deployer.assets), not a dependency's.
        from_assets = {p for a in spec.assets for p in (a.bucket_parameter, a.key_parameter, a.sha256_parameter)}
        for parameter, declared in spec.template.get("Parameters", {}).items():
            if parameter in from_assets:
                continue
            if parameter == IMAGE_DIGEST_PARAMETER and "Default" in declared:
                continue  # filled by the deployer from the pushed image, not from a dependency
            sources = [dep for dep in spec.depends_on if parameter in plan.stack(dep).template.get("Outputs", {})]
            assert len(sources) == 1, f"{spec.name}.{parameter} comes from {sources}"


def test_no_cross_stack_exports_or_imports():
    plan = plan_from_config(PROJECT, "prod")
    text = "".join(str(spec.template) for spec in plan.stacks)
    assert "Fn::ImportValue" not in text and "'Export'" not in text


def test_dependencies_form_a_graph_in_registry_order():
    plan = plan_from_config(PROJECT, "dev")
    seen: set[str] = set()
    for spec in plan.stacks:
        assert set(spec.depends_on) <= seen, spec.name
        seen.add(spec.name)


def test_target_override_and_protection():
    plan = build_plan("prod", str(ROOT / "dsplatform.yml"), target="localstack")
    assert plan.target.kind == "localstack" and plan.target.account_id == "333333333333"
    assert plan.target.protected and all(s.termination_protection for s in plan.stacks)
    assert plan.target.deploy_role_arn is None  # a rehearsal never assumes the real role


def test_lint_results_are_cached_by_content(tmp_path):
    spec = plan_from_config(PROJECT, "dev").stacks[2]
    cache = LintCache(tmp_path)
    first, hit1 = cfn_lint(spec.name, spec.template, ["us-east-1"], cache)
    second, hit2 = cfn_lint(spec.name, spec.template, ["us-east-1"], cache)
    assert (hit1, hit2) == (False, True) and first == second == []


def test_cfn_lint_reports_a_broken_template():
    findings, _ = cfn_lint("x", {"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"Nope": 1}}}},
                           ["us-east-1"])
    assert any(f.rule.startswith("E") and f.level == "error" for f in findings)


def test_compose_example_runs_and_keeps_the_secure_buckets():
    out = subprocess.run([sys.executable, str(ROOT / "docs/examples/compose.py")], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert '"TeamEventsQueue"' in out.stdout and '"aws:SecureTransport"' in out.stdout


def run_invoke(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "invoke", *args], capture_output=True, text=True, cwd=cwd)


def test_invoke_synth_with_a_bad_environment_exits_2_with_one_line():
    result = run_invoke("synth", "--env", "qa")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {ROOT / 'dsplatform.yml'}: environments.qa: no such environment; use one of dev, prod, stg"]


def test_invoke_lint_passes_on_the_repository_config():
    result = run_invoke("lint", "--env", "all")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "lint prod: ok" in result.stdout


@pytest.mark.parametrize(("args", "message"), [
    (("deploy", "--env", "dev", "--concurrency", "abc"), "error: --concurrency 'abc' is not a whole number"),
    (("deploy", "--env", "dev", "--concurrency", "0"), "error: --concurrency '0' is out of range"),
    (("data.sample", "--rows", "many"), "error: --rows 'many' is not a whole number"),
    (("data.sample", "--dirty", "1.5"), "error: --dirty '1.5' is out of range; give a number >= 0, <= 1"),
    (("model.train", "--env", "dev", "--rows", "x"), "error: --rows 'x' is not a whole number"),
    (("localstack.status", "--port", "http"), "error: --port 'http' is not a whole number"),
    (("localstack.coverage", "--env", "dev", "--format", "xml"), "error: --format 'xml' is not a format"),
    (("synth", "--env", "dev", "--target", "docker"), "error: --target: 'docker' is not a target"),
    (("e2e", "--env", "prod"), "error: environment 'prod' is protected"),
])
def test_bad_flags_exit_2_with_one_line_and_touch_nothing(args, message, tmp_path):
    # The real `invoke` command in a project folder of its own, so what it writes can be seen: nothing.
    # (tests/unit/test_bad_flags.py runs ~120 more in-process, where clients and sockets also fail loudly.)
    for name in ("dsplatform.yml", "tasks.py"):
        shutil.copy(ROOT / name, tmp_path / name)
    before = snapshot(tmp_path)
    result = run_invoke(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), lines
    assert snapshot(tmp_path) == before


def test_aws_targets_name_the_bootstrap_execution_role_and_localstack_none() -> None:
    from pathlib import Path

    from dsplatform.config import load_config
    from dsplatform.synth import make_target

    project = load_config(Path(__file__).resolve().parents[2] / "dsplatform.yml")
    assert make_target(project, "stg").execution_role_arn == "arn:aws:iam::222222222222:role/ds-cfn-exec-us-east-1"
    assert make_target(project, "stg", "localstack").execution_role_arn is None
