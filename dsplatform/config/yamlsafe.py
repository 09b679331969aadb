"""Read configuration YAML safely: UTF-8 only, duplicate keys refused, aliases bounded, errors one line.

PyYAML's SafeLoader lets a repeated key silently win and expands aliases without limit (a "billion laughs"
file of a few hundred bytes becomes gigabytes once validated or printed). This loader refuses both.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from dsplatform.display import shown, shown_text

# A real dsplatform.yml has a few hundred nodes; anchors that expand past this are a mistake or an attack.
MAX_EXPANDED_NODES = 10_000
MAX_FILE_BYTES = 1_000_000


class ConfigYamlError(ValueError):
    """A YAML problem, already phrased as one line (without the file name)."""


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (naming both lines)."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *base` keys are overridden on purpose
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                first = seen.get(key)
                seen[key] = line
            except TypeError:
                continue  # an unhashable key: SafeConstructor reports it below
            if first is not None:
                raise ConfigYamlError(f"line {line}: duplicate key {shown(key)} (first at line {first}); keep one")
        return super().construct_mapping(node, deep=deep)


def _expanded_size(node: Node, memo: dict[int, int], active: set[int]) -> int:
    """How many nodes ``node`` becomes once every alias is expanded (memoised, so cheap on shared nodes)."""
    key = id(node)
    if key in memo:
        return memo[key]
    if key in active:
        raise ConfigYamlError(f"line {node.start_mark.line + 1}: an anchor refers to itself (recursive alias); "
                              f"remove the alias")
    active.add(key)
    size = 1
    if isinstance(node, SequenceNode):
        for child in node.value:
            size += _expanded_size(child, memo, active)
    elif isinstance(node, MappingNode):
        for k, v in node.value:
            size += _expanded_size(k, memo, active) + _expanded_size(v, memo, active)
    elif not isinstance(node, ScalarNode):
        raise ConfigYamlError(f"line {node.start_mark.line + 1}: unsupported YAML node")
    active.discard(key)
    memo[key] = size
    return size


def decode(data: bytes) -> str:
    """UTF-8 text of a config file; ConfigYamlError naming the first bad byte otherwise."""
    if len(data) > MAX_FILE_BYTES:
        raise ConfigYamlError(f"{len(data)} bytes is too large for a configuration file (limit {MAX_FILE_BYTES}); "
                              f"check --config points at the right file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigYamlError(f"not UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start} (line {line}); "
                              f"save the file as UTF-8") from None


def safe_load(text: str) -> Any:
    """Parse one YAML document; ConfigYamlError (one line, no file name) on any problem."""
    if len(text) > MAX_FILE_BYTES:
        raise ConfigYamlError(f"{len(text)} characters is too large for a configuration file "
                              f"(limit {MAX_FILE_BYTES})")
    loader = None
    try:
        loader = _Loader(text)  # the reader refuses control characters here already
        node = loader.get_single_node()
        if node is None:
            return None
        size = _expanded_size(node, {}, set())
        if size > MAX_EXPANDED_NODES:
            raise ConfigYamlError(f"aliases expand to {size} values (limit {MAX_EXPANDED_NODES}); "
                                  f"write the values out or use fewer nested aliases")
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise ConfigYamlError(f"{where}{shown_text(' '.join(problem.split()))}; fix the YAML syntax") from None
    except yaml.YAMLError as exc:
        raise ConfigYamlError(f"{shown_text(' '.join(str(exc).split()))}; fix the YAML syntax") from None
    except RecursionError:
        raise ConfigYamlError("nested too deeply; flatten the structure") from None
    finally:
        if loader is not None:
            loader.dispose()
