"""Load the MLflow pyfunc model SageMaker unpacked, and score a DataFrame with it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ds_serving.payload import PayloadError


class ModelLoadError(Exception):
    """The model folder holds no loadable MLflow model; the message says what was found and what is expected."""


def find_model_dir(root: Path) -> Path:
    """The folder with the MLmodel file: ``root`` itself, or its single subfolder that has one."""
    if (root / "MLmodel").is_file():
        return root
    if not root.is_dir():
        raise ModelLoadError(f"model folder {root} does not exist; unpack model.tar.gz there or set "
                             f"DS_SERVING_MODEL_DIR")
    found = sorted(p.parent for p in root.glob("*/MLmodel"))
    if len(found) == 1:
        return found[0]
    listing = ", ".join(sorted(p.name for p in root.iterdir())[:10]) or "nothing"
    raise ModelLoadError(f"no MLflow model (an MLmodel file) in {root} or one subfolder; found {listing}")


@dataclass
class Predictor:
    """A loaded model: ``predict(frame)`` maps schema violations to a 400 PayloadError."""

    model: Any
    input_columns: list[str] | None
    float_columns: tuple[str, ...] = ()

    def predict(self, frame: pd.DataFrame) -> Any:
        """Score the rows; a frame the model's signature rejects is the caller's error."""
        from mlflow.exceptions import MlflowException

        try:
            return self.model.predict(widen_integers(frame, self.float_columns))
        except MlflowException as err:
            if err.get_http_status_code() < 500:
                raise PayloadError(400, schema_reason(err.message)) from None
            raise


def widen_integers(frame: pd.DataFrame, float_columns: tuple[str, ...]) -> pd.DataFrame:
    """Integer columns the signature declares as float/double become float64.

    CSV and JSON clients send ``3`` for a quantity the model was trained on as ``3.0``; MLflow's schema check
    refuses int64 -> float64 as unsafe, which would turn every such request into a 400.
    """
    widened = [c for c in float_columns if c in frame.columns and pd.api.types.is_integer_dtype(frame[c])]
    return frame.astype({c: "float64" for c in widened}) if widened else frame


def schema_reason(message: str) -> str:
    """One line; for a schema failure, only MLflow's reason (its message also dumps the whole request)."""
    line = " ".join(message.split())
    if line.startswith("Failed to enforce schema") and " Error: " in line:
        return "the input does not match the model's signature: " + line.rsplit(" Error: ", 1)[1]
    return line[:1000]


def load(root: Path) -> Predictor:
    """Load the pyfunc model under ``root``; ModelLoadError with the reason if it cannot be loaded."""
    import mlflow.pyfunc

    folder = find_model_dir(root)
    try:
        model = mlflow.pyfunc.load_model(str(folder))
    except Exception as err:  # a corrupt pickle, a missing flavour dependency: the endpoint fails with why
        raise ModelLoadError(f"cannot load the MLflow model in {folder}: {type(err).__name__}: "
                             f"{schema_reason(str(err))[:500]}") from err
    schema = model.metadata.get_input_schema()
    if schema is None or not schema.has_input_names():
        return Predictor(model, None)
    floats = tuple(str(spec.name) for spec in schema.inputs
                   if getattr(getattr(spec, "type", None), "name", None) in ("double", "float"))
    return Predictor(model, [str(c) for c in schema.input_names()], floats)
