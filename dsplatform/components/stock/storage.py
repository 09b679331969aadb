"""Stock component ``storage``: the input, output and artifact buckets (retained: they hold data)."""

from __future__ import annotations

from blueprints import storage
from dsplatform.components.model import Component, Context


def artifact_readers(ctx: Context) -> tuple[str, ...]:
    """Accounts that read this environment's artifacts: configured ones plus every ``artifacts_from`` reader."""
    readers = set(ctx.env.settings.storage.artifact_readers)
    readers |= {e.account_id for e in ctx.project.environments.values()
                if e.settings.parameters.artifacts_from == ctx.env.name}
    readers.discard(ctx.env.account_id)
    return tuple(sorted(readers))


def props(ctx: Context) -> storage.StorageProps:
    """Storage props from ``settings.storage``."""
    s = ctx.env.settings.storage
    return storage.StorageProps(
        input_bucket=ctx.names.input_bucket, output_bucket=ctx.names.output_bucket,
        artifact_bucket=ctx.names.artifact_bucket, encryption=s.encryption, versioning=s.versioning,
        input_expiration_days=s.lifecycle.input_expiration_days,
        output_expiration_days=s.lifecycle.output_expiration_days,
        noncurrent_expiration_days=s.lifecycle.noncurrent_expiration_days,
        abort_multipart_days=s.lifecycle.abort_multipart_days, artifact_readers=artifact_readers(ctx))


COMPONENT = Component("storage", storage.build, props, storage.StorageOutputs)
