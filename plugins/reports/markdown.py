"""Markdown: headings, paragraphs, lists, pipe tables and quoted vignettes; charts become their data tables.

``evidence lint --report`` reads the draft report in this form, so every sentence of the report appears here.
"""

from __future__ import annotations

import re
from typing import Any

from projections.report_data import Bars, Bullets, GradePath, Paragraph, Table, Vignette, grade_label, short, when

_SPECIAL = re.compile(r"([\\`*_<>])")


def escape(text: str) -> str:
    """Text with Markdown's emphasis, code and HTML characters escaped (brackets stay: citations use them)."""
    return _SPECIAL.sub(r"\\\1", text)


def _cell(text: str) -> str:
    return " ".join(escape(text).replace("|", "\\|").split())


def table(caption: str, columns: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> list[str]:
    lines = [f"**{escape(caption)}**", "", "| " + " | ".join(_cell(c) for c in columns) + " |",
             "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def provenance(v: Vignette) -> str:
    """One line naming where a vignette comes from (shared by the text writers)."""
    p = v.provenance
    case = f", case {p.case}" if p.case else ""
    tier = f", {p.tier} evidence" if p.tier else ""
    cited = "; the grade cites it" if v.cited else ""
    return (f"{v.valence.capitalize()} under {p.label}: {p.source_title} ({p.kind}{case}{tier}), "
            f"characters {p.start}-{p.end}, coded by {p.coder} on {when(p.coded_at)[:10]} "
            f"[coding {short(p.coding)}]{cited}")


def path_rows(block: GradePath) -> tuple[tuple[str, ...], ...]:
    return tuple((when(p.at), p.step.replace("-", " "), grade_label(p.grade), p.actor) for p in block.points)


def bar_rows(block: Bars) -> tuple[tuple[str, ...], ...]:
    return tuple(
        (category, *(str(s.values[i]) for s in block.series)) for i, category in enumerate(block.categories)
    )


def _block(block: Any) -> list[str]:
    if isinstance(block, Paragraph):
        text = escape(block.text)
        return [{"note": f"*{text}*", "warning": f"**Warning:** {text}"}.get(block.emphasis, text)]
    if isinstance(block, Bullets):
        return [f"- {escape(item)}" for item in block.items]
    if isinstance(block, Table):
        return table(block.caption, block.columns, block.rows)
    if isinstance(block, Vignette):
        lines = [f"> {escape(line)}" if line else ">" for line in block.quote.splitlines() or [""]]
        return [*lines, ">", f"> — {escape(provenance(block))}"]
    if isinstance(block, Bars):
        return table(f"Chart: {block.title}", ("Category", *(s.name for s in block.series)), bar_rows(block))
    if isinstance(block, GradePath):
        return table(f"Chart: {block.title}", ("When", "Step", "Grade", "By"), path_rows(block))
    raise TypeError(f"The Markdown writer cannot render a {type(block).__name__} block.")


class MarkdownWriter:
    """CommonMark with pipe tables (GitHub-flavoured)."""

    name = "markdown"
    format = "markdown"
    extension = "md"

    def write(self, report: Any) -> bytes:
        """Return the report as UTF-8 Markdown."""
        lines = [f"# {escape(report.title)}", "", f"*{escape(report.subtitle)}*", "",
                 f"- Inspection: {escape(report.inspection)}", f"- Local authority: {escape(report.authority)}",
                 f"- Framework: {escape(report.framework)}", f"- Built from the ledger up to position {report.as_at}",
                 ""]
        for section in report.sections:
            lines += [f"{'#' * section.level} {escape(section.heading)}", ""]
            for block in section.blocks:
                lines += [*_block(block), ""]
        return ("\n".join(lines).rstrip("\n") + "\n").encode("utf-8")
