"""SageMaker models and endpoint configs kept outside their stack (the serving blueprint retains replaced ones).

A kept pair is what lets `invoke rollback` switch an endpoint back to an earlier release natively. Kept names
still block CloudFormation: AWS refuses to create a model or config whose name exists ("Cannot create already
existing ..."), so before a change set creates one of these names the copy outside the stack is deleted
(``free_names``; the change set then creates it again from the template). When the stack is destroyed, every
versioned model and config of its endpoints goes too (``sweep``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dsplatform.deployer.changes import Change
from dsplatform.naming import endpoint_version_prefix

MODEL, CONFIG, ENDPOINT = "AWS::SageMaker::Model", "AWS::SageMaker::EndpointConfig", "AWS::SageMaker::Endpoint"


@dataclass(frozen=True)
class _Kind:
    """The SageMaker calls for one kept type; ``field`` is its name property and every call's name argument."""

    naming: str  # the kind in Names.endpoint_version (naming.ENDPOINT_VERSION_KINDS)
    field: str
    describe: str
    delete: str
    listing: str
    listed: str  # the list call's result key


# Configs first: they use models.
_KINDS: Mapping[str, _Kind] = {
    CONFIG: _Kind("config", "EndpointConfigName", "describe_endpoint_config", "delete_endpoint_config",
                  "list_endpoint_configs", "EndpointConfigs"),
    MODEL: _Kind("model", "ModelName", "describe_model", "delete_model", "list_models", "Models"),
}


def kept_types(plan: Any) -> bool:
    """True when a stack of ``plan`` has a model or endpoint config (then a SageMaker client is needed)."""
    return any(res.get("Type") in _KINDS for spec in plan.stacks
               for res in (spec.template.get("Resources") or {}).values())


def created_names(template: Mapping[str, Any], changes: Iterable[Change]) -> list[tuple[str, str]]:
    """(type, literal name) of each model or config the change set creates (added, or replaced), configs first."""
    resources = template.get("Resources") or {}
    found = []
    for change in changes:
        if change.resource_type in _KINDS and (change.action == "Add" or change.replacement == "True"):
            name = ((resources.get(change.logical_id) or {}).get("Properties") or {}).get(
                _KINDS[change.resource_type].field)
            if isinstance(name, str):  # a generated or computed name cannot collide
                found.append((change.resource_type, name))
    return sorted(found, key=lambda item: list(_KINDS).index(item[0]))


def free_names(sagemaker: Any, owned: set[str], names: list[tuple[str, str]]) -> list[str]:
    """Delete each named model or config that exists outside the stack (not in ``owned``); the names deleted.

    Only the stack's own literal names are touched. One may be in use: right after `invoke rollback` switched
    the endpoint back to a kept config, the reconciling change set creates that same config again.
    """
    freed = []
    for kind, name in names:
        if name in owned:
            continue  # the stack's own resource (a same-name replacement): CloudFormation handles it
        calls = _KINDS[kind]
        try:
            getattr(sagemaker, calls.describe)(**{calls.field: name})
        except sagemaker.exceptions.ClientError:
            continue  # absent: nothing blocks the create
        getattr(sagemaker, calls.delete)(**{calls.field: name})
        freed.append(name)
    return freed


def names_of(physical_ids: Iterable[str]) -> set[str]:
    """Names from SageMaker physical ids: a model's, config's or endpoint's ARN ends in ``/<name>``."""
    return {physical.rsplit("/", 1)[-1] for physical in physical_ids}


def sweep(sagemaker: Any, endpoints: Iterable[str]) -> list[str]:
    """Delete every versioned config and model of ``endpoints`` (names or ARNs), after their stack is gone."""
    deleted = []
    for endpoint in sorted(names_of(endpoints)):
        for calls in _KINDS.values():
            prefix = endpoint_version_prefix(endpoint, calls.naming)
            for page in sagemaker.get_paginator(calls.listing).paginate(NameContains=prefix):
                for item in page.get(calls.listed, []):
                    name = item[calls.field]
                    if name.startswith(prefix):  # NameContains matches anywhere in the name
                        getattr(sagemaker, calls.delete)(**{calls.field: name})
                        deleted.append(name)
    return deleted
