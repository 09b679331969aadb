"""The streaming core: chunks in, validated and model-transformed chunks out to Parquet and CSV, rejects aside."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ds_preprocessing import csvsafe, csvtext, extensions, fastmodel, reader, schema, stages, validate
from ds_preprocessing import model as model_mod
from ds_preprocessing.errors import ExtensionError, JobError
from ds_preprocessing.keys import OutputKeys as OutputKeys
from ds_preprocessing.logs import JsonLogger
from ds_preprocessing.memory import Trimmer, current_rss_mib
from ds_preprocessing.s3io import MultipartWriter


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


_COMPILED: dict[int, tuple[Any, fastmodel.FastTransform | None]] = {}


def compiled(pipeline: Any) -> fastmodel.FastTransform | None:
    """The pipeline's fast transform (None: use scikit-learn), compiled once per pipeline object."""
    cached = _COMPILED.get(id(pipeline))
    if cached is None or cached[0] is not pipeline:
        cached = (pipeline, fastmodel.compile_pipeline(pipeline))
        _COMPILED.clear()  # one model per run: keep only the current one alive
        _COMPILED[id(pipeline)] = cached
    return cached[1]


def to_output(valid: pa.Table, pipeline: Any) -> pa.Table:
    """Return the output rows for typed valid rows: the passthrough columns plus the model's features."""
    fast = compiled(pipeline)
    if fast is not None:
        features = fast.columns(valid)
    else:
        # Transposed to contiguous rows so each feature column becomes an Arrow array without another copy.
        matrix = np.ascontiguousarray(model_mod.transform_matrix(pipeline, valid).T)
        features = [pa.array(row) for row in matrix]
    return pa.Table.from_arrays([*valid.columns, *features], schema=base_schema(pipeline))


def csv_integer_columns(pipeline: Any) -> frozenset[str]:
    """Output columns holding only 0.0/1.0 (one-hot), which CSV writes as "0"/"1" either way, faster from int8."""
    fast = compiled(pipeline)
    if fast is None:
        return frozenset()
    offset = len(validate.VALID_SCHEMA)
    names = base_schema(pipeline).names
    return frozenset(names[offset + index] for index in fast.onehot_columns)


# Rows per Parquet row group: several chunks (~31,000 rows each) are gathered into one. One row group per chunk
# cost 8-12% more CPU and made the file 17-22% larger (a dictionary page per column per group); readers also
# prefer fewer, larger groups. Costs about one output chunk of memory per 31,000 rows held.
PARQUET_ROW_GROUP_ROWS = 128 * 1024

# Bytes the input is read ahead by, in pieces of this size (two pieces ahead): one ranged GET each.
READ_AHEAD_PIECE = 8 << 20

# pyarrow's CSV writer formats 1,024 rows at a time by default; 16,384 took 18% less CPU for the same bytes
# (the per-batch cost is per column, and the output has 19 columns).
CSV_WRITE_OPTIONS = pacsv.WriteOptions(batch_size=16 * 1024)

# Columns whose values are (nearly) all distinct: a dictionary page only costs time before Parquet falls back
# to plain encoding. Without one for ``id``, Parquet writing took 18% less CPU and the file was 8% smaller.
UNIQUE_COLUMNS: frozenset[str] = frozenset({"id"})


def parquet_dictionary_columns(schema_: pa.Schema) -> list[str]:
    """Columns written with dictionary encoding: every column but the (unique) ``UNIQUE_COLUMNS``."""
    return [name for name in schema_.names if name not in UNIQUE_COLUMNS]


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


class TableSink:
    """A Parquet + CSV pair opened lazily on the first table, because the schema comes from that table."""

    def __init__(self, open_sink: Callable[[str, str], MultipartWriter], keys: OutputKeys,
                 csv_integers: frozenset[str] = frozenset()) -> None:
        self._open_sink, self._keys = open_sink, keys
        self._csv_integers = csv_integers
        self.schema: pa.Schema | None = None
        self._sinks: list[MultipartWriter] = []
        self._parquet: pq.ParquetWriter | None = None
        self._pending: list[pa.Table] = []  # chunks waiting to fill one Parquet row group
        self._pending_rows = 0
        self._csv: pacsv.CSVWriter | None = None
        self._csv_sink: MultipartWriter | None = None
        self._renderer: csvtext.Renderer | None = None  # set when the schema's CSV is rendered by csvtext

    def open(self, schema_: pa.Schema) -> None:
        self.schema = schema_
        parquet_sink = self._open_sink(self._keys.parquet, "application/vnd.apache.parquet")
        csv_sink = self._open_sink(self._keys.csv, "text/csv; charset=utf-8")
        self._sinks = [parquet_sink, csv_sink]
        self._parquet = pq.ParquetWriter(
            parquet_sink, schema_, compression="snappy", use_dictionary=parquet_dictionary_columns(schema_)
        )
        self._csv_sink = csv_sink
        # One-hot float columns: written as integers ("0"/"1", the same text as the floats' rendering).
        integers = [i for i, f in enumerate(schema_) if f.name in self._csv_integers and pa.types.is_float64(f.type)]
        if csvtext.supported(schema_):
            # The same bytes as pyarrow's writer, about 9% less CPU (each distinct value and one-hot pattern once).
            self._renderer = csvtext.Renderer(integers)
            csv_sink.write(csvtext.header(schema_))
            return
        self._csv_schema = pa.schema([
            pa.field(f.name, pa.int8()) if i in integers else f for i, f in enumerate(schema_)
        ])
        self._csv = pacsv.CSVWriter(csv_sink, self._csv_schema, write_options=CSV_WRITE_OPTIONS)

    def write_parquet(self, table: pa.Table) -> None:
        """Append rows to the Parquet file (``open`` first); a row group is written once it holds enough rows."""
        assert self._parquet is not None
        self._pending.append(table)
        self._pending_rows += table.num_rows
        if self._pending_rows >= PARQUET_ROW_GROUP_ROWS:
            self._flush_parquet()

    def _flush_parquet(self) -> None:
        assert self._parquet is not None
        if self._pending_rows:
            self._parquet.write_table(pa.concat_tables(self._pending), row_group_size=self._pending_rows)
        self._pending, self._pending_rows = [], 0

    def write_csv(self, table: pa.Table) -> None:
        """Append rows to the CSV file, formula-like text neutralised (``open`` first)."""
        as_csv = csvsafe.neutralise_table(table)
        if self._renderer is not None:
            assert self._csv_sink is not None
            self._csv_sink.write(self._renderer.render(as_csv))
            return
        assert self._csv is not None
        if self._csv_integers:
            as_csv = as_csv.cast(self._csv_schema)
        self._csv.write_table(as_csv)

    def close(self, empty_schema: pa.Schema) -> None:
        if self._parquet is None:
            self.open(empty_schema)  # no valid rows at all: still commit empty files with the model's schema
        assert self._parquet is not None
        self._flush_parquet()
        self._parquet.close()
        if self._csv is not None:
            self._csv.close()
        for sink in self._sinks:
            sink.close()

    def abort(self) -> None:
        self._pending, self._pending_rows = [], 0
        for sink in self._sinks:
            sink.abort()


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
    """Process the whole input stream chunk by chunk; outputs are committed only if every chunk succeeds.

    Reading and parsing run a chunk or two ahead on a thread, writing and uploading a chunk behind on another
    (``stages``); validation, the model and the script run here, in input order.
    """
    result = Result()
    # Without a script the schema is known up front; a script's output schema is whatever its first chunk has.
    fixed = None if script is not None else base_schema(pipeline)
    tables = TableSink(open_sink, keys, csv_integer_columns(pipeline) if script is None else frozenset())
    rejected_sink = open_sink(keys.rejected, "text/csv; charset=utf-8")
    rejected_writer = pacsv.CSVWriter(rejected_sink, validate.REJECTED_SCHEMA, write_options=CSV_WRITE_OPTIONS)
    # Parquet and CSV are encoded and uploaded on two threads of their own, each a chunk behind.
    parquet_behind = stages.Behind(depth=1, name="ds-parquet")  # thread names show in per-thread CPU (bench)
    csv_behind = stages.Behind(depth=1, name="ds-csv")
    trim = Trimmer()
    ahead = _read_ahead(body)
    try:
        for chunk in stages.prefetch(reader.iter_chunks(ahead, where, block_size=block_size)):
            result.chunks += 1
            result.rows_read += chunk.records
            parts = validate.split(chunk.batch)
            rejected = parts.rejected
            if chunk.malformed or chunk.oversized:
                rejected = pa.concat_tables([
                    rejected, validate.malformed_rows(chunk.malformed),
                    validate.malformed_rows(chunk.oversized, schema.OVERSIZED_ROW),
                ])
            table = None
            if rejected.num_rows:
                result.reasons.update(_reason_counts(rejected))
                result.rows_rejected += rejected.num_rows
            if parts.valid.num_rows:
                output: pa.Table | pd.DataFrame = to_output(parts.valid, pipeline)
                if script is not None:
                    output = extensions.apply_script(script[0], output.to_pandas(), script[1])
                table = _to_table(output, tables.schema or fixed, script[1] if script else None)
                if tables.schema is None:
                    tables.open(table.schema)  # later chunks are cast to the first one's schema
                result.rows_valid += parts.valid.num_rows
                result.rows_written += table.num_rows  # a script may filter rows; rows_valid keeps the input side
                parquet_behind.submit(functools.partial(tables.write_parquet, table))
            csv_behind.submit(functools.partial(_write_csv, rejected, table, rejected_writer, tables, trim))
            logger.info(
                "chunk processed", chunk=result.chunks, rows_read=result.rows_read,
                rows_written=result.rows_written, rows_rejected=result.rows_rejected, rss_mib=current_rss_mib(),
            )
        parquet_behind.finish()
        csv_behind.finish()
        rejected_writer.close()
        rejected_sink.close()
        tables.close(base_schema(pipeline))
    except BaseException:
        if isinstance(ahead, reader.Peeked) and isinstance(ahead.source, stages.ReadAhead):
            ahead.source.close()  # no more GETs of an input the run no longer reads
        parquet_behind.cancel()
        csv_behind.cancel()
        rejected_sink.abort()
        tables.abort()
        raise
    result.output_schema = tables.schema
    return result


def _read_ahead(body: Any) -> Any:
    """The input with its next S3 ranges fetched on a thread of their own while the current one is parsed."""
    if isinstance(body, reader.Peeked):
        return reader.Peeked(source=stages.ReadAhead(body.source, READ_AHEAD_PIECE), header=body.header,
                             prefix=body.prefix)
    return body  # a plain stream (tests, local files): read where it is


def _reason_counts(rejected: pa.Table) -> Counter[str]:
    counts: Counter[str] = Counter()
    reasons = rejected.column(validate.REASON_COLUMN)
    for item in pc.value_counts(reasons).to_pylist():
        for code in str(item["values"]).split(";"):
            counts[code] += item["counts"]
    return counts


def _write_csv(rejected: pa.Table, table: pa.Table | None, rejected_writer: pacsv.CSVWriter,
               tables: TableSink, trim: Callable[[], bool]) -> None:
    if rejected.num_rows:
        rejected_writer.write_table(csvsafe.neutralise_table(rejected))
    if table is not None:
        tables.write_csv(table)
    trim()


def schema_fields(schema_: pa.Schema | None) -> list[dict[str, str]]:
    """Return a JSON-friendly description of an Arrow schema."""
    return [] if schema_ is None else [{"name": f.name, "type": str(f.type)} for f in schema_]

