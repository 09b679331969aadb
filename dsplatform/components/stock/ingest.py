"""Stock component ``ingest``: the Lambda function cataloguing every file arriving under raw/ in DynamoDB,
its code in ``functions/ingest`` (a code asset), and optionally starting the pipeline on arrival."""

from __future__ import annotations

from blueprints import ingest
from dsplatform.components.model import Component, Context, Function

FUNCTION = "ingest"


def props(ctx: Context) -> ingest.IngestProps:
    """Ingest props from ``settings.ingest``, ``settings.schedule.trigger`` and the log retention."""
    s, names = ctx.env.settings, ctx.names
    return ingest.IngestProps(
        function_name=names.function(FUNCTION), status_function_name=names.function(f"{FUNCTION}-status"),
        queue_name=names.queue(f"{FUNCTION}-failures"),
        arrival_rule_name=names.rule(f"{FUNCTION}-arrivals"), status_rule_name=names.rule(f"{FUNCTION}-outcomes"),
        alarm_name=names.alarm(FUNCTION, "Errors"), trigger=s.schedule.trigger,
        memory_mb=s.ingest.memory_mb, timeout_seconds=s.ingest.timeout_seconds,
        retry_attempts=s.ingest.retry_attempts, ttl_attribute=s.ingest.ttl_attribute,
        errors_threshold=s.ingest.errors_threshold, log_retention_days=s.logs.retention_days,
        kms=s.storage.encryption == "kms")


COMPONENT = Component("ingest", ingest.build, props, ingest.IngestOutputs, ("storage", "orchestration", "alerts"),
                      scenarios="harness.scenarios.ingest", functions=(Function(FUNCTION, bundled=True),))
