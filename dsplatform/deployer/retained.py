"""SageMaker models and endpoint configs kept outside their stack (the serving blueprint retains replaced ones).

A kept pair is what lets `invoke rollback` switch an endpoint back to an earlier release natively. Kept names
still block CloudFormation: AWS refuses to create a model or config whose name exists ("Cannot create already
existing ..."), so before a change set creates one of these names the copy outside the stack is deleted
(``free_names``; the change set then creates it again from the template). When the stack is destroyed, every
versioned model and config of its endpoints goes too (``sweep``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dsplatform.deployer.changes import Change
from dsplatform.naming import ENDPOINT_VERSION_KINDS, endpoint_version_prefix

MODEL, CONFIG, ENDPOINT = "AWS::SageMaker::Model", "AWS::SageMaker::EndpointConfig", "AWS::SageMaker::Endpoint"
# type -> (name property, which is also the calls' argument; describe call; delete call); configs first: they
# use models
_KINDS: Mapping[str, tuple[str, str, str]] = {
    CONFIG: ("EndpointConfigName", "describe_endpoint_config", "delete_endpoint_config"),
    MODEL: ("ModelName", "describe_model", "delete_model"),
}
# versioned kind -> (list call, its result key, the name field, which is also the delete call's argument; delete call)
_LISTS = {"config": ("list_endpoint_configs", "EndpointConfigs", "EndpointConfigName", "delete_endpoint_config"),
          "model": ("list_models", "Models", "ModelName", "delete_model")}


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
                _KINDS[change.resource_type][0])
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
        argument, describe, delete = _KINDS[kind]
        try:
            getattr(sagemaker, describe)(**{argument: name})
        except sagemaker.exceptions.ClientError:
            continue  # absent: nothing blocks the create
        getattr(sagemaker, delete)(**{argument: name})
        freed.append(name)
    return freed


def owned_names(physical_ids: Iterable[str]) -> set[str]:
    """Names from the stack's physical ids of models and configs (an ARN ends in ``/<name>``)."""
    return {physical.rsplit("/", 1)[-1] for physical in physical_ids}


def sweep(sagemaker: Any, endpoints: Iterable[str]) -> list[str]:
    """Delete every versioned config and model of ``endpoints`` (names or ARNs), after their stack is gone."""
    deleted = []
    for endpoint in sorted({e.rsplit("/", 1)[-1] for e in endpoints}):
        for kind in ENDPOINT_VERSION_KINDS:
            listing, key, field, delete = _LISTS[kind]
            prefix = endpoint_version_prefix(endpoint, kind)
            for page in sagemaker.get_paginator(listing).paginate(NameContains=prefix):
                for item in page.get(key, []):
                    if item[field].startswith(prefix):  # NameContains matches anywhere in the name
                        getattr(sagemaker, delete)(**{field: item[field]})
                        deleted.append(item[field])
    return deleted
