"""Tasks ``model.train`` and ``data.sample``: put a trained model and sample input where the job reads them."""

from __future__ import annotations

from invoke import Collection, task

from dsplatform.tasks._cli import check_s3_key, number_flag, plan_and_clients, user_errors

# About 80 bytes a row: 5 million rows is a 400 MB file, streamed to disk in chunks, never held in memory.
MAX_SAMPLE_ROWS = 5_000_000
# Training holds its rows in memory (pandas): keep it to what a laptop fits comfortably.
MAX_TRAIN_ROWS = 1_000_000
MAX_SEED = 2**32 - 1  # numpy's seed range

_COMMON = {"env": "environment (dev, stg, prod)", "config": "config file (default: dsplatform.yml)",
           "target": "override the environment's target: localstack or aws"}


@task(help={**_COMMON, "rows": f"training rows of generated sample data (10..{MAX_TRAIN_ROWS})",
            "seed": "random seed"})
@user_errors
def train(c, env="dev", config=None, target=None, rows="2000", seed="0"):
    """Fit the preprocessing model on sample data and upload it, with its SHA-256, where the job reads it."""
    from dsplatform.jobdata import train_and_upload

    rows = number_flag("--rows", rows, minimum=10, maximum=MAX_TRAIN_ROWS, example="2000")
    seed = number_flag("--seed", seed, minimum=0, maximum=MAX_SEED, example="0")
    plan, clients = plan_and_clients(env, config, target)
    bucket, key, sha = train_and_upload(plan, clients, rows=int(rows), seed=int(seed))
    print(f"model uploaded to s3://{bucket}/{key} (sha256 {sha})")


@task(help={"rows": f"number of rows (1..{MAX_SAMPLE_ROWS})",
            "out": "local file to write (default build/sample/monthly_data.csv)",
            "seed": "random seed", "dirty": "fraction of dirty rows, 0..1",
            "env": "also upload to this environment's input bucket", "config": _COMMON["config"],
            "target": _COMMON["target"], "key": "input key to upload to (default: the job's input-key)"})
@user_errors
def sample(c, rows="1000", out="build/sample/monthly_data.csv", seed="0", dirty="0.05", env=None, config=None,
           target=None, key=None):
    """Write realistic sample input (dirty rows included) to a file, streamed, and optionally upload it."""
    from dsplatform.jobdata import check_sample_out, upload_sample, write_sample_stream

    rows = int(number_flag("--rows", rows, minimum=1, maximum=MAX_SAMPLE_ROWS, example="1000"))
    dirty = float(number_flag("--dirty", dirty, float, minimum=0, maximum=1, example="0.05"))
    seed = int(number_flag("--seed", seed, minimum=0, maximum=MAX_SEED, example="0"))
    path = check_sample_out(str(out))
    if key is not None:
        check_s3_key("--key", key)
    # Environment, credentials and account are checked before the file is written.
    plan, clients = plan_and_clients(env, config, target) if env is not None else (None, None)
    print(f"wrote {write_sample_stream(path, rows, seed=seed, dirty_fraction=dirty)} ({rows} rows)")
    if plan is not None:
        bucket, uploaded = upload_sample(plan, clients, path, key)
        print(f"uploaded to s3://{bucket}/{uploaded}")


model = Collection("model", train)
data = Collection("data", sample)
