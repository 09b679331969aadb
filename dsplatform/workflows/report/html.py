"""Render an e2e run as one self-contained HTML page: stages, scenarios (history, task logs), fidelity."""

from __future__ import annotations

import html
from typing import Any

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}
h1{font-size:1.4em} h2{font-size:1.15em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0} td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;
vertical-align:top;font-size:.9em} pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:.8em;max-height:30em}
.passed{color:#11772d}.failed,.error{color:#b00020}.skipped{color:#8a6d00} details{margin:.3em 0}
"""


def _e(value: object) -> str:
    return html.escape(str(value))


def scenario_outcome(entry: dict[str, Any]) -> str:
    """passed / failed / error / skipped for one scenario's recorded phases."""
    phases = entry.get("phases", {})
    call = phases.get("call", {}).get("outcome")
    if phases.get("setup", {}).get("outcome") == "failed" or phases.get("teardown", {}).get("outcome") == "failed":
        return "error"
    if phases.get("setup", {}).get("outcome") == "skipped":
        return "skipped"
    return str(call or "error")


def render_report(
    title: str,
    stages: dict[str, float],
    scenarios: list[dict[str, Any]],
    fidelity_html: str,
    summary: dict[str, Any],
) -> str:
    """The whole page as a string."""
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(title)}</title>",
             f"<style>{_STYLE}</style></head><body><h1>{_e(title)}</h1>"]
    parts.append("<table>" + "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in summary.items())
                 + "</table>")
    total = sum(stages.values()) or 1.0
    parts.append("<h2>Stages</h2><table><tr><th>stage</th><th>seconds</th><th>share</th></tr>")
    parts += [f"<tr><td>{_e(n)}</td><td>{s:.1f}</td><td>{100 * s / total:.0f}%</td></tr>" for n, s in stages.items()]
    parts.append("</table><h2>Scenarios</h2>")
    for entry in scenarios:
        parts.append(_scenario(entry))
    parts.append("<h2>What was emulated (fidelity report)</h2>")
    parts.append(fidelity_html or "<p>not applicable (target aws)</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _scenario(entry: dict[str, Any]) -> str:
    outcome = scenario_outcome(entry)
    seconds = sum(p.get("seconds", 0.0) for p in entry.get("phases", {}).values())
    out = [f"<h3 class='{outcome}'>{_e(entry['nodeid'])}: {outcome} ({seconds:.1f} s)</h3>"]
    if entry.get("doc"):
        out.append(f"<p>{_e(entry['doc'])}</p>")
    for note in entry.get("notes", []):
        out.append(f"<div>{_e(note)}</div>")
    for phase, info in entry.get("phases", {}).items():
        if info.get("longrepr"):
            out.append(f"<details open><summary>{_e(phase)}: {_e(info['outcome'])}</summary>"
                       f"<pre>{_e(info['longrepr'])}</pre></details>")
    for ex in entry.get("executions", []):
        out.append(f"<details><summary>execution {_e(ex['name'])}: <b>{_e(ex['status'])}</b> "
                   f"{_e(ex.get('error', ''))} ({ex.get('seconds', 0)} s)</summary>")
        out.append(f"<div>input: <code>{_e(ex.get('input'))}</code></div>")
        out.append("<table><tr><th>#</th><th>event</th><th>details</th></tr>")
        out += [f"<tr><td>{_e(ev['id'])}</td><td>{_e(ev['type'])}</td><td><code>{_e(ev['details'])}</code></td></tr>"
                for ev in ex.get("history", [])]
        out.append("</table>")
        logs = "\n".join(ex.get("logs", [])) or "(no task log lines)"
        out.append(f"<div>task logs ({_e(', '.join(ex.get('task_arns', [])) or 'no task')}):</div>"
                   f"<pre>{_e(logs)}</pre></details>")
    return "\n".join(out)
