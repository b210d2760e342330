"""Where things are in report text: lines and columns, sentences, words and evidence citations.

Offsets and columns count code points (Python ``str`` indices), so an emoji or an accented letter is
one column however many bytes it takes. Lines break at ``\\r\\n``, ``\\r`` or ``\\n``.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable

LINE_BREAK = re.compile(r"\r\n|\r|\n")

#: A word: letters or digits, joined by inner apostrophes or hyphens ("children’s", "risk-free").
WORD = re.compile(r"\w+(?:['’\-\u2010\u2011]\w+)*")

# A hyphen joins words, so "never-ending" is not "never" and "ensured-ness" is not "ensured".
_WORD_CHAR = r"[\w\-\u2010\u2011]"

_ID = r"[0-9a-f]{8,}(?:-[0-9a-f]+)*"
_ONE_CITATION = rf"(?:(?:coding|source)\s+|c:){_ID}"
#: A ledger citation: ``[coding 1a2b3c4d]``, ``[source 1a2b3c4d]`` or ``[c:1a2b3c4d]`` (8+ hex
#: digits, a full UUID allowed), several allowed in one bracket separated by ``;`` or ``,``.
CITATION = re.compile(rf"\[\s*{_ONE_CITATION}(?:\s*[;,]\s*{_ONE_CITATION})*\s*\]", re.IGNORECASE)
# A citation placed just after the full stop (same or next line) still belongs to the sentence.
_TRAILING_CITATION = re.compile(
    rf"[^\S\r\n]*(?:\r\n|\r|\n)?[^\S\r\n]*{CITATION.pattern}", re.IGNORECASE
)

_BULLET = r"(?:[-*+•‣◦▪]|\d+[.)]|\#+)"
_SENTENCE_BREAK = re.compile(
    rf"""
    (?P<stop>[.!?]["')\]”’»]*)\s+                   # full stop (and closing quotes), then space
    | (?:\r\n|\r|\n)[^\S\r\n]*(?:\r\n|\r|\n)\s*     # a blank line
    | (?:\r\n|\r|\n)(?=[^\S\r\n]*{_BULLET}[^\S\r\n])  # a new list item or heading
    """,
    re.VERBOSE,
)
_SENTENCE_LEAD = re.compile(rf"(?:\s|[\"'“‘(\[«]|{_BULLET}(?=\s))*")
_ABBREVIATION = re.compile(
    r"(?<![\w.])(?:e\.g|i\.e|eg|ie|cf|vs|mr|mrs|ms|dr|st|para|approx|s)$", re.IGNORECASE
)


def compile_phrases(patterns: Iterable[str]) -> re.Pattern[str]:
    """One case-insensitive regex matching any of ``patterns`` as whole words.

    A space in a pattern matches any run of whitespace, line breaks included ("kept\\nsafe"). The
    alternative that matched is the named group ``p<index>``, so patterns must not capture.
    """
    alternatives = []
    for index, pattern in enumerate(patterns):
        if re.compile(pattern).groups:
            raise ValueError(f"Phrase pattern {pattern!r} has a capturing group; use (?:...).")
        spaced = pattern.replace(" ", r"\s+")
        alternatives.append(f"(?P<p{index}>{spaced})")
    return re.compile(
        rf"(?<!{_WORD_CHAR})(?:{'|'.join(alternatives)})(?!{_WORD_CHAR})", re.IGNORECASE
    )


def word_count(text: str) -> int:
    """How many words ``text`` holds (see ``WORD``)."""
    return sum(1 for _ in WORD.finditer(text))


class TextView:
    """A text with fast lookup of the line, column and sentence of any offset."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._line_starts = [0, *(m.end() for m in LINE_BREAK.finditer(text))]
        self._sentences: list[tuple[int, int]] | None = None
        self._sentence_starts: list[int] = []

    def line_column(self, offset: int) -> tuple[int, int]:
        """The 1-based line and column of ``offset``."""
        index = bisect_right(self._line_starts, offset) - 1
        return index + 1, offset - self._line_starts[index] + 1

    def sentence(self, offset: int) -> tuple[int, int]:
        """The ``[start, end)`` of the sentence holding ``offset``, after any bullet or quote."""
        if self._sentences is None:
            self._sentences = list(_sentences(self.text))
            self._sentence_starts = [start for start, _ in self._sentences]
        index = max(bisect_right(self._sentence_starts, offset) - 1, 0)
        return self._sentences[index]

    def begins_sentence(self, offset: int) -> bool:
        """Whether ``offset`` is where its sentence (or list item) starts."""
        return self.sentence(offset)[0] == offset

    def cites_evidence(self, offset: int) -> bool:
        """Whether the sentence holding ``offset`` carries a ledger citation (see ``CITATION``)."""
        start, end = self.sentence(offset)
        inside = CITATION.search(self.text, start, end)
        return bool(inside or _TRAILING_CITATION.match(self.text, end))


def _sentences(text: str) -> Iterable[tuple[int, int]]:
    start = 0
    for match in _SENTENCE_BREAK.finditer(text):
        stop = match.end("stop") if match.group("stop") else match.start()
        if match.group("stop") and _is_abbreviation(text, match.start()):
            continue
        yield _skip_lead(text, start, stop), stop
        start = match.end()
    yield _skip_lead(text, start, len(text)), len(text)


def _skip_lead(text: str, start: int, end: int) -> int:
    lead = _SENTENCE_LEAD.match(text, start, end)
    return lead.end() if lead else start


def _is_abbreviation(text: str, dot: int) -> bool:
    return text[dot] == "." and bool(_ABBREVIATION.search(text, max(dot - 8, 0), dot))
