"""What AWS accepts, checked before anything is rendered: regions, EventBridge schedules, resource tags.

Each check raises ValueError with a message that shows the bad part and what is allowed; pydantic turns it
into one line naming the key.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# EventBridge cron fields: (name, lowest, highest, names, extra wildcards allowed besides , - * /).
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_CRON_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minutes", 0, 59, ()),
    ("hours", 0, 23, ()),
    ("day-of-month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 1, 7, _DAYS),
    ("year", 1970, 2199, ()),
)
_RATE_RE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_CRON_RE = re.compile(r"cron\(([^()]*)\)")
SCHEDULE_HELP = ("use cron(min hour day-of-month month day-of-week year) with ? in one day field, e.g. "
                 "cron(0 9 15 * ? *), or rate(N minutes|hours|days)")

TAG_KEY_MAX, TAG_VALUE_MAX = 128, 256
# CloudFormation allows 50 stack tags; dsplatform adds its own three (project, env, component).
MAX_USER_TAGS = 47
_TAG_PUNCTUATION = set("_.:/=+-@ ")


@functools.lru_cache(maxsize=1)
def known_regions() -> frozenset[str]:
    """Every region in botocore's endpoint data, over all partitions (aws, aws-cn, aws-us-gov, ...)."""
    import botocore.loaders

    data = botocore.loaders.create_loader().load_data("endpoints")
    return frozenset(region for partition in data["partitions"] for region in partition["regions"])


def check_region(region: str) -> str:
    """Return ``region`` if botocore knows it; ValueError naming the nearest known ones otherwise."""
    regions = known_regions()
    if region in regions:
        return region
    import difflib

    near = difflib.get_close_matches(region, sorted(regions), n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(near)}?" if near else "e.g. us-east-1 or eu-west-1"
    raise ValueError(f"is not an AWS region known to botocore; {hint}")


def check_schedule(expression: str) -> str:
    """Return an EventBridge ``cron(...)``/``rate(...)`` expression; ValueError saying which part is wrong."""
    rate = _RATE_RE.fullmatch(expression)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2)
        if value < 1:
            raise ValueError(f"rate value must be a whole number >= 1; {SCHEDULE_HELP}")
        if value == 1 and unit.endswith("s"):
            raise ValueError(f"EventBridge wants the singular unit for 1, e.g. rate(1 {unit[:-1]})")
        if value > 1 and not unit.endswith("s"):
            raise ValueError(f"EventBridge wants the plural unit above 1, e.g. rate({value} {unit}s)")
        return expression
    cron = _CRON_RE.fullmatch(expression)
    if not cron:
        raise ValueError(f"is not an EventBridge schedule; {SCHEDULE_HELP}")
    parts = cron.group(1).split(" ")
    if len(parts) != 6 or not all(parts):
        raise ValueError(f"cron needs 6 fields separated by single spaces, got {len(parts)}; {SCHEDULE_HELP}")
    for part, (name, low, high, names) in zip(parts, _CRON_FIELDS, strict=True):
        _check_cron_field(part, name, low, high, names)
    dom, dow = parts[2], parts[4]
    if (dom == "?") == (dow == "?"):
        raise ValueError(f"cron day-of-month {dom!r} and day-of-week {dow!r}: exactly one of them must be ?; "
                         f"e.g. cron(0 9 15 * ? *) or cron(0 9 ? * MON *)")
    return expression


def _check_cron_field(part: str, name: str, low: int, high: int, names: tuple[str, ...]) -> None:
    def bad(why: str) -> ValueError:
        return ValueError(f"cron {name} field {part!r}: {why}; {SCHEDULE_HELP}")

    def number(text: str) -> int:
        if text.upper() in names:
            return names.index(text.upper()) + low
        if not text.isascii() or not text.isdigit():
            allowed = f"{low}-{high}" + (f" or {names[0]}-{names[-1]}" if names else "")
            raise bad(f"{text!r} is not a value ({allowed})")
        value = int(text)
        if not low <= value <= high:
            raise bad(f"{value} is outside {low}-{high}")
        return value

    if part == "?":
        if name not in ("day-of-month", "day-of-week"):
            raise bad("? is only allowed in day-of-month or day-of-week")
        return
    for item in part.split(","):
        if not item:
            raise bad("empty list item")
        if name == "day-of-month" and (item == "L" or (item.endswith("W") and item[:-1].isdigit())):
            if item != "L":
                number(item[:-1])
            if "," in part:
                raise bad("L and W cannot be combined with a list")
            continue
        if name == "day-of-week" and (item == "L" or item.endswith("L") or "#" in item):
            if "," in part:
                raise bad("L and # cannot be combined with a list")
            if "#" in item:
                day, _, nth = item.partition("#")
                number(day)
                if nth not in ("1", "2", "3", "4", "5"):
                    raise bad(f"#{nth}: the week of the month must be 1-5")
            elif item != "L":
                number(item[:-1])
            continue
        base, slash, step = item.partition("/")
        if slash and (not step.isascii() or not step.isdigit() or not 1 <= int(step) <= high):
            raise bad(f"step {step!r} must be a whole number 1-{high}")
        if base == "*":
            continue
        first, dash, last = base.partition("-")
        start = number(first)
        if dash:
            end = number(last)
            if end < start and name != "day-of-week":
                raise bad(f"range {base} runs backwards")


def check_tags(tags: dict[str, str]) -> dict[str, str]:
    """Return ``tags`` if CloudFormation can put every one on a stack; ValueError naming the bad tag."""
    if len(tags) > MAX_USER_TAGS:
        raise ValueError(f"{len(tags)} tags is more than {MAX_USER_TAGS} (CloudFormation allows 50 per stack and "
                         f"dsplatform adds 3); remove some")
    for key, value in tags.items():
        shown_key = key if len(key) <= 40 else key[:37] + "..."
        if not 1 <= len(key) <= TAG_KEY_MAX:
            raise ValueError(f"tag key {shown_key!r} is {len(key)} characters; AWS allows 1-{TAG_KEY_MAX}")
        if key.lower().startswith("aws:"):
            raise ValueError(f"tag key {shown_key!r}: the aws: prefix is reserved for AWS; rename the key")
        if key.startswith("dsplatform:"):
            raise ValueError(f"tag key {shown_key!r}: the dsplatform: prefix is set by dsplatform; rename the key")
        if len(value) > TAG_VALUE_MAX:
            raise ValueError(f"tag {shown_key!r} has a value of {len(value)} characters; AWS allows up to "
                             f"{TAG_VALUE_MAX}")
        for text, what in ((key, "key"), (value, "value")):
            bad = next((ch for ch in text if not _tag_char(ch)), None)
            if bad is not None:
                raise ValueError(f"tag {shown_key!r}: {what} has {bad!r}, which AWS tags do not allow; use letters, "
                                 f"digits, spaces and _ . : / = + - @")
    return tags


def _tag_char(ch: str) -> bool:
    return ch in _TAG_PUNCTUATION or (unicodedata.category(ch)[0] in "LNZ" and ch not in "\u2028\u2029")
