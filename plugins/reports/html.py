"""One self-contained, printable, accessible HTML file: inline CSS and SVG, no scripts, no external assets.

A Content-Security-Policy forbids every fetch but inline styles and ``data:`` images, so opening the file
makes no network request. Structure for assistive technology: ``lang``, one ``h1``, headings by level, a
contents list, tables with captions and header cells, charts as ``role="img"`` with title and description
(and their data in a table beside them), and quotes as ``blockquote`` with their provenance.
"""

from __future__ import annotations

from html import escape
from typing import Any

from plugins.reports import charts
from plugins.reports.markdown import bar_rows, path_rows, provenance
from projections.report_data import Bars, Bullets, GradePath, Paragraph, Table, Vignette

CSS = """
:root { color-scheme: light; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1a1a1a;
  background: #ffffff; max-width: 60rem; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.9rem; margin-bottom: .2rem; } h2 { font-size: 1.45rem; margin-top: 2.2rem;
  border-bottom: 2px solid #0b3d91; } h3 { font-size: 1.15rem; margin-top: 1.6rem; }
.subtitle { color: #3d3d3d; margin-top: 0; } a { color: #0b3d91; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; }
dl.meta dt { font-weight: 600; } dl.meta dd { margin: 0; }
table { border-collapse: collapse; width: 100%; margin: .8rem 0; font-size: .92rem; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { border: 1px solid #8a8a8a; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #e8edf5; }
.note { color: #3d3d3d; font-style: italic; }
.warning { border-left: 5px solid #b3261e; padding: .3rem .7rem; background: #fdf1f0; }
figure { margin: 1rem 0; } figcaption { font-size: .9rem; color: #3d3d3d; }
figure.chart { border: 1px solid #c4c4c4; padding: .6rem; }
figure.vignette { border-left: 5px solid #56606a; padding: .2rem .9rem; background: #f6f7f8; }
figure.strength { border-left-color: #1b5e20; } figure.weakness { border-left-color: #b3261e; }
blockquote { margin: .3rem 0; font-size: 1.02rem; } .context { color: #4a4a4a; }
.quote { background: #fff4c2; color: #1a1a1a; }
details { margin-top: .4rem; } svg.defs { position: absolute; } nav li.level-3 { margin-left: 1.4rem; }
footer { margin-top: 3rem; font-size: .85rem; color: #3d3d3d; border-top: 1px solid #c4c4c4; }
@media print {
  @page { margin: 18mm 15mm; }
  body { max-width: none; padding: 0; font-size: 11pt; color: #000000; }
  nav.contents, details { display: none; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  figure, table, tr { break-inside: avoid; page-break-inside: avoid; }
  a { color: #000000; text-decoration: none; }
  .quote { background: none; text-decoration: underline; }
}
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _table(caption: str, columns: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> str:
    head = "".join(f'<th scope="col">{_e(c)}</th>' for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    if not rows:
        body = f'<tr><td colspan="{len(columns)}">None.</td></tr>'
    return f"<table><caption>{_e(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class _Renderer:
    """Renders blocks, numbering charts so their ids are unique and stable within the document."""

    def __init__(self) -> None:
        self.charts = 0

    def chart(self, svg: str, title: str, data: str) -> str:
        return (f'<figure class="chart">{svg}<figcaption>{_e(title)}</figcaption>'
                f"<details><summary>The data behind this chart</summary>{data}</details></figure>")

    def block(self, block: Any) -> str:
        if isinstance(block, Paragraph):
            cls = f' class="{block.emphasis}"' if block.emphasis != "body" else ""
            prefix = "<strong>Warning:</strong> " if block.emphasis == "warning" else ""
            return f"<p{cls}>{prefix}{_e(block.text)}</p>"
        if isinstance(block, Bullets):
            return "<ul>" + "".join(f"<li>{_e(item)}</li>" for item in block.items) + "</ul>"
        if isinstance(block, Table):
            return _table(block.caption, block.columns, block.rows)
        if isinstance(block, Vignette):
            before = f'<span class="context">{_e(block.before)}</span>' if block.before else ""
            after = f'<span class="context">{_e(block.after)}</span>' if block.after else ""
            return (f'<figure class="vignette {block.valence}"><blockquote><p>{before}'
                    f'<span class="quote">{_e(block.quote)}</span>{after}</p></blockquote>'
                    f"<figcaption>{_e(provenance(block))}</figcaption></figure>")
        if isinstance(block, Bars):
            self.charts += 1
            columns = ("Category", *(s.name for s in block.series))
            return self.chart(charts.bars(block, f"chart-{self.charts}"), block.title,
                              _table(block.title, columns, bar_rows(block)))
        if isinstance(block, GradePath):
            self.charts += 1
            return self.chart(charts.grade_path(block, f"chart-{self.charts}"), block.title,
                              _table(block.title, ("When", "Step", "Grade", "By"), path_rows(block)))
        raise TypeError(f"The HTML writer cannot render a {type(block).__name__} block.")


class HtmlWriter:
    """A single HTML5 file that opens offline in any browser and prints cleanly."""

    name = "html"
    format = "html"
    extension = "html"

    def write(self, report: Any) -> bytes:
        """Return the report as one UTF-8 HTML document."""
        render = _Renderer()
        contents = "".join(
            f'<li class="level-{s.level}"><a href="#{_e(s.anchor)}">{_e(s.heading)}</a></li>' for s in report.sections
        )
        sections = []
        for s in report.sections:
            level = min(max(s.level, 2), 6)
            body = "".join(render.block(b) for b in s.blocks)
            sections.append(f'<section id="{_e(s.anchor)}" aria-labelledby="{_e(s.anchor)}-h">'
                            f'<h{level} id="{_e(s.anchor)}-h">{_e(s.heading)}</h{level}>{body}</section>')
        meta = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in (
            ("Inspection", report.inspection), ("Local authority", report.authority),
            ("Framework", report.framework), ("Ledger position", report.as_at),
        ))
        page = (
            f'<!DOCTYPE html>\n<html lang="{_e(report.lang)}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            f'<meta name="generator" content="Evidence Ledger">\n<link rel="icon" href="data:,">\n'
            f"<title>{_e(report.title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{charts.patterns()}\n"
            f'<header><h1>{_e(report.title)}</h1><p class="subtitle">{_e(report.subtitle)}</p>'
            f'<dl class="meta">{meta}</dl></header>\n'
            f'<nav class="contents" aria-label="Contents"><h2>Contents</h2><ul>{contents}</ul></nav>\n'
            f"<main>\n" + "\n".join(sections) + "\n</main>\n"
            f"<footer><p>Built by Evidence Ledger from the ledger up to position {_e(report.as_at)}. Every quotation "
            "names the coding and source it comes from.</p></footer>\n</body>\n</html>\n"
        )
        return page.encode("utf-8")
