"""Accept an integer `ToleratedFailurePercentage` in a Map state, as AWS does.

The pinned ASL grammar takes only a decimal token there: `"ToleratedFailurePercentage": 25` was refused
at CreateStateMachine ("no viable alternative at input"), while `25.0` passed. AWS accepts any number from
0 to 100. The definition handed to the parser is rewritten with such integers as decimals; the stored
definition (DescribeStateMachine) is left as the user wrote it.
"""

from __future__ import annotations

import json
from typing import Any

FIELD = "ToleratedFailurePercentage"


def _floats(value: Any) -> tuple[Any, bool]:
    if isinstance(value, dict):
        changed = False
        out = {}
        for key, item in value.items():
            if key == FIELD and isinstance(item, int) and not isinstance(item, bool):
                out[key], changed = float(item), True
            else:
                out[key], sub = _floats(item)
                changed = changed or sub
        return out, changed
    if isinstance(value, list):
        pairs = [_floats(item) for item in value]
        return [p[0] for p in pairs], any(p[1] for p in pairs)
    return value, False


def decimal_percentages(definition: str) -> str:
    """The definition with every integer ToleratedFailurePercentage written as a decimal (unchanged text
    when there is none, or when it is not JSON: the parser then reports its own error)."""
    if FIELD not in definition:
        return definition
    try:
        loaded = json.loads(definition)
    except ValueError:
        return definition
    rewritten, changed = _floats(loaded)
    return json.dumps(rewritten) if changed else definition


def install() -> None:
    """Wrap the ASL parser's entry point (used at create, validation and execution)."""
    from localstack.services.stepfunctions.asl.parse.asl_parser import AmazonStateLanguageParser

    parse = AmazonStateLanguageParser.parse

    def _parse(definition: str):  # type: ignore[no-untyped-def]
        return parse(decimal_percentages(definition))

    AmazonStateLanguageParser.parse = staticmethod(_parse)  # type: ignore[method-assign]
