"""MLflow operations run inside the registry's own venv (mlflow, scikit-learn): ``python mlflow_ops.py CMD ARGS``.

Standalone on purpose: the project's venv has no mlflow, and this file imports nothing from dsplatform. Each
command prints one JSON object on stdout; a user error prints ``{"error": ...}`` and exits 2.
Commands: fit, save, predict, register, stage, alias, export, tag.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

FEATURES_NUMERIC = ("amount", "quantity")
FEATURES_CATEGORICAL = ("category", "region")
TARGET = "high_value"
HIGH_VALUE_AT = 100.0  # an order is high-value when amount * quantity reaches this
ALIAS = "staging"
SKOPS_TRUSTED = ["numpy.dtype"]  # reviewed: a dtype object (the encoder's output type), no code


class UserError(Exception):
    """Bad input (data, names, versions): reported as one line, exit 2."""


def _frame(path: str) -> Any:
    import pandas as pd

    source = Path(path)
    frame = pd.read_parquet(source) if source.suffix == ".parquet" else pd.read_csv(source)
    missing = [c for c in (*FEATURES_NUMERIC, *FEATURES_CATEGORICAL) if c not in frame.columns]
    if missing:
        raise UserError(f"training data {path} lacks columns {missing}; give the preprocessing job's output "
                        f"(output.csv or output.parquet)")
    return frame


def features_and_target(frame: Any) -> tuple[Any, Any]:
    """Model input (typed columns) and the label, for rows whose amount and quantity are known."""
    import numpy as np

    data = frame.copy()
    for name in FEATURES_NUMERIC:
        data[name] = data[name].astype("float64")
    for name in FEATURES_CATEGORICAL:
        data[name] = data[name].astype(object).where(data[name].notna(), np.nan).astype(str)
    known = data["amount"].notna() & data["quantity"].notna()
    data = data[known]
    target = ((data["amount"] * data["quantity"]) >= HIGH_VALUE_AT).astype("int64")
    return data[[*FEATURES_NUMERIC, *FEATURES_CATEGORICAL]].reset_index(drop=True), target.reset_index(drop=True)


def _pipeline(seed: int) -> Any:
    """Impute, log-scale the numbers (amount x quantity >= 100 is linear in log space), one-hot, logistic regression.

    A linear model on purpose: MLflow saves scikit-learn models with skops, which refuses tree internals unless
    trusted explicitly; this pipeline needs only ``numpy.dtype`` trusted.
    """
    import numpy as np
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("log", FunctionTransformer(np.log1p)),
                        ("scale", StandardScaler())])
    columns = ColumnTransformer([
        ("num", numeric, list(FEATURES_NUMERIC)),
        ("cat", OneHotEncoder(handle_unknown="ignore"), list(FEATURES_CATEGORICAL)),
    ])
    return Pipeline([("features", columns),
                     ("model", LogisticRegression(C=100.0, max_iter=2000, random_state=seed))])


def fit(args: argparse.Namespace) -> dict[str, Any]:
    """Train on the job's output, score a holdout, log a pyfunc with signature and input example; return the run."""
    import mlflow
    from mlflow.models import infer_signature
    from sklearn.model_selection import train_test_split

    features, target = features_and_target(_frame(args.data))
    if len(features) < 20 or target.nunique() < 2:
        raise UserError(f"training data {args.data} has {len(features)} usable rows and {target.nunique()} class(es);"
                        f" give at least 20 rows with both high- and low-value orders")
    train_x, test_x, train_y, test_y = train_test_split(features, target, test_size=0.25, random_state=args.seed,
                                                        stratify=target)
    pipeline = _pipeline(args.seed).fit(train_x, train_y)
    accuracy = float((pipeline.predict(test_x) == test_y).mean())
    mlflow.set_tracking_uri(args.uri)
    mlflow.set_experiment(args.experiment)
    with mlflow.start_run() as run:
        mlflow.log_params({"rows": len(features), "seed": args.seed, "high_value_at": HIGH_VALUE_AT})
        mlflow.log_metric("accuracy", accuracy)
        example = train_x.head(3)
        info = mlflow.sklearn.log_model(pipeline, name="model", input_example=example,
                                        signature=infer_signature(example, pipeline.predict(example)),
                                        skops_trusted_types=SKOPS_TRUSTED)
    return {"run_id": run.info.run_id, "model_uri": info.model_uri, "accuracy": accuracy, "rows": len(features)}


def save(args: argparse.Namespace) -> dict[str, Any]:
    """Train as ``fit`` does but write the pyfunc as model.tar.gz without a registry (tests, offline use)."""
    import mlflow
    from mlflow.models import infer_signature

    features, target = features_and_target(_frame(args.data))
    pipeline = _pipeline(args.seed).fit(features, target)
    example = features.head(3)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "model"
        mlflow.sklearn.save_model(pipeline, str(folder), input_example=example,
                                  signature=infer_signature(example, pipeline.predict(example)),
                                  skops_trusted_types=SKOPS_TRUSTED)
        return _tar(folder, Path(args.out))


def _tar(folder: Path, out: Path) -> dict[str, Any]:
    # gzip's header carries a time and a file name: both fixed, so one version always exports the same bytes.
    with open(out, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as zipped, \
            tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(folder.rglob("*")):
            info = tar.gettarinfo(str(path), arcname=str(path.relative_to(folder)))
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""  # reproducible bytes
            if path.is_file():
                with open(path, "rb") as handle:
                    tar.addfile(info, handle)
            else:
                tar.addfile(info)
    return {"path": str(out), "sha256": hashlib.sha256(out.read_bytes()).hexdigest()}


def register(args: argparse.Namespace) -> dict[str, Any]:
    """Register the run's logged model as a new version of ``name``."""
    import mlflow
    from mlflow.exceptions import MlflowException

    mlflow.set_tracking_uri(args.uri)
    try:
        run = mlflow.get_run(args.run)
    except MlflowException as err:
        raise UserError(f"run {args.run!r} is not in the registry at {args.uri}: {err.message}") from None
    version = mlflow.register_model(f"runs:/{run.info.run_id}/model", args.name)
    return {"name": version.name, "version": str(version.version), "run_id": run.info.run_id,
            "accuracy": run.data.metrics.get("accuracy")}


def _version(client: Any, name: str, version: str) -> Any:
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version(name, version)
    except MlflowException as err:
        raise UserError(f"model {name!r} has no version {version!r}: {err.message}") from None


def stage(args: argparse.Namespace) -> dict[str, Any]:
    """Point the alias (``staging``) at the version; MLflow 3 uses aliases where stages were."""
    from mlflow import MlflowClient

    client = MlflowClient(args.uri)
    found = _version(client, args.name, args.version)
    client.set_registered_model_alias(args.name, args.alias, found.version)
    return {"name": args.name, "version": str(found.version), "alias": args.alias}


def alias(args: argparse.Namespace) -> dict[str, Any]:
    """The version an alias points at (``{"version": null}`` when the alias is not set)."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        found = MlflowClient(args.uri).get_model_version_by_alias(args.name, args.alias)
    except MlflowException:
        return {"name": args.name, "alias": args.alias, "version": None}
    return {"name": args.name, "alias": args.alias, "version": str(found.version)}


def export(args: argparse.Namespace) -> dict[str, Any]:
    """Write the version's model folder as model.tar.gz (MLmodel at the root, as SageMaker unpacks it)."""
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(args.uri)
    _version(MlflowClient(args.uri), args.name, args.version)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(mlflow.artifacts.download_artifacts(f"models:/{args.name}/{args.version}", dst_path=tmp))
        return _tar(folder, Path(args.out))


def tag(args: argparse.Namespace) -> dict[str, Any]:
    """Set tags on a model version (the exported artifact's location and SHA-256)."""
    from mlflow import MlflowClient

    client = MlflowClient(args.uri)
    _version(client, args.name, args.version)
    for item in args.tags:
        key, _, value = item.partition("=")
        client.set_model_version_tag(args.name, args.version, key, value)
    return {"name": args.name, "version": args.version, "tags": dict(t.partition("=")[::2] for t in args.tags)}


def predict(args: argparse.Namespace) -> dict[str, Any]:
    """Predictions of a model (models:/NAME/VERSION, or a model.tar.gz) for a CSV, computed locally."""
    import mlflow

    mlflow.set_tracking_uri(args.uri)
    if args.model.endswith(".tar.gz"):
        folder = tempfile.mkdtemp()
        with tarfile.open(args.model) as tar:
            tar.extractall(folder, filter="data")
        model = mlflow.pyfunc.load_model(folder)
    else:
        model = mlflow.pyfunc.load_model(args.model)
    features, _ = features_and_target(_frame(args.data))
    return {"predictions": [int(p) for p in model.predict(features)]}


def main(argv: list[str] | None = None) -> int:
    """Parse the command, run it, print its JSON result."""
    parser = argparse.ArgumentParser(prog="mlflow_ops")
    parser.add_argument("--uri", required=True)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("fit")
    p.add_argument("--data", required=True)
    p.add_argument("--experiment", required=True)
    p.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("save")
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("predict")
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True)
    p = sub.add_parser("register")
    p.add_argument("--run", required=True)
    p.add_argument("--name", required=True)
    p = sub.add_parser("alias")
    p.add_argument("--name", required=True)
    p.add_argument("--alias", required=True)
    for command in ("stage", "export", "tag"):
        p = sub.add_parser(command)
        p.add_argument("--name", required=True)
        p.add_argument("--version", required=True)
        if command == "stage":
            p.add_argument("--alias", default=ALIAS)
        if command == "export":
            p.add_argument("--out", required=True)
        if command == "tag":
            p.add_argument("tags", nargs="+")
    args = parser.parse_args(argv)
    handlers = {"fit": fit, "save": save, "predict": predict, "register": register, "stage": stage, "export": export,
                "tag": tag, "alias": alias}
    try:
        result = handlers[args.command](args)
    except UserError as err:
        print(json.dumps({"error": str(err)}))
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
