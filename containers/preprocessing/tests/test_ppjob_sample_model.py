"""Sample data generation, model training, and the checksummed model upload/load round trip."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from ds_preprocessing import model, sample, schema
from ds_preprocessing.errors import ModelError
from ppjob_support import ARTIFACT_BUCKET, MODEL_KEY, Platform


def test_generate_csv_is_deterministic_with_header_and_row_count() -> None:
    data = sample.generate_csv(1000, seed=3, dirty_fraction=0.1)
    assert data == sample.generate_csv(1000, seed=3, dirty_fraction=0.1)
    records = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert records[0] == list(schema.COLUMN_NAMES)
    assert len(records) == 1001


def test_generate_csv_dirty_fraction_controls_rejections() -> None:
    rows = list(csv.DictReader(io.StringIO(sample.generate_csv(4000, seed=5, dirty_fraction=0.0).decode())))
    assert all(schema.validate_row(r) == [] for r in rows)
    dirty = list(csv.reader(io.StringIO(sample.generate_csv(4000, seed=5, dirty_fraction=0.5).decode())))[1:]
    bad = sum(1 for r in dirty if len(r) != 7 or schema.validate_row(dict(zip(schema.COLUMN_NAMES, r, strict=True))))
    # Half the rows are dirty and 7 of the 11 dirty kinds are rejections: expect about 32% rejected.
    assert 0.25 < bad / len(dirty) < 0.40


def test_generate_csv_has_utf8_quoted_commas_and_unknown_categories() -> None:
    text = sample.generate_csv(3000, seed=1, dirty_fraction=0.3).decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))[1:]
    assert any("," in r[6] and '"' in r[6] for r in rows if len(r) == 7)
    assert any(not r[6].isascii() for r in rows if len(r) == 7)
    assert any(r[4] in sample.UNKNOWN_CATEGORIES for r in rows if len(r) == 7)


def test_trained_pipeline_features(trained: Any) -> None:
    names = model.feature_names(trained)
    assert names[:2] == ["amount_scaled", "quantity_scaled"]
    assert {f"category_{c}" for c in sample.CATEGORIES} <= set(names)
    assert not any(u in n for n in names for u in sample.UNKNOWN_CATEGORIES)


def test_upload_model_records_sha256_and_load_verifies(platform: Platform) -> None:
    digest = model.upload_model(platform.s3, ARTIFACT_BUCKET, "models/m.pkl", platform.trained, version="v9")
    head = platform.s3.head_object(Bucket=ARTIFACT_BUCKET, Key="models/m.pkl")
    assert head["Metadata"]["sha256"] == digest
    loaded = model.load_model(platform.s3, ARTIFACT_BUCKET, "models/m.pkl")
    assert loaded.sha256 == digest and loaded.version == "v9"
    assert model.feature_names(loaded.pipeline) == model.feature_names(platform.trained)


def test_load_model_refuses_tampered_bytes_before_unpickling(platform: Platform) -> None:
    original = platform.get(MODEL_KEY, bucket=ARTIFACT_BUCKET)
    head = platform.s3.head_object(Bucket=ARTIFACT_BUCKET, Key=MODEL_KEY)
    platform.s3.put_object(Bucket=ARTIFACT_BUCKET, Key=MODEL_KEY, Body=original + b"x", Metadata=head["Metadata"])
    with pytest.raises(ModelError, match="failed its checksum"):
        model.load_model(platform.s3, ARTIFACT_BUCKET, MODEL_KEY)


def test_load_model_refuses_object_without_checksum(platform: Platform) -> None:
    platform.s3.put_object(Bucket=ARTIFACT_BUCKET, Key="models/plain.pkl", Body=model.dumps(platform.trained))
    with pytest.raises(ModelError, match="no 'sha256' metadata"):
        model.load_model(platform.s3, ARTIFACT_BUCKET, "models/plain.pkl")
