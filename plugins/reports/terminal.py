"""The terminal view (rich): headed sections, boxed tables, quoted vignettes in panels, and text bar charts.

Plain text by default, so the bytes are the same wherever they go; ``TerminalWriter(color=True)`` adds
ANSI styles for an interactive terminal. Bars use a different character per series (█ ▒ ░), so they read
without colour too. User text is never parsed as rich markup.
"""

from __future__ import annotations

import io
from typing import Any

from plugins.reports.markdown import bar_rows, path_rows, provenance
from projections.report_data import Bars, Bullets, GradePath, Paragraph, Table, Vignette, grade_label

MARKS = {"strength": "█", "weakness": "▒", "neutral": "░"}
STYLES = {"strength": "green", "weakness": "red", "neutral": "dim"}


class TerminalWriter:
    """Text for a terminal, ``width`` columns wide."""

    name = "terminal"
    format = "text"
    extension = "txt"

    def __init__(self, *, width: int = 100, color: bool = False) -> None:
        self.width = width
        self.color = color

    def write(self, report: Any) -> bytes:
        """Return the report as UTF-8 text (with ANSI styles only when ``color``)."""
        from rich.console import Console

        buffer = io.StringIO()
        console = Console(
            file=buffer, width=self.width, force_terminal=self.color, no_color=not self.color,
            color_system="standard" if self.color else None, highlight=False, emoji=False, markup=False,
            legacy_windows=False, soft_wrap=False,
        )
        self._render(console, report)
        return buffer.getvalue().encode("utf-8")

    def _render(self, console: Any, report: Any) -> None:
        from rich.rule import Rule
        from rich.text import Text

        console.print(Text(report.title, style="bold"))
        console.print(Text(report.subtitle, style="italic"))
        console.print(Text(f"Inspection {report.inspection} · {report.authority} · {report.framework} · "
                           f"ledger position {report.as_at}"))
        for section in report.sections:
            console.print()
            if section.level <= 2:
                console.print(Rule(Text(section.heading, style="bold"), align="left"))
            else:
                console.print(Text(section.heading, style="bold underline"))
            for block in section.blocks:
                self._block(console, block)

    def _block(self, console: Any, block: Any) -> None:
        from rich import box
        from rich.panel import Panel
        from rich.table import Table as RichTable
        from rich.text import Text

        if isinstance(block, Paragraph):
            style = {"note": "italic", "warning": "bold red"}.get(block.emphasis, "")
            console.print(Text(("Warning: " if block.emphasis == "warning" else "") + block.text, style=style))
        elif isinstance(block, Bullets):
            for item in block.items:
                console.print(Text(f"  • {item}"))
        elif isinstance(block, Table | GradePath):
            caption, columns, rows = (
                (block.caption, block.columns, block.rows) if isinstance(block, Table)
                else (block.title, ("When", "Step", "Grade", "By"), path_rows(block))
            )
            table = RichTable(title=caption, title_justify="left", box=box.SQUARE, show_lines=False)
            for column in columns:
                table.add_column(column, overflow="fold")
            for row in rows:
                table.add_row(*(Text(cell) for cell in row))
            console.print(table)
            if isinstance(block, GradePath) and block.points:
                console.print(Text("  " + " → ".join(grade_label(p.grade) for p in block.points)))
        elif isinstance(block, Vignette):
            body = Text()
            if block.before:
                body.append(block.before, style="dim")
            body.append(f"“{block.quote}”", style="bold")
            if block.after:
                body.append(block.after, style="dim")
            body.append(f"\n— {provenance(block)}", style="italic")
            console.print(Panel(body, title=block.valence, title_align="left", border_style=STYLES[block.valence]))
        elif isinstance(block, Bars):
            self._bars(console, block)
        else:
            raise TypeError(f"The terminal writer cannot render a {type(block).__name__} block.")

    def _bars(self, console: Any, block: Bars) -> None:
        from rich.text import Text

        console.print(Text(block.title, style="bold"))
        console.print(Text("  " + "   ".join(f"{MARKS[s.tone]} {s.name}" for s in block.series)))
        totals = [sum(int(v) for v in row[1:]) for row in bar_rows(block)]
        label = min(max((len(c) for c in block.categories), default=0), 34)
        room = max(self.width - label - 20, 10)
        scale = room / max(max(totals, default=0), 1)
        for i, category in enumerate(block.categories):
            line = Text(f"  {category[:label]:<{label}} ")
            for series in block.series:
                line.append(MARKS[series.tone] * round(series.values[i] * scale), style=STYLES[series.tone])
            line.append(" " + " / ".join(str(s.values[i]) for s in block.series))
            console.print(line)
