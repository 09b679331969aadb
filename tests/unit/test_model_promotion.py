"""The model promotion gate: the exact artifact and image digest, a passing record, the quality bar."""

from __future__ import annotations

import json

import pytest

from dsplatform.workflows.promotion.artifacts import ArtifactEvidence
from dsplatform.workflows.promotion.model import ACCURACY, ModelPromotionRefused, ServedModel, gate
from dsplatform.workflows.promotion.record import ImageEvidence, Record, Who
from dsplatform.workflows.scenarios import ScenarioRun, scenario_metrics

SHA, DIGEST = "a" * 64, "sha256:" + "b" * 64
SERVED = ServedModel(endpoint="ds-staging", name="ds-model", version="3", bucket="ds-artifacts-stg",
                     key="models/ds-model/3/model.tar.gz", sha256=SHA, version_id="", image="repo@" + DIGEST,
                     digest=DIGEST)


def _record(*, sha: str = SHA, digest: str = DIGEST, accuracy: float | None = 0.93, passed: bool = True) -> Record:
    return Record(kind="e2e", env="stg", account_id="222222222222", created_at="2026-11-30T12:00:00Z",
                  who=Who("arn:aws:iam::222222222222:user/ci", "ci", "host"),
                  images=(ImageEvidence("serving", "ds-serving", "latest", digest, "c" * 64),),
                  scenarios=("test_serving",), renderings={}, passed=passed,
                  artifacts=(ArtifactEvidence("serving-model", SERVED.bucket, SERVED.key, sha),),
                  metrics={} if accuracy is None else {ACCURACY: accuracy})


def test_the_newest_record_for_exactly_this_artifact_and_digest_above_the_bar_is_the_evidence() -> None:
    good = _record()
    records = [("k4", _record(passed=False)), ("k3", _record(sha="f" * 64)),
               ("k2", _record(digest="sha256:" + "0" * 64)), ("k1", good)]
    assert gate(records, SERVED, 0.8, "stg", "prod") == ("k1", good)


def test_a_model_below_the_quality_bar_is_refused_naming_the_metric_and_the_setting() -> None:
    with pytest.raises(ModelPromotionRefused) as caught:
        gate([("k1", _record(accuracy=0.62))], SERVED, 0.8, "stg", "prod")
    message = str(caught.value)
    assert "serving.accuracy 0.620 of ds-model v3 on the stg holdout is below " \
           "environments.prod.settings.serving.min_accuracy 0.8" in message
    assert caught.value.exit_code == 2 and "\n" not in message


@pytest.mark.parametrize("record", [_record(sha="f" * 64), _record(digest="sha256:" + "0" * 64),
                                    _record(passed=False), _record(accuracy=None)])
def test_without_a_record_for_the_exact_version_image_and_measurement_promotion_is_refused(record: Record) -> None:
    with pytest.raises(ModelPromotionRefused, match=r"no passing stg e2e record covers ds-model v3"):
        gate([("k1", record)], SERVED, 0.8, "stg", "prod")


def test_records_keep_their_metrics_through_the_store_format() -> None:
    record = _record(accuracy=0.91)
    assert Record.from_dict(json.loads(record.to_json())).metrics == {ACCURACY: 0.91}


def test_only_passed_scenarios_metrics_reach_the_record() -> None:
    run = ScenarioRun(exit_code=0, seconds=1.0, passed=["a"], failed=["b"], scenarios=[
        {"nodeid": "a", "notes": ["run id x", "metric serving.accuracy=0.9", "metric bad=x"]},
        {"nodeid": "b", "notes": ["metric serving.accuracy=0.1"]}])
    assert scenario_metrics(run) == {"serving.accuracy": 0.9}
