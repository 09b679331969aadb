"""The enrich job: one JSON object per run under OUTPUT_PREFIX in OUTPUT_BUCKET (the run id comes from RUN_ID)."""

import json
import os
import sys

import boto3


def main() -> int:
    """Write the run's summary; exit non-zero when RUN_ID is missing (a failed task, as on ECS)."""
    run_id = os.environ.get("RUN_ID")
    if not run_id:
        print("enrich: RUN_ID is not set", file=sys.stderr)
        return 2
    body = {"run_id": run_id, "job": "enrich", "status": "done"}
    key = f"{os.environ['OUTPUT_PREFIX']}{run_id}.json"
    boto3.client("s3").put_object(Bucket=os.environ["OUTPUT_BUCKET"], Key=key, Body=json.dumps(body).encode())
    print(json.dumps({"event": "written", "key": key}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
