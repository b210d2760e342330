"""The Coding aggregate: one coding act — a span of a source's exact text tagged with a code and a valence.

Spans are ``[start, end)`` in code points over the stored text. A quote can be given instead of a span; it must
occur exactly once, or be told apart with ``occurrence``.
"""

from __future__ import annotations

import enum
import hashlib
import re
import uuid
from typing import TYPE_CHECKING

import msgspec

from ledger.aggregate import Aggregate, applies
from ledger.contracts import GRADES
from ledger.errors import BadInput, NotFound
from ledger.events import Event

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.codebook import CodebookState
    from ledger.inspection import Inspection
    from ledger.source import Source


class Valence(enum.StrEnum):
    STRENGTH = "strength"
    WEAKNESS = "weakness"
    NEUTRAL = "neutral"


class SegmentCoded(Event, frozen=True, kw_only=True):
    """A passage of a source was coded (the coder is the event's actor)."""

    TOPIC = "Coding.SegmentCoded"
    inspection: uuid.UUID
    source: uuid.UUID
    start: int
    end: int
    quote_hash: str
    code: str
    valence: Valence
    band: str | None = None
    note: str = ""
    round: uuid.UUID | None = None


class CodingWithdrawn(Event, frozen=True, kw_only=True):
    """The coder (or lead) withdrew the coding, saying why; it stays in the history."""

    TOPIC = "Coding.Withdrawn"
    rationale: str


class CodingRemapped(Event, frozen=True, kw_only=True):
    """The source was superseded and the same passage was found in the new version."""

    TOPIC = "Coding.Remapped"
    source: uuid.UUID
    start: int
    end: int


class CodingUnplaced(Event, frozen=True, kw_only=True):
    """The source was superseded and the passage could not be placed in the new version."""

    TOPIC = "Coding.Unplaced"
    superseded_by: uuid.UUID
    reason: str


class Coding(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.inspection: uuid.UUID | None = None
        self.source: uuid.UUID | None = None
        self.start = self.end = 0
        self.code = ""
        self.valence = Valence.NEUTRAL
        self.band: str | None = None
        self.coder = ""
        self.round: uuid.UUID | None = None
        self.withdrawn = False
        self.unplaced = False

    @applies(SegmentCoded)
    def _coded(self, e: SegmentCoded) -> None:
        self.inspection, self.source, self.start, self.end = e.inspection, e.source, e.start, e.end
        self.code, self.valence, self.band, self.coder, self.round = e.code, e.valence, e.band, e.actor, e.round

    @applies(CodingWithdrawn)
    def _withdrawn(self, e: CodingWithdrawn) -> None:
        self.withdrawn = True

    @applies(CodingRemapped)
    def _remapped(self, e: CodingRemapped) -> None:
        self.source, self.start, self.end = e.source, e.start, e.end

    @applies(CodingUnplaced)
    def _unplaced(self, e: CodingUnplaced) -> None:
        self.unplaced = True


class CodingRequest(msgspec.Struct, kw_only=True):
    """One coding to make: a span or a quote (with an optional occurrence, 1-based)."""

    code: str
    valence: str
    start: int | None = None
    end: int | None = None
    quote: str | None = None
    occurrence: int | None = None
    band: str | None = None
    note: str = ""


def quote_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def context(text: str, start: int, end: int, width: int = 30) -> str:
    """The passage with some text either side, on one line, for error messages and listings."""
    before = text[max(0, start - width) : start]
    after = text[end : end + width]
    flat = lambda s: re.sub(r"\s+", " ", s)  # noqa: E731
    return f"…{flat(before)}[{flat(text[start:end])}]{flat(after)}…"


def locate_quote(text: str, quote: str, occurrence: int | None) -> tuple[int, int]:
    """The span of ``quote`` in ``text``: it must be found, and found once unless ``occurrence`` picks one."""
    if not quote:
        raise BadInput("The quote is empty; give the exact words to code with --quote.")
    starts = [m.start() for m in re.finditer(re.escape(quote), text)]
    if not starts:
        loose = re.compile(r"\s+".join(re.escape(w) for w in quote.split()), re.IGNORECASE)
        near = [m.span() for m in loose.finditer(text)][:5]
        hint = "; near matches: " + "; ".join(f"{a}:{b} {context(text, a, b)}" for a, b in near) if near else ""
        raise BadInput(f"The quote {quote!r} is not in the source{hint} (use --span START:END or the exact words).")
    if occurrence is None:
        if len(starts) > 1:
            listed = "; ".join(f"#{i} at {s}:{s + len(quote)} {context(text, s, s + len(quote))}"
                               for i, s in enumerate(starts[:5], 1))
            raise BadInput(f"The quote occurs {len(starts)} times ({listed}); pick one with --occurrence N.")
        occurrence = 1
    if not 1 <= occurrence <= len(starts):
        raise BadInput(f"--occurrence {occurrence} is out of range: the quote occurs {len(starts)} time(s).")
    start = starts[occurrence - 1]
    return start, start + len(quote)


def _valence(value: str) -> Valence:
    try:
        return Valence(value)
    except ValueError:
        raise BadInput(f"{value!r} is not a valence; use strength, weakness or neutral.") from None


def _band(value: str | None) -> str | None:
    if value in (None, ""):
        return None
    if value not in GRADES:
        raise BadInput(f"{value!r} is not a grade band; use one of: {', '.join(GRADES)}.")
    return value


def prepare(
    ledger: Ledger, actor: str, inspection: Inspection, source: Source, codebook: CodebookState,
    request: CodingRequest, *, round_id: uuid.UUID | None = None,
) -> SegmentCoded:
    """Validate one coding request against the exact stored text and the codebook; return its event."""
    role = inspection.require(actor, "code.apply")
    if not source.usable:
        raise BadInput(f"Source {source.id.hex[:8]} is withdrawn or superseded; code its current version instead.")
    code = codebook.resolve(request.code)
    if not codebook.active(code):
        raise BadInput(f"Code {code} is retired or merged into {codebook.current(code)}; apply the current code.")
    if request.quote is not None:
        if request.start is not None:
            raise BadInput("Give either --span or --quote, not both.")
        start, end = locate_quote(source.text, request.quote, request.occurrence)
    elif request.start is not None and request.end is not None:
        start, end = request.start, request.end
        length = len(source.text)
        if not 0 <= start < end <= length:
            raise BadInput(
                f"The span {start}:{end} is outside the source, which has {length} characters; "
                f"use START:END with 0 <= START < END <= {length}."
            )
    else:
        raise BadInput("Say what to code with --span START:END or --quote TEXT.")
    return ledger.event(
        SegmentCoded, uuid.uuid4(), actor, role,
        inspection=inspection.id, source=source.id, start=start, end=end,
        quote_hash=quote_hash(source.text[start:end]), code=code, valence=_valence(request.valence),
        band=_band(request.band), note=request.note.strip(), round=round_id,
    )


def load(ledger: Ledger, prefix: str, inspection: Inspection) -> Coding:
    cid = ledger.resolve(prefix, [SegmentCoded.TOPIC], "coding")
    coding = ledger.get(Coding, cid, what="coding")
    if coding.inspection != inspection.id:
        raise NotFound(f"Coding {prefix} belongs to another inspection than {inspection.reference}.")
    return coding


def withdraw(ledger: Ledger, actor: str, inspection: Inspection, coding: Coding, rationale: str) -> None:
    role = inspection.require(actor, "code.withdraw")
    if coding.coder != actor and role != "lead-inspector":
        raise BadInput(f"Coding {coding.id.hex[:8]} was made by {coding.coder}; only they or the lead may withdraw it.")
    if coding.withdrawn:
        raise BadInput(f"Coding {coding.id.hex[:8]} was withdrawn already.")
    if not rationale.strip():
        raise BadInput("Say why the coding is withdrawn with --because TEXT.")
    ledger.append(ledger.event(CodingWithdrawn, coding, actor, role, rationale=rationale.strip()))
