"""Stock component ``storage``: the input, output and artifact buckets (retained: they hold data)."""

from __future__ import annotations

from blueprints import storage
from dsplatform.components.model import Component, Context
from dsplatform.components.stock._pipeline import JOB


def artifact_readers(ctx: Context) -> tuple[str, ...]:
    """Accounts configured to read this environment's artifacts (``storage.artifact_readers``): whole accounts."""
    readers = set(ctx.env.settings.storage.artifact_readers)
    readers.discard(ctx.env.account_id)
    return tuple(sorted(readers))


def artifact_reader_roles(ctx: Context) -> tuple[str, ...]:
    """Task role ARNs of the environments whose jobs read this one's artifacts (``parameters.artifacts_from``)."""
    roles = {f"arn:aws:iam::{e.account_id}:role/{ctx.names_of(name).task_role(JOB)}"
             for name, e in ctx.project.environments.items()
             if e.settings.parameters.artifacts_from == ctx.env.name and e.account_id != ctx.env.account_id}
    return tuple(sorted(roles))


def props(ctx: Context) -> storage.StorageProps:
    """Storage props from ``settings.storage``."""
    s = ctx.env.settings.storage
    return storage.StorageProps(
        input_bucket=ctx.names.input_bucket, output_bucket=ctx.names.output_bucket,
        artifact_bucket=ctx.names.artifact_bucket, encryption=s.encryption, versioning=s.versioning,
        input_expiration_days=s.lifecycle.input_expiration_days,
        output_expiration_days=s.lifecycle.output_expiration_days,
        noncurrent_expiration_days=s.lifecycle.noncurrent_expiration_days,
        abort_multipart_days=s.lifecycle.abort_multipart_days, artifact_readers=artifact_readers(ctx),
        artifact_reader_roles=artifact_reader_roles(ctx))


COMPONENT = Component("storage", storage.build, props, storage.StorageOutputs)
