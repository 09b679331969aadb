"""Small S3 readers the scenarios share."""

from __future__ import annotations

import io
import json
from typing import Any


def read_bytes(clients: Any, bucket: str, key: str) -> bytes:
    """The object's bytes."""
    return bytes(clients.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def read_json(clients: Any, bucket: str, key: str) -> Any:
    """The object parsed as JSON."""
    return json.loads(read_bytes(clients, bucket, key))


def read_parquet(clients: Any, bucket: str, key: str) -> Any:
    """The object read as a pandas DataFrame from Parquet."""
    import pandas as pd

    return pd.read_parquet(io.BytesIO(read_bytes(clients, bucket, key)))


def read_csv(clients: Any, bucket: str, key: str) -> Any:
    """The object read as a pandas DataFrame from CSV."""
    import pandas as pd

    return pd.read_csv(io.BytesIO(read_bytes(clients, bucket, key)))
