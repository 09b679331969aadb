"""The function keeps its own copy of the job's input columns (it must not import the job); they must agree."""

from __future__ import annotations

from ds_ingest import schema as function_schema
from ds_preprocessing import schema as job_schema


def test_function_columns_equal_the_jobs_input_schema() -> None:
    assert function_schema.COLUMN_NAMES == job_schema.COLUMN_NAMES
    assert function_schema.REQUIRED_COLUMNS == job_schema.REQUIRED_COLUMNS


def test_function_rejects_exactly_what_the_job_would_refuse() -> None:
    header = ["id", "amount", "category", "extra"]
    problem = function_schema.header_problem(header)
    assert problem is not None
    for missing in job_schema.missing_columns(header):
        assert missing in problem
    assert function_schema.header_problem([*job_schema.COLUMN_NAMES, "extra"]) is None
