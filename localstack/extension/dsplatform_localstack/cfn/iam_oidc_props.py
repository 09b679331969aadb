"""AWS::IAM::OIDCProvider properties: checked as AWS checks them, and the IAM calls an update needs (pure).

No LocalStack import here, so the rules load and are unit-tested in the project's venv too.
"""

from __future__ import annotations

import re
from typing import Any

MAX_THUMBPRINTS = 5  # CloudFormation schema: ThumbprintList maxItems
MAX_CLIENT_IDS = 100  # IAM quota ClientIdsPerOpenIdConnectProvider
MAX_LENGTH = 255  # Url and each client id
_THUMBPRINT = re.compile(r"[0-9A-Fa-f]{40}")


def problem(model: dict[str, Any]) -> str | None:
    """The first property AWS would refuse, as one line naming it, its value and what is allowed; None if valid."""
    url = model.get("Url")
    if url is None:
        return "Url is required: give the issuer's URL beginning with https:// (the iss claim)"
    if not isinstance(url, str) or not url.startswith("https://") or len(url) <= len("https://"):
        return f"Url {url!r} is not valid: it must be the issuer's URL beginning with https:// (the iss claim)"
    if len(url) > MAX_LENGTH:
        return f"Url {url!r} is {len(url)} characters long; at most {MAX_LENGTH} are allowed"
    thumbprints = list(model.get("ThumbprintList") or [])
    if len(thumbprints) > MAX_THUMBPRINTS:
        return (f"ThumbprintList has {len(thumbprints)} entries {thumbprints!r}; at most {MAX_THUMBPRINTS} are "
                "allowed")
    for thumbprint in thumbprints:
        if not isinstance(thumbprint, str) or not _THUMBPRINT.fullmatch(thumbprint):
            return (f"ThumbprintList entry {thumbprint!r} is not valid: each thumbprint is the certificate's SHA-1 as "
                    "40 hexadecimal characters")
    client_ids = list(model.get("ClientIdList") or [])
    if len(client_ids) > MAX_CLIENT_IDS:
        return f"ClientIdList has {len(client_ids)} entries; at most {MAX_CLIENT_IDS} are allowed"
    for client_id in client_ids:
        if not isinstance(client_id, str) or not 1 <= len(client_id) <= MAX_LENGTH:
            return f"ClientIdList entry {client_id!r} is not valid: a client id has 1 to {MAX_LENGTH} characters"
    return None


def create_request(model: dict[str, Any]) -> dict[str, Any]:
    """CreateOpenIDConnectProvider's parameters from the resource's properties."""
    kwargs: dict[str, Any] = {"Url": model["Url"], "ClientIDList": list(model.get("ClientIdList") or [])}
    if model.get("ThumbprintList"):
        kwargs["ThumbprintList"] = list(model["ThumbprintList"])
    if model.get("Tags"):
        kwargs["Tags"] = tags(model)
    return kwargs


def tags(model: dict[str, Any]) -> list[dict[str, str]]:
    """The resource's Tags as IAM's Key/Value list."""
    return [{"Key": t["Key"], "Value": t["Value"]} for t in model.get("Tags") or []]


def update_calls(previous: dict[str, Any], desired: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(IAM operation, parameters without the ARN) that turn the previous properties into the desired ones.

    Client ids are added before any is removed, so the provider never has fewer audiences than either side.
    """
    calls: list[tuple[str, dict[str, Any]]] = []
    old_ids, new_ids = list(previous.get("ClientIdList") or []), list(desired.get("ClientIdList") or [])
    calls += [("add_client_id_to_open_id_connect_provider", {"ClientID": c}) for c in new_ids if c not in old_ids]
    calls += [("remove_client_id_from_open_id_connect_provider", {"ClientID": c}) for c in old_ids if c not in new_ids]
    old_prints, new_prints = list(previous.get("ThumbprintList") or []), list(desired.get("ThumbprintList") or [])
    if old_prints != new_prints:
        calls.append(("update_open_id_connect_provider_thumbprint", {"ThumbprintList": new_prints}))
    old_tags = {t["Key"]: t["Value"] for t in tags(previous)}
    new_tags = {t["Key"]: t["Value"] for t in tags(desired)}
    gone = sorted(k for k in old_tags if k not in new_tags)
    if gone:
        calls.append(("untag_open_id_connect_provider", {"TagKeys": gone}))
    changed = [{"Key": k, "Value": v} for k, v in new_tags.items() if old_tags.get(k) != v]
    if changed:
        calls.append(("tag_open_id_connect_provider", {"Tags": changed}))
    return calls
