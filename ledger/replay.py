"""Replay how a grade was reached, step by step, from the judgment's own history and what it references.

The replay reads the judgment's events, the area's verbal feedback and the inspection's recorded bias reviews,
then every coding, source, hypothesis and panel those events name — each loaded by id, so its cost follows
the judgment's own history, never the size of the ledger. It returns plain data (msgspec Structs); the CLI
renders it. ``state`` is the judgment's record in the same shape as ``projections.judgments.judgments`` gives,
so a test can hold the two equal. The same ledger always gives the same replay.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec

from ledger import bias_review, hypothesis
from ledger.application import storage_errors
from ledger.coding import CodingRemapped, CodingWithdrawn, SegmentCoded, quote_hash
from ledger.errors import NotFound
from ledger.feedback import Given, feedback_id
from ledger.judgment import Finalised, Moderated, PanelRevised, Proposed, Published, Revised, judgment_id
from ledger.panel import Panel
from ledger.source import Source

if TYPE_CHECKING:
    from collections.abc import Callable
    from uuid import UUID

    from ledger.application import Ledger
    from ledger.contracts import Framework
    from ledger.events import Event
    from ledger.inspection import Inspection


class Quote(msgspec.Struct, frozen=True, kw_only=True):
    """A cited coding as it stood at the step: the exact passage of its source, and whether it still verifies."""

    coding: str
    code: str
    valence: str
    band: str | None
    coder: str
    source: str
    source_title: str
    kind: str
    case: str | None
    start: int
    end: int
    text: str
    verified: bool
    withdrawn_at: int | None = None


class HypothesisEntry(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    at: str
    actor: str
    what: str


class HypothesisView(msgspec.Struct, frozen=True, kw_only=True):
    """A cited hypothesis as it stood at the step, with its links and disconfirming-evidence checks."""

    hypothesis: str
    text: str
    expects: str
    provisional_grade: str | None
    status: str
    checks: int
    entries: tuple[HypothesisEntry, ...]


class BiasNote(msgspec.Struct, frozen=True, kw_only=True):
    check: str
    severity: str
    title: str
    explanation: str
    advice: str
    area: str | None
    positions: tuple[int, ...]


class PanelView(msgspec.Struct, frozen=True, kw_only=True):
    panel: str
    number: int
    members: tuple[str, ...]
    purpose: str


class Step(msgspec.Struct, frozen=True, kw_only=True):
    """One thing that happened to the grade (or bears on it), with who, when, why and on what evidence."""

    number: int
    position: int
    at: str
    actor: str
    actor_name: str
    role: str
    kind: str
    what: str
    grade: str | None
    from_grade: str | None = None
    rationale: str = ""
    dissent: str = ""
    nearest: str | None = None
    warnings: tuple[dict[str, str], ...] = ()
    evidence: tuple[Quote, ...] = ()
    hypotheses: tuple[HypothesisView, ...] = ()
    panel: PanelView | None = None
    feedback_grade: str | None = None
    differs: bool = False
    bias: tuple[BiasNote, ...] = ()
    bias_review_at: int | None = None
    withheld: int = 0


class Replay(msgspec.Struct, frozen=True, kw_only=True):
    """The whole replay of one judgment, up to ``through`` (a position) when a cut-off was asked for."""

    inspection: str
    authority: str
    framework: str
    area: str
    area_title: str
    judgment: str
    cutoff: str | None
    through: int
    grade: str | None
    status: str | None
    grade_meanings: dict[str, str]
    steps: tuple[Step, ...]
    summary: tuple[str, ...]
    state: dict[str, Any]


History = list[tuple[int, "Event"]]
_KINDS = {Proposed: "proposed", Revised: "revised", PanelRevised: "panel-revised", Moderated: "moderated",
          Finalised: "finalised", Published: "published"}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def say(grade: str | None) -> str:
    return (grade or "no grade").replace("-", " ")


def count(n: int, one: str, many: str = "") -> str:
    """``1 coding``, ``2 codings``."""
    return f"{n} {one if n == 1 else many or one + 's'}"


class _Reader:
    """Loads aggregates' histories by id (with their ledger positions), once each."""

    def __init__(self, ledger: Ledger, within: Callable[[int, Event], bool]) -> None:
        self.ledger, self.within = ledger, within
        self._histories: dict[UUID, History] = {}
        self._sources: dict[UUID, Source] = {}

    def history(self, aggregate_id: UUID) -> History:
        """(position, event) of one aggregate, in order, up to the cut-off."""
        if aggregate_id not in self._histories:
            positions = self.ledger.positions(aggregate_id)
            with storage_errors(self.ledger.database):
                found = list(self.ledger.events.get(aggregate_id)) if positions else []
            pairs = [(positions[e.originator_version], e) for e in found]
            self._histories[aggregate_id] = [(p, e) for p, e in pairs if self.within(p, e)]
        return self._histories[aggregate_id]

    def source(self, source_id: UUID) -> Source:
        if source_id not in self._sources:
            self._sources[source_id] = self.ledger.get(Source, source_id, what="source")
        return self._sources[source_id]

    def quote(self, coding_id: UUID, position: int) -> Quote:
        history = self.history(coding_id)
        if not history or not isinstance(history[0][1], SegmentCoded):
            raise NotFound(f"The cited coding {coding_id.hex[:8]} is not in this ledger.")
        coded: SegmentCoded = history[0][1]  # type: ignore[assignment]
        source_id, start, end, withdrawn_at = coded.source, coded.start, coded.end, None
        for at, event in history[1:]:
            if isinstance(event, CodingRemapped) and at <= position:
                source_id, start, end = event.source, event.start, event.end
            elif isinstance(event, CodingWithdrawn):
                withdrawn_at = at
        source = self.source(source_id)
        text = source.text[start:end]
        return Quote(
            coding=coding_id.hex, code=coded.code, valence=str(coded.valence), band=coded.band, coder=coded.actor,
            source=source_id.hex, source_title=source.title, kind=str(source.kind), case=source.case, start=start,
            end=end, text=text, verified=quote_hash(text) == coded.quote_hash, withdrawn_at=withdrawn_at,
        )

    def hypothesis(self, hypothesis_id: UUID, position: int) -> HypothesisView:
        history = [(p, e) for p, e in self.history(hypothesis_id) if p <= position]
        if not history:
            raise NotFound(f"The cited hypothesis {hypothesis_id.hex[:8]} is not in this ledger.")
        state = hypothesis.Hypothesis.project(None, [e for _, e in history])
        assert state is not None
        entries = tuple(
            HypothesisEntry(position=p, at=iso(e.timestamp), actor=e.actor, what=_hypothesis_entry(e))
            for p, e in history
        )
        return HypothesisView(
            hypothesis=hypothesis_id.hex, text=state.text, expects=str(state.expects),
            provisional_grade=state.provisional_grade, status=str(state.status), checks=state.checks, entries=entries,
        )

    def panel(self, panel_id: UUID) -> PanelView:
        state = Panel.project(None, [e for _, e in self.history(panel_id)])
        if state is None:
            raise NotFound(f"The panel {panel_id.hex[:8]} named by the judgment is not in this ledger.")
        return PanelView(panel=panel_id.hex, number=state.number, members=state.members, purpose=state.purpose)


def _hypothesis_entry(e: Event) -> str:
    """One line on what happened to a hypothesis."""
    if isinstance(e, hypothesis.Stated):
        grade = f"; provisional grade {say(e.provisional_grade)}" if e.provisional_grade else ""
        return f"stated: {e.text!r} (expects {e.expects}{grade}; codes {', '.join(e.codes)})"
    if isinstance(e, hypothesis.EvidenceLinked):
        case = f", case {e.case}" if e.case else ""
        return f"linked coding {e.coding.hex[:8]} ({e.code}, {e.valence}{case}) as {e.stance}"
    if isinstance(e, hypothesis.Checked):
        c = e.counts
        return (
            f"disconfirming-evidence search over {c.searched} codings from {c.coders} inspectors: {c.consistent} "
            f"consistent, {c.contrary} contrary ({c.contrary_unlinked} not yet linked), {c.neutral} neutral; "
            f"{c.cases_not_considered} cases not yet considered"
        )
    if isinstance(e, hypothesis.Revised):
        return f"reworded as {e.text!r} (expects {e.expects}) because {e.rationale}"
    if isinstance(e, hypothesis.Accepted):
        return f"accepted because {e.rationale}"
    if isinstance(e, hypothesis.Rejected):
        return f"rejected because {e.rationale}"
    return type(e).TOPIC


def _cutoff(at: int | datetime | None) -> Callable[[int, Event], bool]:
    if at is None:
        return lambda _p, _e: True
    if isinstance(at, datetime):
        moment = at if at.tzinfo else at.replace(tzinfo=UTC)
        return lambda _p, e: e.timestamp <= moment
    return lambda p, _e: p <= at


def _notes(review: bias_review.Recorded, area: str) -> tuple[BiasNote, ...]:
    """The recorded findings that bear on ``area`` (all of them for the overall judgment)."""
    return tuple(
        BiasNote(check=f.check, severity=str(f.severity), title=f.title, explanation=f.explanation, advice=f.advice,
                 area=f.area, positions=f.positions)
        for f in review.findings
        if area == "overall" or f.area in (None, area)
    )


def record_step(position: int, e: Event) -> dict[str, Any]:
    """A judgment event as the projection's step record (``projections.judgments.step_record``)."""
    return {
        "position": position, "at": iso(e.timestamp), "kind": _KINDS[type(e)], "actor": e.actor, "role": str(e.role),
        "from_grade": getattr(e, "from_grade", None),
        "grade": getattr(e, "to_grade", None) or e.grade,  # type: ignore[attr-defined]
        "rationale": getattr(e, "rationale", None) or getattr(e, "narrative", ""), "dissent": getattr(e, "dissent", ""),
        "panel": e.panel.hex if isinstance(e, PanelRevised) else None,
        "nearest": e.nearest if isinstance(e, Finalised) else None,
        "codings": [c.hex for c in e.codings] if isinstance(e, Proposed | Revised) else [],
        "hypotheses": [h.hex for h in e.hypotheses] if isinstance(e, Proposed | Revised) else [],
        "warnings": [{"rule": w.rule, "message": w.message} for w in e.warnings] if isinstance(e, Finalised) else [],
    }


def replay(
    ledger: Ledger, inspection: Inspection, area: str, *, at: int | datetime | None = None,
    framework: Framework | None = None, hidden: Callable[[dict[str, Any]], bool] | None = None,
) -> Replay:
    """Replay the judgment of ``area`` (as it stood at ``at``, a ledger position or a time, when given).

    ``hidden`` withholds cited codings the viewer may not see yet (another coder's, in an open blind round); it
    is called with the coding's ``source``, ``coder`` and ``position``, and each step counts what it withheld.
    """
    assert inspection.id is not None
    reader = _Reader(ledger, _cutoff(at))
    jid = judgment_id(inspection.id, area)
    own = reader.history(jid)
    if not own:
        when = f" at {at.isoformat() if isinstance(at, datetime) else f'position {at}'}" if at is not None else ""
        raise NotFound(f"No grade had been proposed for {area} in {inspection.reference}{when}; nothing to replay.")
    merged = sorted(
        own + reader.history(feedback_id(inspection.id, area)) + reader.history(bias_review.review_id(inspection.id)),
        key=lambda item: item[0],
    )
    steps: list[Step] = []
    grade: str | None = None
    status: str | None = None
    latest_review: tuple[int, tuple[BiasNote, ...]] | None = None
    for position, e in merged:
        base = {
            "number": len(steps) + 1, "position": position, "at": iso(e.timestamp), "actor": e.actor,
            "actor_name": inspection.names.get(e.actor, e.actor), "role": str(e.role),
        }
        if isinstance(e, bias_review.Recorded):
            latest_review = (position, _notes(e, area))
            steps.append(Step(**base, kind="bias-review", grade=grade, what=_bias_what(e, latest_review[1]),
                              bias=latest_review[1]))
            continue
        if isinstance(e, Given):
            differs = e.grade is not None and grade is not None and e.grade != grade
            steps.append(Step(**base, kind="feedback", grade=grade, what=_feedback_what(e, grade),
                              feedback_grade=e.grade, differs=differs, rationale=e.message))
            continue
        if not isinstance(e, tuple(_KINDS)):
            continue
        record = record_step(position, e)
        before, grade = grade, record["grade"]
        status = {"revised": "proposed"}.get(record["kind"], record["kind"])
        quotes = [(reader.quote(c, position), reader.history(c)[0][0]) for c in getattr(e, "codings", ())]
        evidence = tuple(
            q for q, coded_at in quotes
            if hidden is None or not hidden({"source": q.source, "coder": q.coder, "position": coded_at})
        )
        linked = tuple(reader.hypothesis(h, position) for h in getattr(e, "hypotheses", ()))
        steps.append(Step(
            **base, kind=record["kind"], grade=grade, what=_judgment_what(e, area, before, grade),
            from_grade=record["from_grade"], rationale=record["rationale"], dissent=record["dissent"],
            nearest=record["nearest"], warnings=tuple(record["warnings"]), evidence=evidence, hypotheses=linked,
            panel=reader.panel(e.panel) if isinstance(e, PanelRevised) else None,
            bias=latest_review[1] if latest_review else (), bias_review_at=latest_review[0] if latest_review else None,
            withheld=len(quotes) - len(evidence),
        ))
    state = _state(jid, area, own)
    title = next((a.title for a in framework.areas if a.id == area), area) if framework else area
    meanings = dict(framework.grade_meanings) if framework else {}
    if at is None:
        cutoff = None
    else:
        cutoff = iso(at if at.tzinfo else at.replace(tzinfo=UTC)) if isinstance(at, datetime) else f"position {at}"
    return Replay(
        inspection=inspection.reference, authority=inspection.authority, framework=inspection.framework, area=area,
        area_title=title, judgment=jid.hex, cutoff=cutoff, through=merged[-1][0], grade=grade, status=status,
        grade_meanings=meanings, steps=tuple(steps), summary=tuple(_summary(steps, title, grade, status)), state=state,
    )


def _state(jid: UUID, area: str, own: History) -> dict[str, Any]:
    """The judgment's record, shaped as the projection gives it."""
    steps = [record_step(p, e) for p, e in own]
    last = steps[-1]
    finalised = [s for s in steps if s["kind"] == "finalised"]
    return {
        "area": area, "judgment": jid.hex, "grade": last["grade"],
        "status": {"revised": "proposed"}.get(last["kind"], last["kind"]),
        "nearest": finalised[-1]["nearest"] if finalised else None,
        "narrative": finalised[-1]["rationale"] if finalised else "", "position": last["position"],
        "proposals": [s for s in steps if s["kind"] in ("proposed", "revised")], "steps": steps,
    }


def _judgment_what(e: Event, area: str, before: str | None, grade: str | None) -> str:
    if isinstance(e, Proposed):
        return f"proposed {area} as {say(grade)}, citing {_cited(e.codings, e.hypotheses)}"
    if isinstance(e, Revised):
        change = f"from {say(before)} to {say(grade)}" if before != grade else f"keeping {say(grade)}"
        return f"revised the proposal {change}, citing {_cited(e.codings, e.hypotheses)}"
    if isinstance(e, PanelRevised):
        return f"the consistency panel changed the grade from {say(e.from_grade)} to {say(e.to_grade)}"
    if isinstance(e, Moderated):
        return f"moderation changed the grade from {say(e.from_grade)} to {say(e.to_grade)}"
    if isinstance(e, Finalised):
        near = f", nearest to {say(e.nearest)}" if e.nearest else ""
        warned = f", with {count(len(e.warnings), 'norm warning')}" if e.warnings else ""
        return f"finalised as {say(e.grade)}{near}{warned}"
    return f"published as {say(grade)}"


def _cited(codings: tuple[UUID, ...], hypotheses: tuple[UUID, ...]) -> str:
    linked = f" and {count(len(hypotheses), 'hypothesis', 'hypotheses')}" if hypotheses else ""
    return count(len(codings), "coding") + linked


def _feedback_what(e: Given, grade: str | None) -> str:
    said = f"indicating {say(e.grade)}" if e.grade else "indicating no grade"
    if e.grade and grade and e.grade != grade:
        against = f"; this differs from the recorded grade then, {say(grade)}"
    elif e.grade and grade is None:
        against = "; no grade was recorded then"
    else:
        against = ""
    return f"verbal feedback to {e.audience} at the {e.stage} stage, {said}{against}"


def _bias_what(e: bias_review.Recorded, notes: tuple[BiasNote, ...]) -> str:
    scope = f"for {e.area}" if e.area else "for the whole inspection"
    found = count(len(notes), "finding")
    return f"a bias review {scope} (as at position {e.through}) recorded {found} bearing on this judgment"


def _summary(steps: list[Step], title: str, grade: str | None, status: str | None) -> list[str]:
    """Sentences on how the grade was reached."""
    out: list[str] = []
    for step in steps:
        if step.kind == "proposed":
            sources = {q.source for q in step.evidence}
            cases = {q.case for q in step.evidence if q.case}
            kinds = sorted({q.kind for q in step.evidence})
            out.append(
                f"{title} was first proposed as {say(step.grade)} by {step.actor_name} ({step.role}) on "
                f"{step.at[:10]} (position {step.position}), citing {count(len(step.evidence), 'coding')} from "
                f"{count(len(sources), 'source')} across {count(len(cases), 'case')} ({', '.join(kinds)})."
            )
        elif step.kind == "revised":
            out.append(
                f"{step.actor_name} revised it to {say(step.grade)} at position {step.position}: {step.rationale}"
            )
        elif step.kind == "panel-revised":
            dissent = f" Dissent: {step.dissent}" if step.dissent else ""
            number = step.panel.number if step.panel else "?"
            out.append(
                f"Panel {number} changed it from {say(step.from_grade)} to {say(step.grade)} at position "
                f"{step.position}: {step.rationale}{dissent}"
            )
        elif step.kind == "moderated":
            out.append(
                f"Moderator {step.actor_name} changed it from {say(step.from_grade)} to {say(step.grade)} at "
                f"position {step.position}: {step.rationale}"
            )
        elif step.kind == "finalised":
            near = f"; nearest grade {say(step.nearest)}" if step.nearest else ""
            out.append(f"{step.actor_name} finalised it as {say(step.grade)}{near}: {step.rationale}")
            out.extend(f"Norm warning recorded: {w['message']}" for w in step.warnings)
        elif step.kind == "published":
            out.append(f"It was published as {say(step.grade)} on {step.at[:10]} (position {step.position}).")
    differing = [s for s in steps if s.kind == "feedback" and s.differs]
    given = [s for s in steps if s.kind == "feedback"]
    if given:
        if differing:
            where = ", ".join(str(s.position) for s in differing)
            out.append(f"Verbal feedback differed from the recorded grade {count(len(differing), 'time')} "
                       f"({'position' if len(differing) == 1 else 'positions'} {where}).")
        else:
            out.append(
                f"Verbal feedback was given {count(len(given), 'time')} and never differed from the recorded grade."
            )
    hypotheses: dict[str, HypothesisView] = {}
    for step in steps:
        hypotheses.update({h.hypothesis: h for h in step.hypotheses})
    if hypotheses:
        by_status = {s: sum(h.status == s for h in hypotheses.values()) for s in ("accepted", "rejected", "open")}
        checks = sum(h.checks for h in hypotheses.values())
        out.append(
            f"{count(len(hypotheses), 'hypothesis', 'hypotheses')} cited ({by_status['accepted']} accepted, "
            f"{by_status['rejected']} rejected, {by_status['open']} open when last cited), with "
            f"{count(checks, 'disconfirming-evidence check')}."
        )
    reviews = [s for s in steps if s.kind == "bias-review"]
    if reviews:
        last = reviews[-1]
        titles = "; ".join(sorted({n.title for n in last.bias})) or "none"
        raised = count(len(last.bias), "finding")
        out.append(f"The latest bias review (position {last.position}) raised {raised}: {titles}.")
    out.append(f"Result: {say(grade)} ({status}).")
    return out
