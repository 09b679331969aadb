"""The plugin seen from a pytest run: options, markers, fixtures, cleanup reporting, no false pass."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dsplatform.workflows.scenarios import plugin_args
from tests.harness.fake_platform import CONFTEST

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "harness" / "scenarios"


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # --ds-target: without it the plugin reads dsplatform.yml, which pytester's folder does not have.
    return pytester.runpytest(*plugin_args(), "-p", "no:cacheprovider", "--ds-target=localstack", *args)


def test_options_are_in_one_group_and_reach_the_stash(pytester: pytest.Pytester) -> None:
    help_text = run(pytester, "--help").stdout.str()
    assert "dsplatform end-to-end harness" in help_text
    for option in ("--ds-env", "--ds-target", "--ds-config", "--ds-keep", "--ds-reuse"):
        assert option in help_text
    pytester.makepyfile(
        """
        from harness.state import SETTINGS_KEY

        def test_settings(pytestconfig):
            s = pytestconfig.stash[SETTINGS_KEY]
            assert (s.env, s.target, s.config_path, s.keep, s.reuse) == ("stg", "aws", "x.yml", True, True)
        """
    )
    result = pytester.runpytest(*plugin_args(), "-p", "no:cacheprovider", "--ds-env=stg", "--ds-target=aws",
                                "--ds-config=x.yml", "--ds-keep", "--ds-reuse")
    result.assert_outcomes(passed=1)


def test_bad_target_is_rejected(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--ds-target=azure")
    assert result.ret != 0
    assert "invalid choice" in result.stderr.str()


def test_aws_only_marker_skips_with_its_reason_on_localstack(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.ds_aws_only(reason="no policy simulator here")
        def test_sim():
            pass

        @pytest.mark.ds_localstack_only(reason="emulator only")
        def test_local():
            pass
        """
    )
    result = run(pytester, "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*needs target aws (localstack cannot): no policy simulator here*"])


def test_reuse_fails_clearly_when_the_environment_is_absent(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        CONFTEST
        + """
from dsplatform.stackspec import Plan, StackSpec, Target


@pytest.fixture(scope="session")
def ds_plan():
    target = Target(env="dev", account_id="123456789012", region=REGION, kind="aws")
    return Plan(target=target, stacks=(StackSpec(name="ds-dev-storage", component="storage", template={}),))


@pytest.fixture(scope="session")
def ds_platform(ds_plan, ds_deployed):  # the plugin's own, over the fake one of CONFTEST
    from harness.platform import platform_from_deployed

    return platform_from_deployed(ds_plan, ds_deployed)
"""
    )
    pytester.makepyfile("def test_needs_platform(ds_platform):\n    pass\n")
    result = run(pytester, "--ds-reuse")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*environment 'dev' is not deployed (missing or unusable: ds-dev-storage)*"])


def test_run_factory_cleans_up_in_reverse_order_and_removes_data(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    # One inner test; the check runs in a fixture set up before ds_run, so it is torn down after ds_run's
    # cleanup, whatever order or subset of tests pytest runs (-k, -p randomly, xdist).
    pytester.makepyfile(
        """
        import pytest

        ORDER = []

        @pytest.fixture
        def after_cleanup(ds_clients, ds_platform):
            yield
            assert ORDER == ["second", "first"]
            listed = ds_clients.client("s3").list_objects_v2(Bucket=ds_platform.input_bucket)
            assert listed.get("KeyCount", 0) == 0
            ORDER.append("checked")

        def test_creates(after_cleanup, ds_run, ds_platform, ds_clients):
            run = ds_run()
            key = run.put_input(b"id\\n1\\n")
            assert ds_clients.client("s3").get_object(Bucket=ds_platform.input_bucket, Key=key)["Body"].read()
            run.add_cleanup("first", lambda: ORDER.append("first"))
            run.add_cleanup("second", lambda: ORDER.append("second"))
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=1)  # errors=0: the after-cleanup check passed


def test_cleanup_failures_are_reported_as_errors_not_swallowed(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        """
        def test_leaves_a_mess(ds_run):
            run = ds_run()

            def boom():
                raise RuntimeError("bucket policy denied delete")

            run.add_cleanup("delete s3://x/y", boom)
            run.add_cleanup("fine", lambda: None)
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*cleanup of run e2e-* failed in 1 step(s): delete s3://x/y: RuntimeError: "
                                 "bucket policy denied delete*"])


def test_wait_helper_reports_the_last_state(pytester: pytest.Pytester) -> None:
    # A fake clock instead of real sleeps: the number of probes is exact, not a matter of machine load.
    pytester.makepyfile(
        """
        import itertools
        import pytest
        from harness import waiting
        from harness.waiting import WaitTimeout

        class Clock:
            now = 0.0
            slept = []

            def monotonic(self):
                return self.now

            def sleep(self, seconds):
                self.slept.append(seconds)
                self.now += seconds

        def test_times_out(ds_wait, monkeypatch):
            clock = Clock()
            monkeypatch.setattr(waiting, "time", clock)
            states = itertools.count()
            with pytest.raises(WaitTimeout) as err:
                ds_wait.until(lambda: next(states), lambda n: n < 0, what="a negative number",
                              timeout=3, interval=1)
            assert "timed out after 3s waiting for a negative number; last state seen: 3" == str(err.value)
            assert err.value.last_state == 3 and clock.slept == [1, 1, 1]

        def test_returns_the_state_that_is_done(ds_wait, monkeypatch):
            monkeypatch.setattr(waiting, "time", Clock())
            states = itertools.count()
            assert ds_wait.until(lambda: next(states), lambda n: n == 2, what="two", timeout=3, interval=1) == 2
        """
    )
    run(pytester).assert_outcomes(passed=2)


def _happy_path(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_happy=(SCENARIOS / "test_happy_path.py").read_text())
    # A subprocess: pandas/pyarrow/numpy cannot be imported afresh in one process, as in-process runs would.
    paths = [str(REPO), str(REPO / "containers" / "preprocessing"), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))


def run_subprocess(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(*plugin_args(), "-p", "no:cacheprovider", "--ds-target=localstack", *args)


def test_happy_path_scenario_passes_on_a_correct_pipeline(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _happy_path(pytester, monkeypatch)
    result = run_subprocess(pytester, f"--ds-report-json={pytester.path / 'r.json'}")
    result.assert_outcomes(passed=1)
    assert '"executions"' in (pytester.path / "r.json").read_text()


def test_happy_path_scenario_catches_a_broken_pipeline(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job that applies a slightly wrong scaler still 'succeeds'; the independent check must fail the scenario."""
    _happy_path(pytester, monkeypatch)
    monkeypatch.setenv("BREAK_JOB", "1")
    result = run_subprocess(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*_scaled: got*expected*"])


def test_readme_harness_example_runs_as_written(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's "Using the harness from another repo" example is executed, not trusted."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Using the harness from another repo", 1)[1]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    _happy_path(pytester, monkeypatch)
    pytester.makepyfile(test_happy="", test_readme=example)
    result = run_subprocess(pytester, f"--ds-config={REPO / 'dsplatform.yml'}")
    result.assert_outcomes(passed=1)
