"""Data exports of a report: the whole model as JSON, and its flat records as CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

import msgspec


class JsonWriter:
    """The whole report model as indented JSON (blocks carry a ``type`` tag: paragraph, table, vignette...)."""

    name = "json"
    format = "json"
    extension = "json"

    def write(self, report: Any) -> bytes:
        """Return the report as UTF-8 JSON ending in a newline."""
        return msgspec.json.format(msgspec.json.encode(report), indent=2) + b"\n"


class CsvWriter:
    """The report's records (one row per vignette, change or feedback item) under its column names."""

    name = "csv"
    format = "csv"
    extension = "csv"

    def write(self, report: Any) -> bytes:
        """Return RFC 4180 CSV (CRLF line ends), UTF-8, with a header row."""
        buffer = io.StringIO()
        out = csv.writer(buffer, lineterminator="\r\n")
        out.writerow(report.columns)
        out.writerows(report.records)
        return buffer.getvalue().encode("utf-8")
