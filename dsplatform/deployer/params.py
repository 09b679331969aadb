"""Stack parameters filled from dependencies' outputs, and the content hash kept in a stack tag."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from dsplatform.deployer.errors import ParameterResolutionError, TemplateTooLargeError
from dsplatform.hashing import sha256_json
from dsplatform.stackspec import StackSpec

HASH_TAG = "dsplatform:content-hash"
# CloudFormation's limit for an inline TemplateBody.
TEMPLATE_BODY_LIMIT = 51_200


def template_json(spec: StackSpec) -> str:
    """The template as compact, canonical JSON (sorted keys)."""
    return json.dumps(spec.template, sort_keys=True, separators=(",", ":"), default=str)


def template_body(spec: StackSpec) -> str:
    """The template as compact, canonical JSON (sorted keys), refusing bodies over the inline limit."""
    body = template_json(spec)
    if len(body.encode()) > TEMPLATE_BODY_LIMIT:
        raise TemplateTooLargeError(spec.name, len(body.encode()), TEMPLATE_BODY_LIMIT)
    return body


def resolve_parameters(spec: StackSpec, outputs: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """Values for every template parameter: literal ones first, the rest from exactly one dependency's output.

    ``outputs`` maps stack name to its outputs; stacks not deployed yet are simply missing.
    A parameter with a template Default that nothing supplies is left to CloudFormation.
    """
    declared: dict[str, Any] = spec.template.get("Parameters", {}) or {}
    resolved: dict[str, str] = {}
    for key, decl in declared.items():
        if key in spec.parameters:
            resolved[key] = str(spec.parameters[key])
            continue
        found = [dep for dep in spec.depends_on if key in outputs.get(dep, {})]
        if len(found) == 1:
            resolved[key] = str(outputs[found[0]][key])
        elif not found and isinstance(decl, dict) and "Default" in decl:
            continue
        else:
            raise ParameterResolutionError(spec.name, key, spec.depends_on, found)
    return resolved


def content_hash(spec: StackSpec, parameters: Mapping[str, str], protected: bool = False) -> str:
    """SHA-256 over the canonical template, the resolved parameters, the tags and termination protection."""
    doc = {
        "template": spec.template,
        "parameters": dict(parameters),
        "tags": dict(spec.tags),
        "termination_protection": spec.termination_protection or protected,
    }
    return sha256_json(doc)


def stack_tags(spec: StackSpec, env: str, digest: str) -> list[dict[str, str]]:
    """The stack tags in CloudFormation's shape: the spec's own, the environment and the content hash."""
    tags = {"dsplatform:env": env, "dsplatform:component": spec.component, **spec.tags, HASH_TAG: digest}
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def cfn_parameters(parameters: Mapping[str, str]) -> list[dict[str, str]]:
    """Parameters in CloudFormation's shape."""
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(parameters.items())]
