"""Fidelity report: how each resource type of the synthesized templates is emulated by LocalStack here.

The tables it applies live in ``fidelity_tables`` and are re-exported here.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from dsplatform.localstack.fidelity_tables import (
    ASL_UNSUPPORTED,
    ENGINE_NOTES,
    EXTENSION,
    EXTENSION_APPLIED,
    EXTENSION_TYPES,
    EXTENSION_UPDATES,
    NATIVE,
    NOT_APPLIED,
    NOT_EMULATED,
    PARTIAL_UPDATES,
    STATE_MACHINE_TYPES,
    TYPE_NOTES,
)
from dsplatform.localstack.native_types import NATIVE_TYPES, UPDATE_NOT_IMPLEMENTED

__all__ = [
    "ASL_UNSUPPORTED",
    "ENGINE_NOTES",
    "EXTENSION",
    "EXTENSION_APPLIED",
    "EXTENSION_TYPES",
    "EXTENSION_UPDATES",
    "NATIVE",
    "NOT_APPLIED",
    "NOT_EMULATED",
    "PARTIAL_UPDATES",
    "STATE_MACHINE_TYPES",
    "TYPE_NOTES",
    "FidelityReport",
    "ResourceFinding",
    "asl_unsupported",
    "classify",
    "fidelity_report",
]


@dataclass(frozen=True)
class ResourceFinding:
    """One resource of one stack: its emulation class and the properties that are not applied."""

    stack: str
    logical_id: str
    type: str
    emulation: str
    not_applied: dict[str, str] = field(default_factory=dict)
    applied_by_extension: tuple[str, ...] = ()
    unsupported: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FidelityReport:
    """Per type and per resource: native / extension / not emulated, and properties not applied."""

    findings: tuple[ResourceFinding, ...]

    @property
    def types(self) -> dict[str, str]:
        """Resource type -> emulation class, sorted by type."""
        return dict(sorted({f.type: f.emulation for f in self.findings}.items()))

    @property
    def not_emulated(self) -> list[str]:
        """Types a LocalStack deploy would fail on (CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES=0)."""
        return [t for t, e in self.types.items() if e == NOT_EMULATED]

    @property
    def gaps(self) -> list[ResourceFinding]:
        """Resources with at least one property that is accepted but not applied."""
        return [f for f in self.findings if f.not_applied]

    @property
    def updates_not_applied(self) -> dict[str, str]:
        """Types present whose in-place updates LocalStack drops (replacements still work), with what is kept."""
        return {
            t: PARTIAL_UPDATES.get(t, "no property is updated in place")
            for t in self.types
            if t in UPDATE_NOT_IMPLEMENTED and t not in EXTENSION_UPDATES and t not in EXTENSION_TYPES
        }

    @property
    def unsupported(self) -> list[ResourceFinding]:
        """Resources using a feature LocalStack refuses (e.g. a state machine with ItemBatcher)."""
        return [f for f in self.findings if f.unsupported]

    @property
    def ok(self) -> bool:
        """True when every type is emulated, no used property is dropped and no used feature is refused."""
        return not self.not_emulated and not self.gaps and not self.unsupported

    def to_json(self) -> str:
        """JSON with `types`, `not_emulated`, `resources` (each finding) and `notes`."""
        return json.dumps(
            {
                "types": self.types,
                "not_emulated": self.not_emulated,
                "resources": [asdict(f) for f in self.findings],
                "notes": {t: TYPE_NOTES[t] for t in self.types if t in TYPE_NOTES},
                "updates_not_applied": self.updates_not_applied,
                "engine_notes": dict(ENGINE_NOTES),
            },
            indent=2,
            sort_keys=True,
        )

    def to_text(self) -> str:
        """A plain-text table for the terminal."""
        width = max((len(t) for t in self.types), default=10)
        lines = [f"{'resource type':<{width}}  emulation"]
        lines += [
            f"{t:<{width}}  {e}" + (f"  ({TYPE_NOTES[t]})" if t in TYPE_NOTES else "") for t, e in self.types.items()
        ]
        if self.gaps:
            lines.append("")
            lines.append("properties accepted but not applied on LocalStack:")
            lines += [
                f"  {f.stack}/{f.logical_id} ({f.type}): {p}: {why}"
                for f in self.gaps
                for p, why in sorted(f.not_applied.items())
            ]
        applied = sorted({(f.type, p) for f in self.findings for p in f.applied_by_extension})
        if applied:
            lines.append("")
            lines.append(
                "applied by the dsplatform extension (dropped by the community provider): "
                + ", ".join(f"{t}.{p}" for t, p in applied)
            )
        if self.unsupported:
            lines.append("")
            lines.append("features LocalStack refuses (the deploy fails on these):")
            lines += [
                f"  {f.stack}/{f.logical_id} ({f.type}): {name}: {why}"
                for f in self.unsupported
                for name, why in sorted(f.unsupported.items())
            ]
        if self.updates_not_applied:
            lines.append("")
            lines.append("in-place updates LocalStack does not apply (the old values stay until a replacement):")
            lines += [f"  {t}: {why}" for t, why in self.updates_not_applied.items()]
        lines.append("")
        lines.append("CloudFormation engine on LocalStack:")
        lines += [f"  {name}: {why}" for name, why in ENGINE_NOTES.items()]
        if self.not_emulated:
            lines.append("")
            lines.append("NOT EMULATED (a LocalStack deploy fails on these): " + ", ".join(self.not_emulated))
        return "\n".join(lines)

    def to_html(self) -> str:
        """A small HTML fragment (a table and lists) for the e2e report."""
        esc = html.escape
        rows = "".join(
            f'<tr><td>{esc(t)}</td><td class="{esc(e.replace(" ", "-"))}">{esc(e)}</td>'
            f"<td>{esc(TYPE_NOTES.get(t, ''))}</td></tr>"
            for t, e in self.types.items()
        )
        gaps = "".join(
            f"<li>{esc(f.stack)}/{esc(f.logical_id)} ({esc(f.type)}): {esc(p)}: {esc(why)}</li>"
            for f in self.gaps
            for p, why in sorted(f.not_applied.items())
        )
        updates = "".join(f"<li>{esc(t)}: {esc(why)}</li>" for t, why in self.updates_not_applied.items())
        refused = "".join(
            f"<li>{esc(f.stack)}/{esc(f.logical_id)} ({esc(f.type)}): {esc(name)}: {esc(why)}</li>"
            for f in self.unsupported
            for name, why in sorted(f.unsupported.items())
        )
        return (
            '<section class="fidelity"><h3>LocalStack fidelity</h3>'
            f"<table><tr><th>resource type</th><th>emulation</th><th>note</th></tr>{rows}</table>"
            + (f"<h4>Properties not applied</h4><ul>{gaps}</ul>" if gaps else "<p>No used property is dropped.</p>")
            + (f"<h4>Features LocalStack refuses</h4><ul>{refused}</ul>" if refused else "")
            + (f"<h4>In-place updates not applied</h4><ul>{updates}</ul>" if updates else "")
            + "<h4>CloudFormation engine</h4><ul>"
            + "".join(f"<li>{esc(name)}: {esc(why)}</li>" for name, why in ENGINE_NOTES.items())
            + "</ul></section>"
        )


def classify(resource_type: str) -> str:
    """native / extension / not emulated for one CloudFormation type."""
    if resource_type in EXTENSION_TYPES:
        return EXTENSION
    if resource_type in NATIVE_TYPES:
        return NATIVE
    return NOT_EMULATED


def fidelity_report(templates: Mapping[str, Mapping[str, Any]]) -> FidelityReport:
    """Classify every resource of every template (stack name -> template dict)."""
    findings = []
    for stack in sorted(templates):
        resources = templates[stack].get("Resources", {})
        for logical_id in sorted(resources):
            resource = resources[logical_id]
            rtype = resource["Type"]
            used = set((resource.get("Properties") or {}).keys())
            dropped = {p: why for p, why in NOT_APPLIED.get(rtype, {}).items() if p in used}
            applied = tuple(sorted(p for p in EXTENSION_APPLIED.get(rtype, ()) if p in used))
            refused = asl_unsupported(resource.get("Properties") or {}) if rtype in STATE_MACHINE_TYPES else {}
            findings.append(ResourceFinding(stack, logical_id, rtype, classify(rtype), dropped, applied, refused))
    return FidelityReport(tuple(findings))


def asl_unsupported(properties: Mapping[str, Any]) -> dict[str, str]:
    """ASL features of a state machine's Definition/DefinitionString (dict, string or Fn::Sub) LocalStack refuses."""
    text = json.dumps({k: properties[k] for k in ("Definition", "DefinitionString") if k in properties})
    return {name: why for name, (pattern, why) in ASL_UNSUPPORTED.items() if pattern.search(text)}
