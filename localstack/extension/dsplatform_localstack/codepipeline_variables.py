"""CodePipeline variables: `#{namespace.name}` in an action's configuration, resolved from the pipeline's
variables (`#{variables.X}`), `#{codepipeline.PipelineExecutionId}` and earlier actions' output namespaces
(S3 source: ETag, VersionId, ObjectKey; CodeBuild: the buildspec's exported-variables; CloudFormation: the
stack's outputs). Pure, so it is unit-tested on its own."""

from __future__ import annotations

import re
from typing import Any

_REFERENCE = re.compile(r"#\{([A-Za-z0-9@_-]+)\.([A-Za-z0-9@_.-]+)\}")


class VariableError(Exception):
    """A reference names a namespace or variable that no earlier action or the pipeline provides."""


def resolve(configuration: dict[str, Any], namespaces: dict[str, dict[str, str]]) -> dict[str, Any]:
    """The configuration with every `#{namespace.name}` replaced; VariableError naming the first unknown one."""

    def _value(match: re.Match[str]) -> str:
        namespace, name = match.group(1), match.group(2)
        values = namespaces.get(namespace)
        if values is None or name not in values:
            raise VariableError(f"Unable to resolve variable #{{{namespace}.{name}}}: namespace {namespace!r} "
                                f"{'has no variable ' + repr(name) if values is not None else 'is not defined'}")
        return str(values[name])

    return {key: _REFERENCE.sub(_value, value) if isinstance(value, str) else value
            for key, value in configuration.items()}
