"""The Judgment aggregate: one per inspection and judgment area, from the first proposal to publication.

A proposal must cite the evidence it rests on (codings, optionally hypotheses). A consistency panel or a
moderator may change the grade, saying why. Finalising records how near the grade came to the adjacent one and
is refused when a framework's hard rule would be broken; observed norms are warnings kept in the event. The
software records, checks and explains the grade; people make it. The framework comes from the caller (the CLI
gets it from the plugins), so this module never imports ``plugins``.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

import msgspec

from ledger import panel as panels
from ledger.aggregate import Aggregate, applies
from ledger.application import natural_id, storage_errors
from ledger.coding import Coding
from ledger.contracts import NOT_JUDGED
from ledger.errors import AlreadyExists, BadInput, NotFound, RuleViolation
from ledger.events import Event

from uuid import UUID  # noqa: TC003 - msgspec reads event annotations at run time

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from ledger.application import Ledger
    from ledger.contracts import Framework, JudgmentArea, RuleFinding
    from ledger.inspection import Inspection


class Status(enum.StrEnum):
    PROPOSED = "proposed"
    PANEL_REVISED = "panel-revised"
    MODERATED = "moderated"
    FINALISED = "finalised"
    PUBLISHED = "published"


class NormWarning(msgspec.Struct, frozen=True, kw_only=True):
    """An observed norm the grades did not follow when the judgment was finalised (kept, not blocking)."""

    rule: str
    message: str
    areas: tuple[str, ...] = ()


class Proposed(Event, frozen=True, kw_only=True):
    """An inspector proposed the area's grade, citing the codings (and hypotheses) it rests on."""

    TOPIC = "Judgment.Proposed"
    inspection: UUID
    area: str
    grade: str
    rationale: str
    codings: tuple[UUID, ...]
    hypotheses: tuple[UUID, ...] = ()


class Revised(Event, frozen=True, kw_only=True):
    """An inspector revised the proposal (the grade may stay), citing the evidence for the revision."""

    TOPIC = "Judgment.Revised"
    from_grade: str
    grade: str
    rationale: str
    codings: tuple[UUID, ...]
    hypotheses: tuple[UUID, ...] = ()


class PanelRevised(Event, frozen=True, kw_only=True):
    """A consistency panel changed the grade; ``dissent`` records any member's disagreement."""

    TOPIC = "Judgment.PanelRevised"
    panel: UUID
    from_grade: str
    to_grade: str
    rationale: str
    dissent: str = ""


class Moderated(Event, frozen=True, kw_only=True):
    """A moderator (the event's actor) changed the grade in quality assurance."""

    TOPIC = "Judgment.Moderated"
    from_grade: str
    to_grade: str
    rationale: str


class Finalised(Event, frozen=True, kw_only=True):
    """The lead inspector finalised the grade: how near it came to ``nearest``, and the norms it departs from."""

    TOPIC = "Judgment.Finalised"
    grade: str
    nearest: str | None
    narrative: str
    warnings: tuple[NormWarning, ...] = ()


class Published(Event, frozen=True, kw_only=True):
    """The finalised grade was published."""

    TOPIC = "Judgment.Published"
    grade: str


class Judgment(Aggregate):
    """The current grade of one area, its status and what it last rested on."""

    def __init__(self) -> None:
        super().__init__()
        self.inspection: UUID | None = None
        self.area = ""
        self.grade = ""
        self.status = Status.PROPOSED
        self.codings: tuple[UUID, ...] = ()
        self.hypotheses: tuple[UUID, ...] = ()
        self.nearest: str | None = None
        self.narrative = ""
        self.warnings: tuple[NormWarning, ...] = ()

    @applies(Proposed)
    def _proposed(self, e: Proposed) -> None:
        self.inspection, self.area, self.grade = e.inspection, e.area, e.grade
        self.codings, self.hypotheses = e.codings, e.hypotheses

    @applies(Revised)
    def _revised(self, e: Revised) -> None:
        self.grade, self.codings, self.hypotheses = e.grade, e.codings, e.hypotheses
        self.status = Status.PROPOSED

    @applies(PanelRevised)
    def _panel(self, e: PanelRevised) -> None:
        self.grade, self.status = e.to_grade, Status.PANEL_REVISED

    @applies(Moderated)
    def _moderated(self, e: Moderated) -> None:
        self.grade, self.status = e.to_grade, Status.MODERATED

    @applies(Finalised)
    def _finalised(self, e: Finalised) -> None:
        self.status, self.nearest, self.narrative, self.warnings = Status.FINALISED, e.nearest, e.narrative, e.warnings

    @applies(Published)
    def _published(self, e: Published) -> None:
        self.status = Status.PUBLISHED


# --- identity, loading and validation ----------------------------------------------------------


def judgment_id(inspection_id: UUID, area: str) -> UUID:
    return natural_id("judgment", inspection_id.hex, area)


def normalise_grade(value: str) -> str:
    """A grade as typed ("Requires improvement", "requires_improvement") in its id form."""
    key = "-".join(value.strip().lower().replace("_", " ").replace("-", " ").split())
    return "requires-improvement" if key == "requires-improvement-to-be-good" else key


def area_of(framework: Framework, area: str) -> JudgmentArea:
    """The framework's judgment area ``area``, or NotFound naming the areas there are."""
    for candidate in framework.areas:
        if candidate.id == area:
            return candidate
    known = ", ".join(a.id for a in framework.areas)
    raise NotFound(f"{area!r} is not a judgment area of {framework.name}; use one of {known}.")


def check_grade(framework: Framework, area: str, grade: str) -> str:
    """The grade in id form if ``area`` can take it in ``framework`` (not-judged only where allowed)."""
    found = area_of(framework, area)
    clean = normalise_grade(grade)
    allowed = [*framework.grades, *([NOT_JUDGED] if found.allows_not_judged else [])]
    if clean not in allowed:
        raise BadInput(
            f"{grade!r} is not a grade {area} can take in {framework.name}; use one of {', '.join(allowed)}."
        )
    return clean


def _same_framework(inspection: Inspection, framework: Framework) -> None:
    if framework.name != inspection.framework:
        raise BadInput(
            f"Inspection {inspection.reference} uses framework {inspection.framework}, not {framework.name}; "
            "judge it under its own framework."
        )


def find(ledger: Ledger, inspection: Inspection, area: str) -> Judgment | None:
    """The judgment of ``area`` in this inspection, or None if nobody has proposed one."""
    assert inspection.id is not None
    try:
        return ledger.get(Judgment, judgment_id(inspection.id, area), what="judgment")
    except NotFound:
        return None


def load(ledger: Ledger, inspection: Inspection, area: str) -> Judgment:
    judgment = find(ledger, inspection, area)
    if judgment is None:
        raise NotFound(
            f"No grade has been proposed for {area} in {inspection.reference}; propose one with "
            f"'evidence judge propose {area} GRADE --because TEXT --cite CODING'."
        )
    return judgment


def load_all(ledger: Ledger, inspection: Inspection, framework: Framework) -> dict[str, Judgment]:
    """Every area of the framework that has a judgment, in the framework's order (loaded by id, never scanned)."""
    found = {area.id: find(ledger, inspection, area.id) for area in framework.areas}
    return {area: judgment for area, judgment in found.items() if judgment is not None}


def grades(judgments: Mapping[str, Judgment]) -> dict[str, str]:
    return {area: judgment.grade for area, judgment in judgments.items()}


def _reason(text: str, option: str = "--because TEXT") -> str:
    if not text.strip():
        raise BadInput(f"Say why with {option}; the reason is kept in the ledger for anyone replaying the grade.")
    return text.strip()


def _first_event(ledger: Ledger, aggregate_id: UUID) -> Event | None:
    with storage_errors(ledger.database):
        found = list(ledger.events.get(aggregate_id, limit=1))
    return found[0] if found else None  # type: ignore[return-value]


def check_citations(
    ledger: Ledger, inspection: Inspection, codings: Sequence[UUID], hypotheses: Sequence[UUID] = ()
) -> tuple[tuple[UUID, ...], tuple[UUID, ...]]:
    """The cited ids, de-duplicated: every coding must exist, be this inspection's and not be withdrawn."""
    if not codings:
        raise BadInput(
            "A proposal must cite the evidence it rests on; add --cite CODING for each coding (ids as "
            "'evidence codings' prints them)."
        )
    for cid in dict.fromkeys(codings):
        coding = ledger.get(Coding, cid, what="coding")
        if coding.inspection != inspection.id:
            raise BadInput(
                f"Coding {cid.hex[:8]} belongs to another inspection than {inspection.reference}; "
                "cite this inspection's codings."
            )
        if coding.withdrawn:
            raise BadInput(f"Coding {cid.hex[:8]} was withdrawn; cite evidence that still stands.")
    for hid in dict.fromkeys(hypotheses):
        first = _first_event(ledger, hid)
        if first is None or not type(first).TOPIC.startswith("Hypothesis."):
            raise NotFound(f"No hypothesis with id {hid.hex[:8]} exists in this ledger.")
        if getattr(first, "inspection", None) != inspection.id:
            raise BadInput(f"Hypothesis {hid.hex[:8]} belongs to another inspection than {inspection.reference}.")
    return tuple(dict.fromkeys(codings)), tuple(dict.fromkeys(hypotheses))


def _open(judgment: Judgment, area: str, doing: str) -> None:
    if judgment.status == Status.PUBLISHED:
        raise BadInput(f"The {area} judgment was published already; it cannot be {doing}.")


# --- commands --------------------------------------------------------------------------------


def propose(
    ledger: Ledger, actor: str, inspection: Inspection, framework: Framework, area: str, grade: str,
    rationale: str, codings: Sequence[UUID], hypotheses: Sequence[UUID] = (),
) -> Judgment:
    """Propose the first grade of ``area``, citing the evidence (inspectors only)."""
    role = inspection.require(actor, "judgment.propose")
    _same_framework(inspection, framework)
    clean = check_grade(framework, area, grade)
    reason = _reason(rationale)
    if find(ledger, inspection, area) is not None:
        raise AlreadyExists(
            f"A grade for {area} was proposed already; change it with 'evidence judge revise {area} GRADE "
            "--because TEXT --cite CODING'."
        )
    cited, linked = check_citations(ledger, inspection, codings, hypotheses)
    assert inspection.id is not None
    event = ledger.event(
        Proposed, judgment_id(inspection.id, area), actor, role,
        inspection=inspection.id, area=area, grade=clean, rationale=reason, codings=cited, hypotheses=linked,
    )
    ledger.append(event)
    return Judgment.project(None, [event])  # type: ignore[return-value]


def revise(
    ledger: Ledger, actor: str, inspection: Inspection, framework: Framework, area: str, grade: str,
    rationale: str, codings: Sequence[UUID], hypotheses: Sequence[UUID] = (),
) -> Judgment:
    """Revise the proposed grade of ``area`` before it is finalised, citing the evidence for the change."""
    role = inspection.require(actor, "judgment.propose")
    _same_framework(inspection, framework)
    clean = check_grade(framework, area, grade)
    reason = _reason(rationale)
    judgment = load(ledger, inspection, area)
    _open(judgment, area, "revised")
    if judgment.status == Status.FINALISED:
        raise BadInput(f"The {area} judgment was finalised; only the panel or a moderator can change it now.")
    cited, linked = check_citations(ledger, inspection, codings, hypotheses)
    event = ledger.event(
        Revised, judgment, actor, role,
        from_grade=judgment.grade, grade=clean, rationale=reason, codings=cited, hypotheses=linked,
    )
    ledger.append(event)
    judgment.apply(event)
    return judgment


def _change(judgment: Judgment, framework: Framework, area: str, to: str, doing: str) -> str:
    clean = check_grade(framework, area, to)
    _open(judgment, area, doing)
    if clean == judgment.grade:
        raise BadInput(f"The {area} grade is {clean} already; give the grade it should become with --to.")
    return clean


def panel_revise(
    ledger: Ledger, actor: str, inspection: Inspection, framework: Framework, area: str, to: str,
    rationale: str, dissent: str = "",
) -> tuple[Judgment, list[RuleFinding]]:
    """Record the sitting panel's change of grade; returns the judgment and the rule findings it now meets."""
    role = inspection.require(actor, "panel.revise")
    _same_framework(inspection, framework)
    sitting = panels.sitting(ledger, inspection)
    if actor not in sitting.members:
        raise BadInput(
            f"{actor} does not sit on panel {sitting.number} ({', '.join(sitting.members)}); a member must revise."
        )
    judgment = load(ledger, inspection, area)
    clean = _change(judgment, framework, area, to, "revised by the panel")
    event = ledger.event(
        PanelRevised, judgment, actor, role,
        panel=sitting.id, from_grade=judgment.grade, to_grade=clean, rationale=_reason(rationale),
        dissent=dissent.strip(),
    )
    ledger.append(event)
    judgment.apply(event)
    return judgment, findings(ledger, inspection, framework, area)


def moderate(
    ledger: Ledger, actor: str, inspection: Inspection, framework: Framework, area: str, to: str, rationale: str,
) -> tuple[Judgment, list[RuleFinding]]:
    """Record a moderator's change of grade; returns the judgment and the rule findings it now meets."""
    role = inspection.require(actor, "moderate")
    _same_framework(inspection, framework)
    judgment = load(ledger, inspection, area)
    clean = _change(judgment, framework, area, to, "moderated")
    event = ledger.event(
        Moderated, judgment, actor, role, from_grade=judgment.grade, to_grade=clean, rationale=_reason(rationale)
    )
    ledger.append(event)
    judgment.apply(event)
    return judgment, findings(ledger, inspection, framework, area)


def findings(
    ledger: Ledger, inspection: Inspection, framework: Framework, area: str, *, changed: Mapping[str, str] | None = None
) -> list[RuleFinding]:
    """The framework's findings over every area's current grade (with ``changed`` applied) that concern ``area``."""
    current = grades(load_all(ledger, inspection, framework)) | dict(changed or {})
    return [f for f in framework.check(current) if area in f.areas]


def _blocking(area: str, grade: str, found: Iterable[RuleFinding], doing: str) -> None:
    errors = [f for f in found if f.severity == "error"]
    if errors:
        reason = errors[0].message.rstrip(".")
        raise RuleViolation(
            f"{area} cannot be {doing} as {grade}: {reason}; change the grades so the rule holds, then try again."
        )


def finalise(
    ledger: Ledger, actor: str, inspection: Inspection, framework: Framework, area: str, nearest: str | None,
    narrative: str,
) -> tuple[Judgment, list[RuleFinding]]:
    """Finalise the current grade of ``area`` (lead inspector). A hard rule blocks it; norms become warnings."""
    role = inspection.require(actor, "judgment.finalise")
    _same_framework(inspection, framework)
    judgment = load(ledger, inspection, area)
    _open(judgment, area, "finalised again")
    if judgment.status == Status.FINALISED:
        raise AlreadyExists(f"The {area} judgment is finalised already as {judgment.grade}.")
    if not narrative.strip():
        raise BadInput(
            f"Finalising needs a narrative of how near {area} came to the adjacent grade; "
            "give it with --narrative TEXT."
        )
    near = _nearest(framework, judgment.grade, nearest)
    found = findings(ledger, inspection, framework, area, changed={area: judgment.grade})
    _blocking(area, judgment.grade, found, "finalised")
    warned = tuple(NormWarning(rule=f.rule, message=f.message, areas=f.areas) for f in found if f.severity != "error")
    event = ledger.event(
        Finalised, judgment, actor, role, grade=judgment.grade, nearest=near, narrative=narrative.strip(),
        warnings=warned,
    )
    ledger.append(event)
    judgment.apply(event)
    return judgment, [f for f in found if f.severity != "error"]


def _nearest(framework: Framework, grade: str, nearest: str | None) -> str | None:
    """``nearest`` in id form, checked to be next to ``grade`` on the scale (none for not-judged)."""
    if grade == NOT_JUDGED:
        if nearest:
            raise BadInput("A not-judged area has no adjacent grade; leave out --nearest.")
        return None
    index = framework.grades.index(grade)
    adjacent = [framework.grades[i] for i in (index - 1, index + 1) if 0 <= i < len(framework.grades)]
    if not nearest:
        raise BadInput(f"Say which adjacent grade {grade} came nearest to with --nearest ({' or '.join(adjacent)}).")
    clean = normalise_grade(nearest)
    if clean not in adjacent:
        raise BadInput(f"--nearest {nearest} is not next to {grade} on the scale; use {' or '.join(adjacent)}.")
    return clean


def publish(
    ledger: Ledger, actor: str, inspection: Inspection, framework: Framework, areas: Sequence[str] | None,
) -> list[str]:
    """Publish finalised judgments (``areas``, or every judged area when None) in one append; returns the areas."""
    role = inspection.require(actor, "judgment.publish")
    _same_framework(inspection, framework)
    judged = load_all(ledger, inspection, framework)
    if areas is None:
        wanted = [area for area, j in judged.items() if j.status != Status.PUBLISHED]
        waiting = [area for area in wanted if judged[area].status != Status.FINALISED]
        if waiting:
            raise BadInput(f"Finalise {', '.join(waiting)} before publishing every judgment; nothing was published.")
        if not wanted:
            raise AlreadyExists("Every judgment of this inspection is published already (or none was proposed).")
    else:
        wanted = list(dict.fromkeys(areas))
        for area in wanted:
            area_of(framework, area)
            judgment = judged.get(area) or load(ledger, inspection, area)
            if judgment.status == Status.PUBLISHED:
                raise AlreadyExists(f"The {area} judgment is published already.")
            if judgment.status != Status.FINALISED:
                raise BadInput(
                    f"The {area} judgment is not finalised; finalise it with 'evidence judge finalise {area}'."
                )
    current = grades(judged)
    for area in wanted:
        errors = [f for f in framework.check(current) if area in f.areas]
        _blocking(area, current[area], errors, "published")
    ledger.append(*(ledger.event(Published, judged[area], actor, role, grade=judged[area].grade) for area in wanted))
    return wanted
