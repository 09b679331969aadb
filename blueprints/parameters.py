"""Parameters: the job's configuration in SSM Parameter Store under one prefix (seed 001's layout).

Bucket names arrive as stack parameters from the storage stack; ``artifact_bucket`` overrides the artifact
bucket with another environment's (cross-account reads, seed 000: prod reads the dev/stg artifacts).
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Ref, Template, ssm

from blueprints.common import new_template
from blueprints.outputs import Key, Outputs
from blueprints.storage import StorageOutputs

REQUIRED_KEYS = ("input-bucket", "output-bucket", "artifact-bucket", "input-key", "model-key")
OPTIONAL_KEYS = ("script-key", "package-key", "model-version")


class ParametersOutputs(Outputs):
    """Outputs of the parameters stack."""

    parameter_prefix = Key("SSM prefix of the job's configuration")


@dataclass(frozen=True)
class ParametersProps:
    """Inputs of the parameters blueprint."""

    prefix: str  # starts and ends with "/"
    input_key: str
    model_key: str
    script_key: str | None = None
    package_key: str | None = None
    model_version: str | None = None
    artifact_bucket: str | None = None  # another environment's bucket; None: this environment's


def _logical(key: str) -> str:
    return "".join(part.capitalize() for part in key.split("-")) + "Parameter"


def build(props: ParametersProps) -> Template:
    """Render the parameters template."""
    template = new_template("parameters (job configuration in SSM Parameter Store)")
    values: dict[str, object] = {
        "input-bucket": Ref(StorageOutputs.input_bucket_name.parameter(template, "input bucket (storage stack)")),
        "output-bucket": Ref(StorageOutputs.output_bucket_name.parameter(template, "output bucket (storage stack)")),
        "artifact-bucket": props.artifact_bucket or Ref(
            StorageOutputs.artifact_bucket_name.parameter(template, "artifact bucket (storage stack)")),
        "input-key": props.input_key,
        "model-key": props.model_key,
    }
    optional = {"script-key": props.script_key, "package-key": props.package_key,
                "model-version": props.model_version}
    values.update({key: value for key, value in optional.items() if value is not None})
    for key, value in values.items():
        template.add_resource(ssm.Parameter(
            _logical(key), Name=props.prefix + key, Type="String", Value=value,
            Description=f"dsplatform job setting {key}"))
    ParametersOutputs.parameter_prefix.emit(template, props.prefix)
    return template
