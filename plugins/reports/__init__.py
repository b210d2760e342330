"""Built-in report writers: terminal (rich), Markdown, self-contained HTML, JSON, CSV and Word (.docx).

Each writer renders the plain-data report model of ``projections.report_data`` and returns the whole
document as bytes; none touches the ledger, the network or the clock, so the same report gives the same
bytes. Heavy libraries (rich, python-docx) load when a writer runs, so loading the plugin is cheap.
See docs/reports.md.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import TYPE_CHECKING

from ledger.hookspecs import hookimpl
from plugins.lazy import lazy_exports

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from ledger.contracts import ReportWriter

__all__ = [
    "WRITERS",
    "CsvWriter",
    "DocxWriter",
    "HtmlWriter",
    "JsonWriter",
    "MarkdownWriter",
    "TerminalWriter",
    "register_report_writers",
    "writer_for_path",
]

__getattr__ = lazy_exports(__name__, {
    "WRITERS": "plugins.reports.writers",
    "CsvWriter": "plugins.reports.data",
    "JsonWriter": "plugins.reports.data",
    "HtmlWriter": "plugins.reports.html",
    "MarkdownWriter": "plugins.reports.markdown",
    "TerminalWriter": "plugins.reports.terminal",
    "DocxWriter": "plugins.reports.word",
})


@hookimpl
def register_report_writers(register: Callable[[ReportWriter], None]) -> None:
    """Register the terminal, Markdown, HTML, JSON, CSV and Word writers."""
    from plugins.reports.writers import WRITERS

    for writer in WRITERS:
        register(writer)


def writer_for_path(path: PurePath, writers: Iterable[ReportWriter]) -> str | None:
    """The name of the writer whose extension ``path`` has (``report.html`` -> "html"), or None."""
    suffix = path.suffix.lower().lstrip(".")
    for writer in writers:
        if writer.extension.lower() == suffix:
            return writer.name
    return None
