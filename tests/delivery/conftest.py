"""tests/delivery: the pipeline scenario's source archive is a project of its own, not part of this suite."""

collect_ignore = ["pipeline_source"]
