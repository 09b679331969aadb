"""Tasks ``model.train`` and ``data.sample``: put a trained model and sample input where the job reads them."""

from __future__ import annotations

from pathlib import Path

from invoke import Collection, task

from dsplatform.tasks._cli import number_flag, plan_and_clients, user_errors

_COMMON = {"env": "environment (dev, stg, prod)", "config": "config file (default: dsplatform.yml)",
           "target": "override the environment's target: localstack or aws"}


@task(help={**_COMMON, "rows": "training rows of generated sample data", "seed": "random seed"})
@user_errors
def train(c, env="dev", config=None, target=None, rows="2000", seed="0"):
    """Fit the preprocessing model on sample data and upload it, with its SHA-256, where the job reads it."""
    from dsplatform.jobdata import train_and_upload

    rows = number_flag("--rows", rows, minimum=10, example="2000")
    seed = number_flag("--seed", seed, minimum=0, example="0")
    plan, clients = plan_and_clients(env, config, target)
    bucket, key, sha = train_and_upload(plan, clients, rows=int(rows), seed=int(seed))
    print(f"model uploaded to s3://{bucket}/{key} (sha256 {sha})")


@task(help={"rows": "number of rows (>= 1)", "out": "local file to write (default build/sample/monthly_data.csv)",
            "seed": "random seed", "dirty": "fraction of dirty rows, 0..1",
            "env": "also upload to this environment's input bucket", "config": _COMMON["config"],
            "target": _COMMON["target"], "key": "input key to upload to (default: the job's input-key)"})
@user_errors
def sample(c, rows="1000", out="build/sample/monthly_data.csv", seed="0", dirty="0.05", env=None, config=None,
           target=None, key=None):
    """Write realistic sample input (dirty rows included) to a file, and optionally upload it."""
    from dsplatform.jobdata import sample_csv, upload_sample, write_sample

    rows = int(number_flag("--rows", rows, minimum=1, example="1000"))
    dirty = float(number_flag("--dirty", dirty, float, minimum=0, maximum=1, example="0.05"))
    data = sample_csv(rows, seed=int(number_flag("--seed", seed, minimum=0, example="0")), dirty_fraction=dirty)
    print(f"wrote {write_sample(data, Path(out))} ({rows} rows)")
    if env:
        plan, clients = plan_and_clients(env, config, target)
        bucket, uploaded = upload_sample(plan, clients, data, key)
        print(f"uploaded to s3://{bucket}/{uploaded}")


model = Collection("model", train)
data = Collection("data", sample)
