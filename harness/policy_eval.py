"""Evaluate IAM identity-policy statements the way AWS does, for targets without a policy simulator.

The rules (AWS IAM User Guide, "Policy evaluation logic" and "Condition operators"):
- a request is allowed when some Allow statement matches it and no Deny statement does (an explicit Deny wins);
- ``Action``/``NotAction`` match case-insensitively, ``Resource``/``NotResource`` case-sensitively, and both
  use only ``*`` (any run of characters) and ``?`` (one character) as wildcards;
- every condition operator in a statement must hold, every key under an operator must hold, and a key holds
  when any of its values matches (OR); a key missing from the request context fails the operator, except
  with ``...IfExists``, ``Null``, and the negated operators (``StringNotEquals``...), which hold then;
- ``ForAnyValue:``/``ForAllValues:`` compare a multi-valued context key.
Policy variables (``${aws:username}``) and operators not listed in ``OPERATORS`` make the statement
unevaluable: it raises rather than guess.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

ContextValue = str | bool | int | float | Sequence[str]


class Decision(enum.Enum):
    """The outcome of evaluating a request, named as the IAM policy simulator names it."""

    ALLOWED = "allowed"
    EXPLICIT_DENY = "explicitDeny"
    IMPLICIT_DENY = "implicitDeny"


class UnsupportedPolicyError(ValueError):
    """The statement uses something this evaluator does not implement (it never guesses)."""


@dataclass(frozen=True)
class Statement:
    """One policy statement, normalised to tuples; ``conditions`` is operator -> key -> values."""

    effect: str
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    conditions: Mapping[str, Mapping[str, tuple[str, ...]]] | None = None
    source: str = ""
    sid: str = ""

    @property
    def conditional(self) -> bool:
        """Whether the statement has any condition."""
        return bool(self.conditions)


def _tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    return tuple(str(v).lower() if isinstance(v, bool) else str(v) for v in items)


def parse_document(document: Mapping[str, Any], source: str = "") -> list[Statement]:
    """The statements of one policy document (a dict as IAM returns it)."""
    raw = document.get("Statement", [])
    out = []
    for st in raw if isinstance(raw, list) else [raw]:
        conditions = {op: {key: _tuple(values) for key, values in keys.items()}
                      for op, keys in (st.get("Condition") or {}).items()}
        out.append(Statement(
            effect=str(st.get("Effect", "")), actions=_tuple(st.get("Action")),
            not_actions=_tuple(st.get("NotAction")), resources=_tuple(st.get("Resource")),
            not_resources=_tuple(st.get("NotResource")), conditions=conditions or None, source=source,
            sid=str(st.get("Sid", ""))))
    return out


@lru_cache(maxsize=1024)
def _pattern(glob: str, ignore_case: bool) -> re.Pattern[str]:
    if "${" in glob:
        raise UnsupportedPolicyError(f"policy variables are not evaluated: {glob!r}")
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM wildcard match: ``*`` and ``?`` only (brackets and other characters are literal)."""
    return _pattern(pattern, ignore_case).fullmatch(value) is not None


def _arn_match(pattern: str, value: str) -> bool:
    # ArnLike compares each of the six colon-separated parts; the last part may itself contain colons.
    p_parts, v_parts = pattern.split(":", 5), value.split(":", 5)
    if len(p_parts) != 6 or len(v_parts) != 6:
        return False
    return all(glob_match(p, v) for p, v in zip(p_parts, v_parts, strict=True))


def _number(value: str) -> float:
    return float(value)


def _date(value: str) -> float:
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _ip_in(network: str, address: str) -> bool:
    return ipaddress.ip_address(address) in ipaddress.ip_network(network, strict=False)


# operator -> (test(policy value, request value) -> bool, negated)
OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (lambda p, v: p == v, False),
    "StringNotEquals": (lambda p, v: p == v, True),
    "StringEqualsIgnoreCase": (lambda p, v: p.lower() == v.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda p, v: p.lower() == v.lower(), True),
    "StringLike": (glob_match, False),
    "StringNotLike": (glob_match, True),
    "ArnEquals": (lambda p, v: p == v, False),
    "ArnNotEquals": (lambda p, v: p == v, True),
    "ArnLike": (_arn_match, False),
    "ArnNotLike": (_arn_match, True),
    "Bool": (lambda p, v: p.lower() == v.lower(), False),
    "NumericEquals": (lambda p, v: _number(v) == _number(p), False),
    "NumericNotEquals": (lambda p, v: _number(v) == _number(p), True),
    "NumericLessThan": (lambda p, v: _number(v) < _number(p), False),
    "NumericLessThanEquals": (lambda p, v: _number(v) <= _number(p), False),
    "NumericGreaterThan": (lambda p, v: _number(v) > _number(p), False),
    "NumericGreaterThanEquals": (lambda p, v: _number(v) >= _number(p), False),
    "DateEquals": (lambda p, v: _date(v) == _date(p), False),
    "DateNotEquals": (lambda p, v: _date(v) == _date(p), True),
    "DateLessThan": (lambda p, v: _date(v) < _date(p), False),
    "DateLessThanEquals": (lambda p, v: _date(v) <= _date(p), False),
    "DateGreaterThan": (lambda p, v: _date(v) > _date(p), False),
    "DateGreaterThanEquals": (lambda p, v: _date(v) >= _date(p), False),
    "IpAddress": (_ip_in, False),
    "NotIpAddress": (_ip_in, True),
}


def _context_values(context: Mapping[str, ContextValue], key: str) -> list[str] | None:
    # Condition keys are case-insensitive.
    for name, value in context.items():
        if name.lower() == key.lower():
            items = value if isinstance(value, list | tuple) else [value]
            return [str(v).lower() if isinstance(v, bool) else str(v) for v in items]
    return None


def _condition_holds(operator: str, key: str, wanted: tuple[str, ...],
                     context: Mapping[str, ContextValue]) -> bool:
    present = _context_values(context, key)
    if operator == "Null":
        # Null: "true" holds when the key is absent, "false" when it is present.
        return any((w.lower() == "true") == (present is None) for w in wanted)
    qualifier, _, name = operator.rpartition(":")
    if_exists = name.endswith("IfExists")
    base = name.removesuffix("IfExists")
    if base not in OPERATORS or qualifier not in ("", "ForAnyValue", "ForAllValues"):
        raise UnsupportedPolicyError(f"condition operator {operator!r} is not evaluated")
    test, negated = OPERATORS[base]
    if present is None:
        # A missing key fails a positive operator, holds for a negated one, and for ...IfExists; ForAllValues
        # over no values holds (vacuous truth), ForAnyValue over none fails.
        return if_exists or negated or qualifier == "ForAllValues"
    if qualifier == "ForAllValues":
        return all(_one(test, negated, wanted, v) for v in present)
    return any(_one(test, negated, wanted, v) for v in present)


def _one(test: Callable[[str, str], bool], negated: bool, wanted: tuple[str, ...], value: str) -> bool:
    hit = any(test(w, value) for w in wanted)
    return not hit if negated else hit


def _conditions_hold(statement: Statement, context: Mapping[str, ContextValue]) -> bool:
    return all(_condition_holds(op, key, values, context)
               for op, keys in (statement.conditions or {}).items() for key, values in keys.items())


def matches(statement: Statement, action: str, resource: str, context: Mapping[str, ContextValue]) -> bool:
    """Whether the statement applies to this request (action, resource and every condition)."""
    if statement.actions:
        action_ok = any(glob_match(a, action, ignore_case=True) for a in statement.actions)
    else:
        action_ok = not any(glob_match(a, action, ignore_case=True) for a in statement.not_actions)
    if statement.resources:
        resource_ok = any(glob_match(r, resource) for r in statement.resources)
    else:
        resource_ok = not any(glob_match(r, resource) for r in statement.not_resources)
    return action_ok and resource_ok and _conditions_hold(statement, context)


def evaluate(statements: Sequence[Statement], action: str, resource: str,
             context: Mapping[str, ContextValue] | None = None) -> Decision:
    """The decision for one request over identity-policy statements (an explicit Deny wins over any Allow)."""
    ctx = context or {}
    applicable = [s for s in statements if matches(s, action, resource, ctx)]
    if any(s.effect == "Deny" for s in applicable):
        return Decision.EXPLICIT_DENY
    if any(s.effect == "Allow" for s in applicable):
        return Decision.ALLOWED
    return Decision.IMPLICIT_DENY
