"""The model the API serves: loaded from the artifact bucket at start, checksum-verified as the job does."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from ds_preprocessing import model as model_mod
from ds_preprocessing import process

from ds_api.settings import ModelLocation


@dataclass
class ModelState:
    """The loaded model, or why there is none yet (then /ready answers 503 with the reason)."""

    loaded: model_mod.LoadedModel | None = None
    error: str | None = "model not loaded yet"
    features: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self, s3_client: Any, location: ModelLocation) -> None:
        """Download, verify and load the model (the job's load_model: SHA-256 before unpickling)."""
        loaded = model_mod.load_model(s3_client, location.artifact_bucket, location.model_key, location.model_version)
        with self.lock:
            self.loaded, self.error = loaded, None
            self.features = model_mod.feature_names(loaded.pipeline)

    def fail(self, reason: str) -> None:
        """Record why the model could not be loaded."""
        with self.lock:
            self.loaded, self.error = None, reason

    def describe(self) -> dict[str, Any]:
        """GET /v1/model: version, checksum, where it came from and the feature names."""
        assert self.loaded is not None
        return {
            "version": self.loaded.version,
            "sha256": self.loaded.sha256,
            "bucket": self.loaded.bucket,
            "key": self.loaded.key,
            "features": self.features,
        }

    def transform(self, valid: pa.Table) -> list[dict[str, Any]]:
        """The job's output rows for typed valid rows (passthrough columns + features), as JSON objects."""
        assert self.loaded is not None
        table = process.to_output(valid, self.loaded.pipeline)
        rows = table.to_pylist()
        for row in rows:
            if row.get("event_date") is not None:
                row["event_date"] = row["event_date"].isoformat()
        return rows
