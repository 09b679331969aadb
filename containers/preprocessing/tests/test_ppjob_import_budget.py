"""The plan and commit steps of a sharded run start without pandas, pyarrow or scikit-learn.

Each of those steps is a task start on a sharded run's critical path, and importing the data stack costs seconds
of CPU there; the steps run in a fresh interpreter here (as in a task) and the modules they loaded are checked.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

_JOB_ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "pyarrow", "sklearn", "scipy", "joblib")

# Runs in a fresh interpreter: the entry point's import, then the step named by argv[1], with an in-memory S3.
_STEP = r"""
import io, json, sys, types
import ds_preprocessing.__main__  # the task's entry point, as `python -m ds_preprocessing` imports it
from ds_preprocessing import job, schema, sharded, shards
from ds_preprocessing.logs import JsonLogger

class S3:
    def __init__(self):
        self.objects = {}
    def put_object(self, Bucket, Key, Body, **_):
        self.objects[Key] = Body
    def get_object(self, Bucket, Key, **_):
        return {"Body": io.BytesIO(self.objects[Key])}

step, s3 = sys.argv[1], S3()
log = JsonLogger(stream=io.StringIO())
header = ",".join(schema.COLUMN_NAMES).encode()
if step == "plan":  # an input of three shards: the record cutter runs
    data = header + b"\n" + b"".join(b"%d,2024-01-01\n" % i for i in range(300))
    columns, ranges = shards.plan_ranges(io.BytesIO(data), len(data), 1000, "s3://in/x.csv")
    assert len(ranges) > 2, ranges
elif step == "commit":
    cfg = types.SimpleNamespace(output_bucket="out", input_bucket="in", input_key="x.csv", run_id="r",
                                input_key_overridden=False)
    shard = shards.Shard(index=0, bucket="in", key="x.csv", start=10, end=20, columns=list(schema.COLUMN_NAMES),
                         etag="e", version_id=None, size=20)
    sharded.write_plan(s3, "out", "r", [shard])
    part = {"output_schema": [], "reject_reasons": {}, "started_at": "t", "rows_read": 1, "rows_written": 1,
            "rows_rejected": 0, "rows_valid": 1, "chunks": 1, "peak_rss_mib": 1.0, "model": None,
            "extensions": None, "outputs": {"parquet": "p", "csv": "c", "rejected": "j"}}
    s3.put_object(Bucket="out", Key=sharded.part_keys("r", 0).manifest, Body=json.dumps(part).encode())
    assert sharded.commit(s3, cfg, log) == 0
    assert json.loads(s3.objects["processed/r/_manifest.json"])["status"] == "succeeded"
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def _loaded(step: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", _STEP, step], cwd=_JOB_ROOT, capture_output=True, text=True,
                         check=False, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_the_commit_step_loads_no_data_stack():
    """Importing the entry point and committing a run's parts loads none of numpy, pandas, pyarrow, sklearn."""
    loaded = _loaded("commit")
    assert "ds_preprocessing" in loaded
    assert sorted(loaded & {*HEAVY, "numpy"}) == []


def test_the_plan_step_loads_numpy_only():
    """Planning an input of several shards needs the record cutter (numpy) and nothing heavier."""
    loaded = _loaded("plan")
    assert "numpy" in loaded
    assert sorted(loaded & set(HEAVY)) == []
