"""An execution's timeline as a table on the terminal (`photoflow history`, the demo)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from photoflow_local.history import Timeline


def print_timeline(timeline: Timeline, console: Console) -> None:
    table = Table("state", "type", "ms", "attempts", "errors", box=None, pad_edge=False)
    for state in timeline.states:
        errors = ", ".join(error for error, _ in state.errors)
        duration = f"{state.duration_ms:.0f}" if state.duration_ms is not None else "-"
        table.add_row(state.name, state.kind, duration, str(state.attempts or ""), errors)
    console.print(table)
    total = f"{timeline.duration_ms:.0f} ms" if timeline.duration_ms is not None else "running"
    console.print(f"execution {timeline.status} in {total}")
