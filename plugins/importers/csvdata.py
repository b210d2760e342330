"""Comma-separated data (.csv, .tsv): performance figures and Annex A lists, stored as the exact text.

The importer checks the file really is a table (a header, rows that fit it) so that a mistaken file is
refused with the line to look at, and records the columns and row count in ``metadata``.
"""

from __future__ import annotations

import csv
import io
import re

from ledger.contracts import ImportedSource
from ledger.errors import ImportRejected
from plugins.importers.text import decode_utf8, title_from_filename

DELIMITERS = ",;\t|"
#: The sniffer's cost grows with the square of its sample, so it only sees the start of the file.
SNIFF_BYTES = 4096
SNIFF_LINES = 20
_NUMBER = re.compile(r"^[\s$£€%+-]*[\d.,]+[\s%]*$")


class CsvImporter:
    """Reads UTF-8 delimited text with a header row; rows may omit trailing values but not add columns."""

    name = "csv"
    extensions = (".csv", ".tsv")
    description = (
        "Comma-, semicolon- or tab-separated data with a header row (performance data, Annex A lists)."
    )

    def read(self, data: bytes, filename: str) -> list[ImportedSource]:
        """One source holding the file's text exactly, with its columns and row count in ``metadata``."""
        text = decode_utf8(data, filename)
        if not text.strip():
            raise ImportRejected(
                "empty", f"{filename} has no data to import; check that the right file was chosen."
            )
        dialect = sniff_dialect(text)
        header, rows = _check_table(text, dialect, filename)
        return [
            ImportedSource(
                title=title_from_filename(filename),
                text=text,
                format=self.name,
                metadata={
                    "columns": ",".join(header),
                    "rows": str(rows),
                    "delimiter": dialect.delimiter,
                },
            )
        ]


def sniff_dialect(text: str) -> type[csv.Dialect]:
    """The dialect of ``text`` sniffed from its first lines, else the header's commonest delimiter."""
    sample = "".join(text.splitlines(keepends=True)[:SNIFF_LINES])[:SNIFF_BYTES]
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS)
    except csv.Error:
        header = sample.splitlines()[0] if sample else ""
        delimiter = max(DELIMITERS, key=header.count) if any(d in header for d in DELIMITERS) else ","
        return type("HeaderDialect", (csv.excel,), {"delimiter": delimiter})


def _check_table(text: str, dialect: type[csv.Dialect], filename: str) -> tuple[list[str], int]:
    """The header and the number of data rows; refuse a missing header or a row wider than it."""
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    header: list[str] | None = None
    rows = 0
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue  # blank lines are not data
            if header is None:
                header = _check_header(row, reader.line_num, filename)
                continue
            width = len(row)
            while width > len(header) and not row[width - 1].strip():
                width -= 1  # trailing empty cells, as spreadsheets write them, are tolerated
            if width > len(header):
                raise ImportRejected(
                    "ragged-csv",
                    f"{filename}: line {reader.line_num} has {width} values but the header names "
                    f"{len(header)} columns; fix that line (a missing quote or an extra "
                    f"{_describe(dialect.delimiter)} is the usual cause).",
                )
            rows += 1
    except csv.Error as error:
        raise ImportRejected(
            "bad-csv",
            f"{filename}: line {reader.line_num} cannot be read as delimited data ({error}); fix that line.",
        ) from None
    if header is None:
        raise ImportRejected(
            "no-header", f"{filename} has no header row; add a first line naming the columns."
        )
    return header, rows


def _check_header(row: list[str], line: int, filename: str) -> list[str]:
    names = [cell.strip() for cell in row]
    if all(_NUMBER.match(name) or not name for name in names):
        raise ImportRejected(
            "no-header",
            f"{filename}: the first row (line {line}) holds numbers, not column names; add a header line "
            "naming the columns.",
        )
    return names


def _describe(delimiter: str) -> str:
    return {"\t": "tab", ",": "comma", ";": "semicolon", "|": "bar"}.get(delimiter, repr(delimiter))
