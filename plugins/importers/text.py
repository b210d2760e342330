"""Plain-text and Markdown notes (.txt, .md), with optional front matter describing the source.

The stored text is kept exactly as written (CRLF stays CRLF) because coded spans are code-point offsets
into it; only one leading byte-order mark and the front matter block are removed.

Front matter is a first line ``---``, then ``key: value`` lines, then ``---``. Known keys: kind, case,
collected_at (ISO date or date-time; a time without offset means UTC), annex_a (1-11), tier, title.
Other keys are kept in ``metadata``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any

from ledger.contracts import ImportedSource
from ledger.errors import ImportRejected

BOM = "\ufeff"
_FENCE = "---"
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\n|\r|$)")
_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
#: Front matter must close within this many lines, so a stray '---' cannot swallow a whole file.
MAX_FRONT_MATTER_LINES = 100


def decode_utf8(data: bytes, filename: str) -> str:
    """The text of ``data`` as UTF-8 without one leading byte-order mark; refuse bytes that are not text."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ImportRejected(
            "not-utf8",
            f"{filename} is not UTF-8 text (byte {error.start} is invalid); save it as UTF-8 and import "
            "it again.",
        ) from None
    if "\x00" in text:
        raise ImportRejected(
            "not-text",
            f"{filename} contains NUL characters, so it is binary or UTF-16 rather than UTF-8 text; save "
            "it as UTF-8 text and import it again.",
        )
    return text.removeprefix(BOM)


def title_from_filename(filename: str) -> str:
    """A title for a source whose file says nothing better: the file name without its extension."""
    return PurePath(filename).stem or "untitled"


class TextImporter:
    """Reads UTF-8 ``.txt`` and ``.md`` notes, keeping the text exactly and reading any front matter."""

    name = "text"
    extensions = (".txt", ".md", ".markdown")
    description = "UTF-8 text and Markdown notes, with optional '---' front matter (kind, case, date...)."

    def read(self, data: bytes, filename: str) -> list[ImportedSource]:
        """One source holding the text after the front matter, described by the front matter."""
        text = decode_utf8(data, filename)
        fields, body = split_front_matter(text, filename)
        if not body.strip():
            raise ImportRejected(
                "empty", f"{filename} has no text to import; check that the right file was chosen."
            )
        known = _known_fields(fields, filename)
        metadata = {key: value for key, value in fields.items() if key not in _PARSERS}
        return [
            ImportedSource(
                title=known.pop("title", None) or title_from_filename(filename),
                text=body,
                format=self.name,
                metadata=metadata,
                **known,
            )
        ]


def split_front_matter(text: str, filename: str) -> tuple[dict[str, str], str]:
    """``({key: raw value}, text after the block)``; no block gives ``({}, text)``."""
    lines = _LINE.finditer(text)
    first = next(lines).group()
    if first.rstrip("\r\n") != _FENCE or first == _FENCE:
        return {}, text
    fields: dict[str, str] = {}
    for number, match in enumerate(lines, start=2):
        line = match.group()
        content = line.rstrip("\r\n")
        if content == _FENCE:
            return fields, text[match.end() :]
        if number > MAX_FRONT_MATTER_LINES or not line:
            break
        if not content.strip() or content.lstrip().startswith("#"):
            continue
        key, value = _key_value(content, number, filename)
        if key in fields:
            raise _bad(filename, f"line {number} repeats the key {key!r}", "keep one of them")
        fields[key] = value
    raise _bad(
        filename,
        f"the front matter opened by '---' on line 1 is not closed by a '---' line within "
        f"{MAX_FRONT_MATTER_LINES} lines",
        "add the closing '---' line",
    )


def _key_value(line: str, number: int, filename: str) -> tuple[str, str]:
    key, colon, value = line.partition(":")
    key = key.strip().lower().replace("-", "_")
    if not colon or not _KEY.match(key):
        raise _bad(
            filename,
            f"line {number} ({line.strip()[:40]!r}) is not 'key: value'",
            "fix it, or add the closing '---' line if the front matter ended above it",
        )
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return key, value


def _bad(filename: str, what: str, fix: str) -> ImportRejected:
    return ImportRejected("bad-front-matter", f"{filename}: in the front matter, {what}; {fix}.")


def _text(value: str, key: str, filename: str) -> str:
    return value


def _collected_at(value: str, key: str, filename: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _bad(
            filename,
            f"{key} {value!r} is not an ISO date or date-time",
            "write it like 2024-03-05 or 2024-03-05T14:30:00+00:00",
        ) from None
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:
        raise _bad(filename, f"{key} {value!r} is outside the dates a clock can hold", "check the year") from None


def _annex_a(value: str, key: str, filename: str) -> int:
    item = int(value) if value.isascii() and value.isdigit() else 0
    if not 1 <= item <= 11:
        raise _bad(filename, f"{key} {value!r} is not an Annex A list number", "use a whole number 1 to 11")
    return item


_PARSERS: dict[str, Any] = {
    "kind": _text,
    "case": _text,
    "collected_at": _collected_at,
    "annex_a": _annex_a,
    "tier": _text,
    "title": _text,
}


def _known_fields(fields: dict[str, str], filename: str) -> dict[str, Any]:
    """Parse the known keys; an empty value counts as not given, so the command-line option applies."""
    return {
        key: _PARSERS[key](value, key, filename)
        for key, value in fields.items()
        if key in _PARSERS and value
    }
