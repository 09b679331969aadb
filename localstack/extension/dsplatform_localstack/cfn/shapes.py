"""Pure request shapes of the extension's small CloudFormation providers (no LocalStack import: unit-tested)."""

from __future__ import annotations

from typing import Any


def permission(model: dict[str, Any], peer_key: str, cidr_key: str) -> dict[str, Any]:
    """The IpPermission of one stand-alone rule (peer group or CIDR; ports as integers)."""
    entry: dict[str, Any] = {"IpProtocol": str(model["IpProtocol"])}
    for key in ("FromPort", "ToPort"):
        if model.get(key) is not None:
            entry[key] = int(model[key])
    description = {"Description": model["Description"]} if model.get("Description") else {}
    if model.get(peer_key):
        entry["UserIdGroupPairs"] = [{"GroupId": model[peer_key], **description}]
    elif model.get("CidrIpv6"):
        entry["Ipv6Ranges"] = [{"CidrIpv6": model["CidrIpv6"], **description}]
    else:
        entry["IpRanges"] = [{"CidrIp": model.get(cidr_key) or model.get("CidrIp"), **description}]
    return entry


def target_id(resource_id: str, dimension: str, namespace: str) -> str:
    """A scalable target's Ref, as CloudFormation forms it: ``resource|dimension|namespace``."""
    return f"{resource_id}|{dimension}|{namespace}"


def cast_numbers(config: Any) -> Any:
    """Numbers CloudFormation hands over as strings, back to numbers (target values, cooldowns, capacities)."""
    if isinstance(config, dict):
        return {k: cast_numbers(v) for k, v in config.items()}
    if isinstance(config, list):
        return [cast_numbers(v) for v in config]
    if isinstance(config, str):
        try:
            return int(config) if config.lstrip("-").isdigit() else float(config)
        except ValueError:
            return config
    return config
