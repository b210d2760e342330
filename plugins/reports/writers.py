"""The built-in writers, in the order they are registered."""

from __future__ import annotations

from ledger.contracts import ReportWriter
from plugins.reports.data import CsvWriter, JsonWriter
from plugins.reports.html import HtmlWriter
from plugins.reports.markdown import MarkdownWriter
from plugins.reports.terminal import TerminalWriter
from plugins.reports.word import DocxWriter

WRITERS: tuple[ReportWriter, ...] = (
    TerminalWriter(), MarkdownWriter(), HtmlWriter(), JsonWriter(), CsvWriter(), DocxWriter(),
)
