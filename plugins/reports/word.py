"""Word (.docx) through python-docx: headings, paragraphs, bullet lists, gridded tables, quotes with provenance.

Charts become their data tables (Word cannot show our SVG without an image renderer). The zip is re-packed
with fixed timestamps and the document properties are fixed, so the same report gives the same bytes.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from typing import Any

from plugins.reports.markdown import bar_rows, path_rows, provenance
from projections.report_data import Bars, Bullets, GradePath, Paragraph, Table, Vignette

_ZIP_TIME = (2000, 1, 1, 0, 0, 0)
_FIXED = datetime(2000, 1, 1)  # noqa: DTZ001 - python-docx writes naive times as UTC


def _repack(data: bytes) -> bytes:
    """The same zip with every entry stamped with one fixed time."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, source.read(info))
    return out.getvalue()


def _table(document: Any, caption: str, columns: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> None:
    document.add_paragraph(caption, style="Caption")
    table = document.add_table(rows=1, cols=len(columns))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, columns, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
    for row in rows:
        for cell, text in zip(table.add_row().cells, row, strict=True):
            cell.text = text


def _block(document: Any, block: Any) -> None:
    if isinstance(block, Paragraph):
        paragraph = document.add_paragraph()
        if block.emphasis == "warning":
            paragraph.add_run("Warning: ").bold = True
        run = paragraph.add_run(block.text)
        run.italic = block.emphasis == "note"
    elif isinstance(block, Bullets):
        for item in block.items:
            document.add_paragraph(item, style="List Bullet")
    elif isinstance(block, Table):
        _table(document, block.caption, block.columns, block.rows)
    elif isinstance(block, Vignette):
        document.add_paragraph(block.quote, style="Quote")
        document.add_paragraph().add_run(provenance(block)).italic = True
    elif isinstance(block, Bars):
        _table(document, f"Chart data: {block.title}", ("Category", *(s.name for s in block.series)), bar_rows(block))
    elif isinstance(block, GradePath):
        _table(document, f"Chart data: {block.title}", ("When", "Step", "Grade", "By"), path_rows(block))
    else:
        raise TypeError(f"The Word writer cannot render a {type(block).__name__} block.")


class DocxWriter:
    """A Word document an authority or a quality-assurance reader can annotate."""

    name = "docx"
    format = "docx"
    extension = "docx"

    def write(self, report: Any) -> bytes:
        """Return the report as .docx bytes."""
        import docx

        document = docx.Document()
        properties = document.core_properties
        properties.title = report.title
        properties.subject = report.subtitle
        properties.author = properties.last_modified_by = "Evidence Ledger"
        properties.language = report.lang
        properties.created = properties.modified = _FIXED
        properties.revision = 1
        document.add_heading(report.title, level=0)
        document.add_paragraph(report.subtitle, style="Subtitle")
        document.add_paragraph(
            f"Inspection {report.inspection}; {report.authority}; framework {report.framework}; built from the "
            f"ledger up to position {report.as_at}."
        )
        for section in report.sections:
            document.add_heading(section.heading, level=min(max(section.level - 1, 1), 9))
            for block in section.blocks:
                _block(document, block)
        buffer = io.BytesIO()
        document.save(buffer)
        return _repack(buffer.getvalue())
