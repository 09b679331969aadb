"""Stock component ``orchestration``: the Step Functions state machine that runs the job; owns the pipeline's
end-to-end scenarios (``harness.scenarios``)."""

from __future__ import annotations

from blueprints import orchestration
from dsplatform.components.model import Component, Context
from dsplatform.components.stock._pipeline import JOB


def props(ctx: Context) -> orchestration.OrchestrationProps:
    """Orchestration props from ``settings.orchestration``."""
    s = ctx.env.settings.orchestration
    return orchestration.OrchestrationProps(
        state_machine_name=ctx.names.state_machine(JOB), container_name=ctx.names.container(JOB),
        timeout_seconds=s.timeout_seconds, retry_attempts=s.retry_attempts,
        retry_interval_seconds=s.retry_interval_seconds, log_group_name=ctx.names.state_machine_log_group(JOB),
        log_retention_days=ctx.env.settings.logs.retention_days, log_level=s.log_level,
        shard_size_bytes=s.shard_size_mb * 1_000_000, max_concurrency=s.max_concurrency,
        tolerated_failure_count=s.tolerated_failure_count, kms=ctx.env.settings.storage.encryption == "kms")


COMPONENT = Component("orchestration", orchestration.build, props, orchestration.OrchestrationOutputs,
                      ("compute", "network", "alerts", "storage"), scenarios="harness.scenarios")
