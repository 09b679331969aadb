"""Which action a listener takes for a request: rules by priority (path, host, method, header, query
conditions), then the default actions; forward picks a target group by weight. Pure, unit-tested."""

from __future__ import annotations

import fnmatch
import random
from typing import Any


def _values(condition: dict[str, Any], config_key: str) -> list[str]:
    config = condition.get(config_key) or {}
    return list(config.get("Values") or condition.get("Values") or [])


def condition_matches(condition: dict[str, Any], method: str, host: str, path: str, headers: Any, query: Any) -> bool:
    """One rule condition against a request (wildcards * and ?, case-insensitive host, as ALB)."""
    field = condition.get("Field")
    if field == "path-pattern":
        return any(fnmatch.fnmatchcase(path, pattern) for pattern in _values(condition, "PathPatternConfig"))
    if field == "host-header":
        name = host.split(":")[0].lower()
        return any(fnmatch.fnmatchcase(name, p.lower()) for p in _values(condition, "HostHeaderConfig"))
    if field == "http-request-method":
        return method.upper() in [m.upper() for m in _values(condition, "HttpRequestMethodConfig")]
    if field == "http-header":
        config = condition.get("HttpHeaderConfig") or {}
        value = headers.get(config.get("HttpHeaderName", ""))
        return value is not None and any(fnmatch.fnmatch(value, p) for p in config.get("Values") or [])
    if field == "query-string":
        pairs = (condition.get("QueryStringConfig") or {}).get("Values") or []
        return any(
            (pair.get("Key") is None and pair.get("Value") in query.values())
            or query.get(pair.get("Key")) == pair.get("Value")
            for pair in pairs
        )
    return False  # source-ip and unknown fields never match locally (named in the fidelity report)


def match(listener: Any, method: str, host: str, path: str, headers: Any, query: Any) -> tuple[int, list[Any]]:
    """(priority, actions) of the first matching rule by priority, else (0, the listener's default actions)."""
    rules = [r for r in listener.rules.values() if not r.is_default]
    for rule in sorted(rules, key=lambda r: int(r.priority)):
        if all(condition_matches(c, method, host, path, headers, query) for c in rule.conditions):
            return int(rule.priority), list(rule.actions)
    return 0, list(listener.default_actions)  # ALB logs priority 0 when the default actions ran


def actions_for(listener: Any, method: str, host: str, path: str, headers: Any, query: Any) -> list[Any]:
    """The actions of the first matching rule by priority, else the listener's default actions."""
    return match(listener, method, host, path, headers, query)[1]


def forward_group(action: Any, chooser: random.Random | None = None) -> str | None:
    """The target group ARN a forward action sends this request to (weighted when ForwardConfig has several)."""
    data = getattr(action, "data", action)
    if data.get("TargetGroupArn"):
        return str(data["TargetGroupArn"])
    groups = [g for g in (data.get("ForwardConfig") or {}).get("TargetGroups") or [] if int(g.get("Weight", 1)) > 0]
    if not groups:
        return None
    weights = [int(g.get("Weight", 1)) for g in groups]
    return str((chooser or random).choices(groups, weights=weights)[0]["TargetGroupArn"])


def redirect_location(config: dict[str, Any], scheme: str, host: str, port: int, path: str, query: str) -> str:
    """The Location of a redirect action, with ALB's #{protocol}, #{host}, #{port}, #{path}, #{query} defaults."""
    protocol = str(config.get("Protocol") or "#{protocol}").replace("#{protocol}", scheme).lower()
    new_host = str(config.get("Host") or "#{host}").replace("#{host}", host.split(":")[0])
    new_port = str(config.get("Port") or "#{port}").replace("#{port}", str(port))
    new_path = str(config.get("Path") or "/#{path}").replace("#{path}", path.lstrip("/"))
    new_query = str(config.get("Query") or "#{query}").replace("#{query}", query)
    default_port = (protocol == "https" and new_port == "443") or (protocol == "http" and new_port == "80")
    netloc = new_host if default_port else f"{new_host}:{new_port}"
    return f"{protocol}://{netloc}{new_path}" + (f"?{new_query}" if new_query else "")
