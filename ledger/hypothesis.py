"""The Hypothesis aggregate: a hunch about a judgment area, tested against the evidence that could refute it.

A hypothesis expects the evidence under its codes to show a strength or a weakness. Inspectors link codings
to it (supporting, contradicting or neutral) and run the disconfirming-evidence search (``check``): every
coding under its codes whose valence runs against it, from every inspector, and every case not yet
considered. The search is logged as a ``Checked`` event, and a hypothesis cannot be accepted without a check
made after its last new link (or change of direction). An accepted hypothesis still takes new evidence (its
acceptance is then renewed after a new check, or it is rejected); a revision reopens it; a rejection is final.
"""

from __future__ import annotations

import enum
import uuid
from typing import TYPE_CHECKING

import msgspec

from ledger.aggregate import Aggregate, applies
from ledger.coding import Valence
from ledger.contracts import GRADES
from ledger.errors import AlreadyExists, BadInput, NotFound
from ledger.events import Event

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable

    from ledger.application import Ledger
    from ledger.codebook import CodebookState
    from ledger.coding import Coding
    from ledger.inspection import Inspection


class Stance(enum.StrEnum):
    """How a linked coding bears on a hypothesis."""

    SUPPORTS = "supports"
    CONTRADICTS = "contradicts"
    NEUTRAL = "neutral"


class Status(enum.StrEnum):
    """Where a hypothesis stands."""

    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


#: The grades that expect strengths; the others expect weaknesses.
STRONG_GRADES = frozenset({"outstanding", "good"})


class Stated(Event, frozen=True, kw_only=True):
    """A hypothesis was stated about a judgment area, with the codes its evidence falls under."""

    TOPIC = "Hypothesis.Stated"
    inspection: uuid.UUID
    text: str
    area: str
    codes: tuple[str, ...]
    expects: Valence
    provisional_grade: str | None = None


class EvidenceLinked(Event, frozen=True, kw_only=True):
    """A coding was linked to the hypothesis (a later link of the same coding changes its stance).

    The coding's code, valence, source and case are copied as they were, so the hypothesis's history reads
    on its own.
    """

    TOPIC = "Hypothesis.EvidenceLinked"
    coding: uuid.UUID
    stance: Stance
    code: str
    valence: Valence
    source: uuid.UUID
    case: str | None = None


class CheckQuery(msgspec.Struct, frozen=True, kw_only=True):
    """What the disconfirming-evidence search looked for: codings under ``codes`` with valence ``against``."""

    codes: tuple[str, ...]
    against: Valence
    coders: str = "every inspector"
    through: int = 0


class CheckCounts(msgspec.Struct, frozen=True, kw_only=True):
    """How many codings the search saw, by how they bear on the hypothesis."""

    searched: int
    consistent: int
    contrary: int
    neutral: int
    contrary_unlinked: int
    coders: int
    sources: int
    cases: int
    cases_not_considered: int


class Checked(Event, frozen=True, kw_only=True):
    """The disconfirming-evidence search was run: its query and what it found."""

    TOPIC = "Hypothesis.Checked"
    query: CheckQuery
    contrary: tuple[uuid.UUID, ...]
    contrary_unlinked: tuple[uuid.UUID, ...]
    cases_not_considered: tuple[str, ...]
    counts: CheckCounts


class Revised(Event, frozen=True, kw_only=True):
    """The hypothesis was reworded (and perhaps its provisional grade or direction changed), saying why."""

    TOPIC = "Hypothesis.Revised"
    text: str
    expects: Valence
    provisional_grade: str | None
    rationale: str


class Accepted(Event, frozen=True, kw_only=True):
    """The hypothesis was accepted after its disconfirming-evidence check, saying why."""

    TOPIC = "Hypothesis.Accepted"
    rationale: str


class Rejected(Event, frozen=True, kw_only=True):
    """The hypothesis was rejected, saying why."""

    TOPIC = "Hypothesis.Rejected"
    rationale: str


class Link(msgspec.Struct, frozen=True, kw_only=True):
    """A linked coding as the hypothesis holds it."""

    stance: Stance
    code: str
    valence: Valence
    source: uuid.UUID
    case: str | None


class Hypothesis(Aggregate):
    """A hypothesis: its wording, direction, links, checks and status."""

    def __init__(self) -> None:
        super().__init__()
        self.inspection: uuid.UUID | None = None
        self.text = ""
        self.area = ""
        self.codes: tuple[str, ...] = ()
        self.expects = Valence.WEAKNESS
        self.provisional_grade: str | None = None
        self.author = ""
        self.status = Status.OPEN
        self.links: dict[uuid.UUID, Link] = {}
        self.checks = 0
        self.changed_version = 0  # the last link or change of direction a check must come after
        self.checked_version = 0
        self.accepted_version = 0

    @applies(Stated)
    def _stated(self, e: Stated) -> None:
        self.inspection, self.text, self.area, self.codes = e.inspection, e.text, e.area, e.codes
        self.expects, self.provisional_grade, self.author = e.expects, e.provisional_grade, e.actor

    @applies(EvidenceLinked)
    def _linked(self, e: EvidenceLinked) -> None:
        self.links[e.coding] = Link(stance=e.stance, code=e.code, valence=e.valence, source=e.source, case=e.case)
        self.changed_version = e.originator_version

    @applies(Checked)
    def _checked(self, e: Checked) -> None:
        self.checks += 1
        self.checked_version = e.originator_version

    @applies(Revised)
    def _revised(self, e: Revised) -> None:
        if (e.expects, e.provisional_grade) != (self.expects, self.provisional_grade):
            self.changed_version = e.originator_version
        self.text, self.expects, self.provisional_grade = e.text, e.expects, e.provisional_grade
        self.status = Status.OPEN  # a reworded hypothesis is a new claim: it must be accepted afresh

    @applies(Accepted)
    def _accepted(self, e: Accepted) -> None:
        self.status = Status.ACCEPTED
        self.accepted_version = e.originator_version

    @applies(Rejected)
    def _rejected(self, e: Rejected) -> None:
        self.status = Status.REJECTED

    @property
    def contrary(self) -> Valence:
        """The valence that runs against the hypothesis."""
        return Valence.STRENGTH if self.expects == Valence.WEAKNESS else Valence.WEAKNESS

    @property
    def checked_since_change(self) -> bool:
        return self.checks > 0 and self.checked_version > self.changed_version


class Candidate(msgspec.Struct, frozen=True, kw_only=True):
    """A current coding the caller found for the search (the read side supplies these as plain data)."""

    coding: uuid.UUID
    code: str
    valence: Valence
    source: uuid.UUID
    coder: str
    case: str | None = None


# --- validation helpers ------------------------------------------------------------------------------


def _grade(value: str | None) -> str | None:
    if value in (None, ""):
        return None
    if value not in GRADES:
        raise BadInput(f"{value!r} is not a grade; use one of: {', '.join(GRADES)}.")
    return value


def direction(grade: str | None, expects: str | None) -> Valence:
    """What a hypothesis expects: given, or read from its provisional grade (good and better: strengths)."""
    if expects not in (None, ""):
        if expects not in (Valence.STRENGTH, Valence.WEAKNESS):
            raise BadInput(f"{expects!r} is not a direction; use --expects strength or --expects weakness.")
        chosen = Valence(expects)
        if grade is not None and chosen != (Valence.STRENGTH if grade in STRONG_GRADES else Valence.WEAKNESS):
            raise BadInput(f"A provisional grade of {grade} does not go with expecting a {chosen}; drop one of them.")
        return chosen
    if grade is None:
        raise BadInput("Say what the hypothesis expects with --expects strength|weakness, or give --provisional-grade.")
    return Valence.STRENGTH if grade in STRONG_GRADES else Valence.WEAKNESS


def _text(text: str) -> str:
    if not text.strip():
        raise BadInput("The hypothesis is empty; write its wording as the argument.")
    return text.strip()


def _reason(rationale: str) -> str:
    if not rationale.strip():
        raise BadInput("Say why with --because TEXT; the reason is kept in the ledger.")
    return rationale.strip()


def _live(hypothesis: Hypothesis) -> None:
    """Refuse changes to a rejected hypothesis (an accepted one still takes evidence, and may be revisited)."""
    if hypothesis.status == Status.REJECTED:
        assert hypothesis.id is not None
        raise BadInput(
            f"Hypothesis {hypothesis.id.hex[:8]} was rejected already; state a new hypothesis instead."
        )


def codes_under(codebook: CodebookState, codes: Iterable[str]) -> tuple[str, ...]:
    """The codes and all their children, plus every code merged into one of them (sorted)."""
    wanted: set[str] = set()
    for code in codes:
        current = codebook.current(code)
        wanted.update((code, current, *codebook.descendants(current)))
    merged = {c for c in codebook.codes if codebook.current(c) in wanted}
    return tuple(sorted(wanted | merged))


# --- commands --------------------------------------------------------------------------------------


def state(
    ledger: Ledger, actor: str, inspection: Inspection, codebook: CodebookState, text: str, *,
    area: str, codes: Collection[str], provisional_grade: str | None = None, expects: str | None = None,
    areas: Collection[str] | None = None,
) -> uuid.UUID:
    """State a hypothesis about ``area`` (one of ``areas`` when given) over ``codes``; returns its id."""
    role = inspection.require(actor, "hypothesis.change")
    wording = _text(text)
    if areas is not None and area not in areas:
        raise BadInput(
            f"{area!r} is not a judgment area of {inspection.framework}; use one of: {', '.join(areas)}."
        )
    if not codes:
        raise BadInput("Name the codes the hypothesis's evidence falls under with --codes X,Y.")
    resolved = tuple(dict.fromkeys(codebook.current(codebook.resolve(c)) for c in codes))
    grade = _grade(provisional_grade)
    expected = direction(grade, expects)
    new_id = uuid.uuid4()
    ledger.append(ledger.event(
        Stated, new_id, actor, role, inspection=inspection.id, text=wording, area=area.strip(), codes=resolved,
        expects=expected, provisional_grade=grade,
    ))
    return new_id


def load(ledger: Ledger, prefix: str, inspection: Inspection) -> Hypothesis:
    """The hypothesis of this inspection whose id starts with ``prefix``."""
    hid = ledger.resolve(prefix, [Stated.TOPIC], "hypothesis")
    hypothesis = ledger.get(Hypothesis, hid, what="hypothesis")
    if hypothesis.inspection != inspection.id:
        raise NotFound(f"Hypothesis {prefix} belongs to another inspection than {inspection.reference}.")
    return hypothesis


def link(
    ledger: Ledger, actor: str, inspection: Inspection, hypothesis: Hypothesis, coding: Coding, stance: str,
    case: str | None,
) -> None:
    """Link a current coding to the hypothesis as supporting, contradicting or neutral evidence.

    ``case`` is the case of the coding's source (the caller has the source at hand).
    """
    role = inspection.require(actor, "hypothesis.change")
    _live(hypothesis)
    assert coding.id is not None and coding.source is not None
    if coding.inspection != inspection.id:
        raise NotFound(f"Coding {coding.id.hex[:8]} belongs to another inspection than {inspection.reference}.")
    if coding.withdrawn:
        raise BadInput(f"Coding {coding.id.hex[:8]} was withdrawn; link a current coding instead.")
    if coding.unplaced:
        raise BadInput(
            f"Coding {coding.id.hex[:8]} could not be placed in its source's new version; code the new version."
        )
    try:
        chosen = Stance(stance)
    except ValueError:
        raise BadInput(f"{stance!r} is not a stance; use supports, contradicts or neutral.") from None
    before = hypothesis.links.get(coding.id)
    if before is not None and before.stance == chosen:
        raise AlreadyExists(f"Coding {coding.id.hex[:8]} is linked to this hypothesis as {chosen} already.")
    ledger.append(ledger.event(
        EvidenceLinked, hypothesis, actor, role, coding=coding.id, stance=chosen, code=coding.code,
        valence=coding.valence, source=coding.source, case=case,
    ))


def check(
    ledger: Ledger, actor: str, inspection: Inspection, hypothesis: Hypothesis, codebook: CodebookState,
    candidates: Iterable[Candidate], cases: Iterable[str], *, through: int,
) -> Checked:
    """Run and log the disconfirming-evidence search over ``candidates`` (current codings, from every coder).

    ``cases`` are the inspection's cases; ``through`` is the ledger position the candidates were read at.
    Returns the logged ``Checked`` event.
    """
    role = inspection.require(actor, "hypothesis.change")
    searched_codes = codes_under(codebook, hypothesis.codes)
    wanted = set(searched_codes)
    found = sorted((c for c in candidates if c.code in wanted), key=lambda c: c.coding.hex)
    against = hypothesis.contrary
    contrary = [c for c in found if c.valence == against]
    unlinked = [c for c in contrary if c.coding not in hypothesis.links]
    considered = {link.case for link in hypothesis.links.values() if link.case}
    found_cases = {c.case for c in found if c.case}
    not_considered = tuple(sorted({*cases, *found_cases} - considered))
    counts = CheckCounts(
        searched=len(found),
        consistent=sum(c.valence == hypothesis.expects for c in found),
        contrary=len(contrary),
        neutral=sum(c.valence == Valence.NEUTRAL for c in found),
        contrary_unlinked=len(unlinked),
        coders=len({c.coder for c in found}),
        sources=len({c.source for c in found}),
        cases=len(found_cases),
        cases_not_considered=len(not_considered),
    )
    event = ledger.event(
        Checked, hypothesis, actor, role,
        query=CheckQuery(codes=searched_codes, against=against, through=through),
        contrary=tuple(c.coding for c in contrary), contrary_unlinked=tuple(c.coding for c in unlinked),
        cases_not_considered=not_considered, counts=counts,
    )
    ledger.append(event)
    return event


def revise(
    ledger: Ledger, actor: str, inspection: Inspection, hypothesis: Hypothesis, text: str, rationale: str, *,
    provisional_grade: str | None = None, expects: str | None = None,
) -> None:
    """Reword the hypothesis; a new provisional grade or direction needs a new check before acceptance."""
    role = inspection.require(actor, "hypothesis.change")
    _live(hypothesis)
    wording = _text(text)
    reason = _reason(rationale)
    grade = _grade(provisional_grade) if provisional_grade else hypothesis.provisional_grade
    expected = direction(grade, expects) if (expects or provisional_grade) else hypothesis.expects
    if (wording, grade, expected) == (hypothesis.text, hypothesis.provisional_grade, hypothesis.expects):
        raise BadInput("The revision changes nothing; give new wording, --provisional-grade or --expects.")
    ledger.append(ledger.event(
        Revised, hypothesis, actor, role, text=wording, expects=expected, provisional_grade=grade, rationale=reason,
    ))


def accept(ledger: Ledger, actor: str, inspection: Inspection, hypothesis: Hypothesis, rationale: str) -> None:
    """Accept the hypothesis, or renew its acceptance; only after a check made since its last new link or change."""
    role = inspection.require(actor, "hypothesis.change")
    _live(hypothesis)
    reason = _reason(rationale)
    assert hypothesis.id is not None
    short = hypothesis.id.hex[:8]
    if hypothesis.status == Status.ACCEPTED and hypothesis.accepted_version > hypothesis.changed_version:
        raise AlreadyExists(f"Hypothesis {short} is accepted already, and nothing was linked or changed since.")
    if not hypothesis.checked_since_change:
        raise BadInput(
            f"Hypothesis {short} has no disconfirming-evidence check since its last new link or change; "
            f"run 'evidence hypothesis check {short}' first."
        )
    ledger.append(ledger.event(Accepted, hypothesis, actor, role, rationale=reason))


def reject(ledger: Ledger, actor: str, inspection: Inspection, hypothesis: Hypothesis, rationale: str) -> None:
    """Reject the hypothesis, saying why."""
    role = inspection.require(actor, "hypothesis.change")
    _live(hypothesis)
    ledger.append(ledger.event(Rejected, hypothesis, actor, role, rationale=_reason(rationale)))
