"""Stock component ``parameters``: the job's configuration in SSM Parameter Store."""

from __future__ import annotations

from blueprints import parameters
from dsplatform.components.model import Component, Context
from dsplatform.components.stock._pipeline import JOB, foreign_artifact_bucket


def props(ctx: Context) -> parameters.ParametersProps:
    """Parameters props from ``settings.parameters``."""
    s = ctx.env.settings.parameters
    return parameters.ParametersProps(
        prefix=ctx.names.ssm_prefix(JOB), input_key=s.input_key, model_key=s.model_key, script_key=s.script_key,
        package_key=s.package_key, model_version=s.model_version, artifact_bucket=foreign_artifact_bucket(ctx))


COMPONENT = Component("parameters", parameters.build, props, parameters.ParametersOutputs, ("storage",))
