"""dsplatform used from another repo, as a user would: the wheel installed (not editable) into a fresh venv outside
the checkout, driving the consumer repo of docs/examples/consumer (project ``ml``, its own component, job and
scenario, its own LocalStack port) through synth, lint, deploy, outputs, destroy and e2e on a real LocalStack.
No PYTHONPATH, no monkeypatching: only the venv's console scripts in the consumer's folder (tests/consumer/conftest)."""

from __future__ import annotations

import pytest

from tests.consumer.conftest import REPO, Consumer, ok

pytestmark = [pytest.mark.localstack, pytest.mark.xdist_group("consumer")]  # one venv and LocalStack


def test_consumer_repo_end_to_end_from_the_installed_wheel(consumer: Consumer) -> None:
    repo = consumer.repo
    where = consumer.ok("python", "-c", "import dsplatform, harness; print(dsplatform.__file__)")
    assert str(REPO) not in where and "site-packages" in where  # the wheel, not this checkout
    # The stock job's own code comes from the image source the wheel ships (no ds_preprocessing package there).
    sample = consumer.ok("invoke", "data.sample", "--rows", "50", "--out", "build/sample.csv")
    assert "(50 rows)" in sample and (repo / "build" / "sample.csv").read_text().count("\n") == 51

    synth = consumer.ok("invoke", "synth", "--env", "dev")
    assert (repo / "build" / "dev" / "ml-dev-enrich.json").is_file() and "ml-dev-enrich" in synth
    consumer.ok("invoke", "lint", "--env", "dev")
    consumer.ok("invoke", "deploy", "--env", "dev", "--json")
    outputs = consumer.ok("invoke", "outputs", "--env", "dev")
    assert "ml-dev-enrich" in outputs and "TaskDefinitionArn" in outputs
    consumer.ok("invoke", "destroy", "--env", "dev", "--json")

    e2e = consumer.run("invoke", "e2e", "--env", "qa", timeout=900)
    ok(e2e)
    assert "test_enrich_job_runs_on_the_stock_cluster_and_writes_its_summary" in \
           (repo / "build" / "reports" / "junit.xml").read_text()
    assert "PASSED" in e2e.stdout and (repo / "build" / "reports" / "e2e.html").is_file()
