"""The streaming core: chunks in, validated and model-transformed chunks out to Parquet and CSV, rejects aside."""

from __future__ import annotations

import ctypes
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ds_preprocessing import csvsafe, extensions, reader, schema, validate
from ds_preprocessing import model as model_mod
from ds_preprocessing.errors import ExtensionError, JobError
from ds_preprocessing.logs import JsonLogger
from ds_preprocessing.s3io import MultipartWriter


@dataclass(frozen=True)
class OutputKeys:
    """Where one run's outputs live in the output bucket."""

    parquet: str
    csv: str
    rejected: str
    manifest: str

    @classmethod
    def for_run(cls, run_id: str) -> OutputKeys:
        """Return the contract's keys for ``run_id``."""
        return cls(
            parquet=f"processed/{run_id}/data.parquet", csv=f"processed/{run_id}/data.csv",
            rejected=f"rejected/{run_id}/rejected.csv", manifest=f"processed/{run_id}/_manifest.json",
        )


@dataclass
class Result:
    """Counts and schema of a finished pass over the input."""

    rows_read: int = 0
    rows_valid: int = 0
    rows_written: int = 0
    rows_rejected: int = 0
    chunks: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    output_schema: pa.Schema | None = None


def base_schema(pipeline: Any) -> pa.Schema:
    """Output schema without a script: passthrough columns, then the model's float64 features."""
    fields = list(validate.VALID_SCHEMA)
    fields += [pa.field(name, pa.float64()) for name in model_mod.feature_names(pipeline)]
    return pa.schema(fields)


def to_output(valid: pa.Table, pipeline: Any) -> pa.Table:
    """Return the output rows for typed valid rows: the passthrough columns plus the model's features."""
    # Transposed to contiguous rows so each feature column becomes an Arrow array without another copy.
    features = np.ascontiguousarray(model_mod.transform_matrix(pipeline, valid).T)
    columns = [*valid.columns, *(pa.array(row) for row in features)]
    return pa.Table.from_arrays(columns, schema=base_schema(pipeline))


def _to_table(data: pd.DataFrame | pa.Table, target: pa.Schema | None, script_key: str | None) -> pa.Table:
    table = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
    if "event_date" in table.column_names and pa.types.is_timestamp(table.schema.field("event_date").type):
        index = table.column_names.index("event_date")
        table = table.set_column(index, "event_date", table.column("event_date").cast(pa.date32()))
    if target is None or table.schema.equals(target):
        return table
    try:
        return table.select(target.names).cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, KeyError) as exc:
        problem = " ".join(str(exc).split())[:200]
        if script_key:
            raise ExtensionError(
                f"script {script_key} transform() changed the output schema between chunks: {problem}"
            ) from exc
        raise JobError(f"output schema changed between chunks: {problem}") from exc


class _TableSink:
    """A Parquet + CSV pair opened lazily on the first table, because the schema comes from that table."""

    def __init__(self, open_sink: Callable[[str, str], MultipartWriter], keys: OutputKeys) -> None:
        self._open_sink, self._keys = open_sink, keys
        self.schema: pa.Schema | None = None
        self._sinks: list[MultipartWriter] = []
        self._parquet: pq.ParquetWriter | None = None
        self._csv: pacsv.CSVWriter | None = None

    def open(self, schema_: pa.Schema) -> None:
        self.schema = schema_
        parquet_sink = self._open_sink(self._keys.parquet, "application/vnd.apache.parquet")
        csv_sink = self._open_sink(self._keys.csv, "text/csv; charset=utf-8")
        self._sinks = [parquet_sink, csv_sink]
        self._parquet = pq.ParquetWriter(parquet_sink, schema_, compression="snappy")
        self._csv = pacsv.CSVWriter(csv_sink, schema_)

    def write(self, table: pa.Table) -> None:
        if self._parquet is None:
            self.open(table.schema)
        assert self._parquet is not None and self._csv is not None
        self._parquet.write_table(table)
        self._csv.write_table(csvsafe.neutralise_table(table))

    def close(self, empty_schema: pa.Schema) -> None:
        if self._parquet is None:
            self.open(empty_schema)  # no valid rows at all: still commit empty files with the model's schema
        assert self._parquet is not None and self._csv is not None
        self._parquet.close()
        self._csv.close()
        for sink in self._sinks:
            sink.close()

    def abort(self) -> None:
        for sink in self._sinks:
            sink.abort()


def _load_malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim  # type: ignore[no-any-return]
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to trim
        return None


_MALLOC_TRIM = _load_malloc_trim()


def release_free_memory() -> None:
    """Hand memory freed by the last chunk back to the OS.

    glibc keeps freed heap pages of a chunk's many small objects (sklearn's per-row category lookups) and its
    adaptive mmap threshold lets later chunks land there too, so RSS creeps with input size; trimming after
    each chunk keeps peak RSS at one chunk's working set.
    """
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def current_rss_mib() -> float | None:
    """Resident memory of this process in MiB (Linux), logged per chunk so memory can be watched in the logs."""
    try:
        with open("/proc/self/statm") as statm:
            return round(int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)
    except (OSError, ValueError, IndexError):
        return None


def run_stream(
    body: Any,
    where: str,
    pipeline: Any,
    open_sink: Callable[[str, str], MultipartWriter],
    keys: OutputKeys,
    logger: JsonLogger,
    script: tuple[Callable[[pd.DataFrame], Any], str] | None = None,
    block_size: int = reader.DEFAULT_BLOCK_SIZE,
) -> Result:
    """Process the whole input stream chunk by chunk; outputs are committed only if every chunk succeeds."""
    result = Result()
    tables = _TableSink(open_sink, keys)
    rejected_sink = open_sink(keys.rejected, "text/csv; charset=utf-8")
    rejected_writer = pacsv.CSVWriter(rejected_sink, validate.REJECTED_SCHEMA)
    # Without a script the schema is known up front; a script's output schema is whatever its first chunk has.
    fixed = None if script is not None else base_schema(pipeline)
    try:
        for chunk in reader.iter_chunks(body, where, block_size=block_size):
            result.chunks += 1
            result.rows_read += chunk.records
            parts = validate.split(chunk.batch)
            rejected = parts.rejected
            if chunk.malformed or chunk.oversized:
                rejected = pa.concat_tables([
                    rejected, validate.malformed_rows(chunk.malformed),
                    validate.malformed_rows(chunk.oversized, schema.OVERSIZED_ROW),
                ])
            if rejected.num_rows:
                rejected_writer.write_table(csvsafe.neutralise_table(rejected))
                for reasons in rejected.column(validate.REASON_COLUMN).to_pylist():
                    result.reasons.update(reasons.split(";"))
                result.rows_rejected += rejected.num_rows
            if parts.valid.num_rows:
                output: pa.Table | pd.DataFrame = to_output(parts.valid, pipeline)
                if script is not None:
                    output = extensions.apply_script(script[0], output.to_pandas(), script[1])
                table = _to_table(output, tables.schema or fixed, script[1] if script else None)
                tables.write(table)
                result.rows_valid += parts.valid.num_rows
                result.rows_written += table.num_rows  # a script may filter rows; rows_valid keeps the input side
            release_free_memory()
            logger.info(
                "chunk processed", chunk=result.chunks, rows_read=result.rows_read,
                rows_written=result.rows_written, rows_rejected=result.rows_rejected, rss_mib=current_rss_mib(),
            )
        rejected_writer.close()
        rejected_sink.close()
        tables.close(base_schema(pipeline))
    except BaseException:
        rejected_sink.abort()
        tables.abort()
        raise
    result.output_schema = tables.schema
    return result


def schema_fields(schema_: pa.Schema | None) -> list[dict[str, str]]:
    """Return a JSON-friendly description of an Arrow schema."""
    return [] if schema_ is None else [{"name": f.name, "type": str(f.type)} for f in schema_]

