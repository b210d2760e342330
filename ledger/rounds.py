"""The AgreementRound aggregate: a blind double-coding round over some sources, by two or more coders.

While a round is open, each of its coders sees only their own codings of its sources (the read side applies
this through ``projections.rounds.hidden_for``). A coding belongs to a round when it is on one of the round's
sources, made by one of its coders, between the round's opening and closing ledger positions: codings are not
stamped. Rounds of an inspection are numbered 1, 2, ...; a round's id derives from that number, so two leads
opening a round at the same moment conflict and one retries as the next number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger import source as sources
from ledger.aggregate import Aggregate, applies
from ledger.application import natural_id
from ledger.errors import BadInput, NotFound
from ledger.events import Event
from ledger.roles import PERMISSIONS

from uuid import UUID  # noqa: TC003 - msgspec reads event annotations at run time

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ledger.application import Ledger
    from ledger.inspection import Inspection

#: The fewest coders whose agreement can be measured.
MIN_CODERS = 2


class Opened(Event, frozen=True, kw_only=True):
    """The lead opened blind double-coding round ``number``: ``coders`` each code ``sources`` unseen by the others."""

    TOPIC = "AgreementRound.Opened"
    inspection: UUID
    number: int
    sources: tuple[UUID, ...]
    coders: tuple[str, ...]


class Closed(Event, frozen=True, kw_only=True):
    """The lead closed the round: its codings are visible to everyone and its agreement can be measured."""

    TOPIC = "AgreementRound.Closed"


class AgreementRound(Aggregate):
    """What the ledger knows of one round: its inspection, number, sources, coders and whether it is open."""

    def __init__(self) -> None:
        super().__init__()
        self.inspection: UUID | None = None
        self.number = 0
        self.sources: tuple[UUID, ...] = ()
        self.coders: tuple[str, ...] = ()
        self.opened_by = ""
        self.is_open = False

    @applies(Opened)
    def _opened(self, e: Opened) -> None:
        self.inspection, self.number, self.sources, self.coders = e.inspection, e.number, e.sources, e.coders
        self.opened_by = e.actor
        self.is_open = True

    @applies(Closed)
    def _closed(self, e: Closed) -> None:
        self.is_open = False


def round_id(inspection_id: UUID, number: int) -> UUID:
    """The id of round ``number`` of an inspection."""
    return natural_id("agreement-round", inspection_id.hex, number)


def all_rounds(ledger: Ledger, inspection: Inspection) -> list[AgreementRound]:
    """Every round of the inspection, in number order (rounds are few: each is one look-up)."""
    assert inspection.id is not None
    found: list[AgreementRound] = []
    while ledger.exists(rid := round_id(inspection.id, len(found) + 1)):
        found.append(ledger.get(AgreementRound, rid, what="agreement round"))
    return found


def load(ledger: Ledger, inspection: Inspection, ref: str) -> AgreementRound:
    """The round named by its number (``2``) or by the start of its id (at least 4 hex digits)."""
    assert inspection.id is not None
    text = ref.strip()
    if text.isdigit() and len(text) < 4:
        rid = round_id(inspection.id, int(text))
        if not ledger.exists(rid):
            raise NotFound(
                f"Inspection {inspection.reference} has no agreement round {text}; "
                "list the rounds with 'evidence agreement list'."
            )
    else:
        rid = ledger.resolve(text, [Opened.TOPIC], "agreement round")
    state = ledger.get(AgreementRound, rid, what="agreement round")
    if state.inspection != inspection.id:
        raise NotFound(f"Agreement round {ref} belongs to another inspection than {inspection.reference}.")
    return state


def _coders(inspection: Inspection, coders: Sequence[str]) -> tuple[str, ...]:
    cleaned = tuple(c.strip() for c in coders if c.strip())
    if len(cleaned) < MIN_CODERS:
        raise BadInput(
            f"A round needs at least {MIN_CODERS} coders to compare; {len(cleaned)} given "
            "(list them with --coders A,B)."
        )
    twice = sorted({c for c in cleaned if cleaned.count(c) > 1})
    if twice:
        raise BadInput(f"Coder {twice[0]} is listed twice in --coders; give each coder once.")
    for coder in cleaned:
        role = inspection.members.get(coder)
        if role is None:
            raise BadInput(
                f"{coder} is not a member of inspection {inspection.reference}; add them with "
                f"'evidence member add {coder} --role inspector' first."
            )
        if role not in PERMISSIONS["code.apply"]:
            raise BadInput(f"{coder} is {role} in {inspection.reference} and may not code; choose inspectors.")
    return cleaned


def assign(
    ledger: Ledger, actor: str, inspection: Inspection, source_refs: Sequence[str], coders: Sequence[str]
) -> AgreementRound:
    """Open the next round over ``source_refs`` (id prefixes) for ``coders`` (lead inspectors only)."""
    role = inspection.require(actor, "agreement.assign")
    chosen = _coders(inspection, coders)
    refs = [r.strip() for r in source_refs if r.strip()]
    if not refs:
        raise BadInput("Name the sources to double-code with --sources ID,ID (ids as 'evidence source list' prints).")
    existing = all_rounds(ledger, inspection)
    busy = {sid: r.number for r in existing if r.is_open for sid in r.sources}
    picked: list[UUID] = []
    for ref in refs:
        state = sources.load(ledger, ref, inspection)
        assert state.id is not None
        if not state.usable:
            raise BadInput(f"Source {state.id.hex[:8]} is withdrawn or superseded; assign its current version.")
        if state.id in picked:
            raise BadInput(f"Source {state.id.hex[:8]} is listed twice in --sources; give each source once.")
        if state.id in busy:
            number = busy[state.id]
            raise BadInput(
                f"Source {state.id.hex[:8]} is already in open round {number}; close that round first "
                f"('evidence agreement close {number}')."
            )
        picked.append(state.id)
    assert inspection.id is not None
    number = len(existing) + 1
    event = ledger.event(
        Opened, round_id(inspection.id, number), actor, role,
        inspection=inspection.id, number=number, sources=tuple(picked), coders=chosen,
    )
    ledger.append(event)
    return AgreementRound.project(None, [event])  # type: ignore[return-value]


def close(ledger: Ledger, actor: str, inspection: Inspection, state: AgreementRound) -> None:
    """Close an open round (lead inspectors only): from then on everyone sees its codings."""
    role = inspection.require(actor, "agreement.assign")
    if not state.is_open:
        raise BadInput(f"Agreement round {state.number} was closed already; nothing was changed.")
    ledger.append(ledger.event(Closed, state, actor, role))
