"""Terminal output of the synth and lint tasks (rich tables on a terminal, plain text otherwise)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

console = Console()


def print_synth(result: Any) -> None:
    """Table of stacks, resource counts and files written for one environment."""
    table = Table(title=f"synth {result.env}", show_lines=False)
    table.add_column("stack")
    table.add_column("resources", justify="right")
    table.add_column("file")
    for stack, path in result.files.items():
        table.add_row(stack, str(result.resource_counts[stack]), str(path))
    table.add_row("[bold]total[/bold]", str(sum(result.resource_counts.values())), "")
    console.print(table)


def print_lint(report: Any) -> None:
    """Findings of one environment, errors first, then the accepted Resource '*' cases."""
    for finding in sorted(report.findings, key=lambda f: (f.level != "error", f.stack, f.resource)):
        style = "red" if finding.level == "error" else "yellow"
        console.print(f"[{style}]{finding.level}[/{style}] {finding}", highlight=False, soft_wrap=True)
    for finding in report.accepted:
        console.print(f"[dim]accepted[/dim] {finding}", highlight=False, soft_wrap=True)
    for check, reason in sorted(getattr(report, "suppressed", {}).items()):
        console.print(f"[dim]suppressed[/dim] checkov {check}: {reason}", highlight=False, soft_wrap=True)
    verdict = "[green]ok[/green]" if report.ok else "[red]failed[/red]"
    console.print(f"lint {report.env}: {verdict} ({report.linted} linted, {report.cached} from cache, "
                  f"{len(report.findings)} findings)", highlight=False)
