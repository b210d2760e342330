"""Inline SVG charts for the HTML report: stacked bars, and a grade's path over time. No scripts, no fonts
fetched, no external assets: each chart is ``role="img"`` with a ``<title>`` and ``<desc>`` as its text
alternative, and every mark carries its own ``<title>``. Colours keep at least 4.5:1 contrast on white and
each series has its own pattern as well as its colour, so the charts read in greyscale print too.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from projections.report_data import grade_label, when

if TYPE_CHECKING:
    from projections.report_data import Bars, GradePath

#: Tone -> (fill colour, pattern id); contrast on white: 7.9:1, 6.5:1, 6.4:1.
TONES = {"strength": ("#1b5e20", "p-strength"), "weakness": ("#b3261e", "p-weakness"),
         "neutral": ("#56606a", "p-neutral")}
INK = "#1a1a1a"
WIDTH = 760
LABEL = 250


def _a(value: object) -> str:
    return escape(str(value), quote=True)


def patterns() -> str:
    """The shared hatching patterns, defined once per document in a hidden SVG."""
    defs = []
    for tone, (colour, pid) in TONES.items():
        marks = {"strength": "", "weakness": '<path d="M0,6 L6,0" stroke="#ffffff" stroke-width="1.2"/>',
                 "neutral": '<circle cx="3" cy="3" r="1.1" fill="#ffffff"/>'}[tone]
        defs.append(f'<pattern id="{pid}" width="6" height="6" patternUnits="userSpaceOnUse">'
                    f'<rect width="6" height="6" fill="{colour}"/>{marks}</pattern>')
    return ('<svg class="defs" width="0" height="0" aria-hidden="true" focusable="false"><defs>'
            + "".join(defs) + "</defs></svg>")


def _head(chart_id: str, title: str, description: str, height: int) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
            f'aria-labelledby="{chart_id}-t {chart_id}-d" id="{chart_id}">'
            f'<title id="{chart_id}-t">{_a(title)}</title><desc id="{chart_id}-d">{_a(description)}</desc>')


def _clip(text: str, size: int = 30) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def bars(block: Bars, chart_id: str) -> str:
    """Horizontal stacked bars with a legend; totals are written after each bar."""
    row, top = 26, 34
    height = top + row * max(len(block.categories), 1) + 10
    totals = [sum(s.values[i] for s in block.series) for i in range(len(block.categories))]
    scale = (WIDTH - LABEL - 70) / max(max(totals, default=0), 1)
    out = [_head(chart_id, block.title, block.description, height)]
    x = LABEL
    for series in block.series:
        colour, pid = TONES[series.tone]
        out.append(f'<rect x="{x}" y="8" width="14" height="14" fill="url(#{pid})" stroke="{colour}"/>'
                   f'<text x="{x + 20}" y="20" font-size="13" fill="{INK}">{_a(series.name)}</text>')
        x += 30 + 8 * len(series.name)
    for i, category in enumerate(block.categories):
        y = top + i * row
        out.append(f'<text x="{LABEL - 8}" y="{y + 16}" font-size="13" text-anchor="end" fill="{INK}">'
                   f'<title>{_a(category)}</title>{_a(_clip(category))}</text>')
        x = float(LABEL)
        for series in block.series:
            value = series.values[i]
            if value:
                colour, pid = TONES[series.tone]
                width = value * scale
                out.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{width:.1f}" height="18" fill="url(#{pid})" '
                           f'stroke="{colour}"><title>{_a(category)}: {value} {_a(series.name.lower())}</title></rect>')
                x += width
        out.append(f'<text x="{x + 6:.1f}" y="{y + 16}" font-size="12" fill="{INK}">'
                   f'{" / ".join(str(s.values[i]) for s in block.series)}</text>')
    out.append("</svg>")
    return "".join(out)


def grade_path(block: GradePath, chart_id: str) -> str:
    """The grade at each step, best grade at the top; a point's title says what happened, when and by whom."""
    scale = list(block.scale) + sorted({p.grade for p in block.points} - set(block.scale))
    top, step_h, left = 20, 36, 190
    height = top + step_h * len(scale) + 56
    count = max(len(block.points), 1)
    gap = (WIDTH - left - 40) / max(count - 1, 1)
    out = [_head(chart_id, block.title, block.description, height)]
    for i, grade in enumerate(scale):
        y = top + i * step_h + step_h / 2
        out.append(f'<line x1="{left - 10}" y1="{y}" x2="{WIDTH - 20}" y2="{y}" stroke="#767676" '
                   f'stroke-dasharray="2 4"/><text x="{left - 16}" y="{y + 4}" font-size="13" text-anchor="end" '
                   f'fill="{INK}">{_a(grade_label(grade))}</text>')
    coords = []
    for i, point in enumerate(block.points):
        x = left + (i * gap if count > 1 else (WIDTH - left - 40) / 2)
        y = top + scale.index(point.grade) * step_h + step_h / 2
        coords.append((x, y, point))
    if len(coords) > 1:
        out.append('<polyline fill="none" stroke="#0b3d91" stroke-width="2.5" points="'
                   + " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in coords) + '"/>')
    base = top + step_h * len(scale)
    for x, y, point in coords:
        said = f"{point.step.replace('-', ' ')}: {grade_label(point.grade)} on {when(point.at)} by {point.actor}"
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="#0b3d91"><title>{_a(said)}</title></circle>'
                   f'<text x="{x:.1f}" y="{base + 18}" font-size="12" text-anchor="middle" fill="{INK}">'
                   f'{_a(point.step.replace("-", " "))}</text>'
                   f'<text x="{x:.1f}" y="{base + 34}" font-size="11" text-anchor="middle" fill="{INK}">'
                   f'{_a(when(point.at)[:10])}</text>')
    out.append("</svg>")
    return "".join(out)
