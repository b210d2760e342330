"""The plain-data view of an inspection that bias checks read (``BiasView``), built from the projections.

A bias check (``ledger.contracts.BiasCheck``) receives one ``BiasView`` and nothing else: every source, coding,
hypothesis and judgment it may need, each with the ledger positions of the events behind it, so that a finding
can cite them. "Current" evidence only: withdrawn codings, codings on withdrawn sources and codings that could not
be placed in a superseded source's new version are left out. Days are UTC calendar days (YYYY-MM-DD); times are
ISO 8601 in UTC. Lists are in ledger order, so the same ledger always gives the same view. docs/bias.md describes
every field for plugin authors.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import msgspec

from ledger.bias_review import effective_tiers
from ledger.source import TIERS

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from projections.codings import CodeTree

STRONG_GRADES = ("outstanding", "good")
WEAK_GRADES = ("requires-improvement", "inadequate")


class SourceItem(msgspec.Struct, frozen=True, kw_only=True):
    """A current source (not superseded, not withdrawn)."""

    id: str  #: 32-hex source id
    position: int  #: ledger position of its ``Source.Registered`` event
    kind: str  #: ``ledger.source.Kind`` value (interview, case-record, child-feedback...)
    tier: str  #: reliability tier: the one given on the source, else the inspection's tier for its kind
    case: str | None  #: the child's case it is about, if any
    collector: str  #: who registered it
    registered_at: str  #: when it entered the ledger
    registered_day: str  #: the UTC day of ``registered_at``
    gathered_day: str  #: the UTC day the evidence was gathered (``collected_at`` if given, else registered)
    coded: bool  #: whether at least one current coding rests on it


class CodingItem(msgspec.Struct, frozen=True, kw_only=True):
    """A current coding, with what the bias checks need of its source and code."""

    id: str  #: 32-hex coding id
    position: int  #: ledger position of its ``Coding.SegmentCoded`` event
    source: str  #: the source it rests on now (after remapping)
    code: str  #: the code it counts under now (merges followed)
    area: str  #: the judgment area: the top of the code's branch of the tree
    facet: str | None  #: process, practice or impact: the code's own facet, else its nearest ancestor's
    valence: str  #: strength, weakness or neutral
    band: str | None  #: the grade band the passage illustrates, if given
    coder: str  #: who coded it
    coded_at: str
    coded_day: str
    case: str | None  #: its source's case
    kind: str  #: its source's kind
    tier: str  #: its source's reliability tier
    gathered_day: str  #: its source's gathered day


class Step(msgspec.Struct, frozen=True, kw_only=True):
    """One event that set or reconsidered a grade or a hypothesis."""

    position: int
    at: str
    actor: str
    kind: str  #: stated, revised, accepted, rejected (hypotheses); proposed, revised, panel-revised, ... (judgments)
    grade: str | None  #: the (provisional) grade after the step
    direction: str | None  #: strength or weakness: what the grade or hypothesis expects after the step


class LinkItem(msgspec.Struct, frozen=True, kw_only=True):
    """A current coding linked to a hypothesis."""

    coding: str
    stance: str  #: supports, contradicts or neutral
    position: int  #: ledger position of the (latest) ``Hypothesis.EvidenceLinked`` event


class CheckItem(msgspec.Struct, frozen=True, kw_only=True):
    """A logged disconfirming-evidence search (``Hypothesis.Checked``)."""

    position: int
    at: str
    contrary: list[str]  #: the contrary codings it found
    contrary_unlinked: list[str]  #: those of them not linked at the time


class HypothesisItem(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    position: int  #: ledger position of ``Hypothesis.Stated``
    area: str
    text: str
    codes: list[str]  #: the codes it was stated over
    expects: str  #: strength or weakness
    provisional_grade: str | None
    status: str  #: open, accepted or rejected
    steps: list[Step]
    links: list[LinkItem]  #: current linked codings, in ledger order
    checks: list[CheckItem]
    checked_since_change: bool  #: a check was made after its last new link or change of direction
    under: list[str]  #: current codings under its codes (with children and merged codes), in ledger order


class JudgmentItem(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    area: str
    grade: str
    status: str
    position: int  #: ledger position of the latest step
    steps: list[Step]
    codings: list[str]  #: current codings cited by the latest proposal or revision
    hypotheses: list[str]  #: hypotheses cited by the latest proposal or revision


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    """A finding the checks weigh: a judgment's current grade, or a hypothesis that was not rejected.

    Its evidence is split by how it bears on the finding's direction. For a hypothesis: the stance each coding
    was linked with. For a judgment: the valence of each cited coding and of each current coding linked to a
    cited hypothesis, against the grade's direction (outstanding/good expect strengths).
    """

    kind: str  #: judgment or hypothesis
    id: str
    area: str
    label: str  #: a short human label ("help-protection judgment (good)", "hypothesis 1a2b3c4d")
    direction: str | None  #: strength or weakness (None for not-judged)
    positions: list[int]  #: the events that made the finding (its steps)
    support: list[str]  #: coding ids for it
    contrary: list[str]  #: coding ids against it
    neutral: list[str]


class BiasView(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a bias check may read about one inspection (optionally narrowed to one judgment area)."""

    inspection: str  #: reference, e.g. barnet-2017
    inspection_id: str
    framework: str
    fieldwork_start: str | None  #: the inspection's first fieldwork day, if recorded
    fieldwork_end: str | None  #: its last fieldwork day, if recorded
    area: str | None  #: the judgment area asked for, or None for the whole inspection
    areas: list[str]  #: the areas to review: ``[area]``, or every area with codings, hypotheses or judgments
    through: int  #: the latest ledger position of this inspection the view reflects
    as_of: str | None  #: the time of the latest source, coding or step in the view (the checks' "now", never the clock)
    tier_order: list[str]  #: reliability tiers, most reliable first (the last is the weakest)
    tiers: dict[str, str]  #: source kind -> tier, defaults overridden by the inspection's configuration
    tier_positions: list[int]  #: the ``BiasReview.TiersConfigured`` events behind ``tiers``
    members: list[str]  #: the inspection's inspectors (lead and inspectors)
    sources: list[SourceItem]  #: current sources (every area)
    codings: list[CodingItem]  #: current codings (every area)
    hypotheses: list[HypothesisItem]  #: in the areas reviewed
    judgments: list[JudgmentItem]  #: in the areas reviewed
    findings: list[Finding]  #: judgments first, then hypotheses, each in ledger order

    def coding_index(self) -> dict[str, CodingItem]:
        """Coding id -> coding."""
        return {c.id: c for c in self.codings}

    def source_index(self) -> dict[str, SourceItem]:
        """Source id -> source."""
        return {s.id: s for s in self.sources}


def direction_of(grade: str | None) -> str | None:
    """What a grade expects the evidence to show: strengths for outstanding/good, weaknesses below."""
    if grade in STRONG_GRADES:
        return "strength"
    if grade in WEAK_GRADES:
        return "weakness"
    return None


def _hex(value: uuid.UUID | str) -> str:
    return value.hex if isinstance(value, uuid.UUID) else value.replace("-", "").lower()


def _day(iso_time: str) -> str:
    return iso_time[:10]


def _tree(rows: list[dict[str, Any]]) -> tuple[dict[str, str], dict[str, str | None]]:
    """code -> area (the top of its branch) and code -> effective facet (its own, else its nearest ancestor's)."""
    parents = {r["id"]: r["parent"] for r in rows}
    facets = {r["id"]: r["facet"] for r in rows}
    area: dict[str, str] = {}
    facet: dict[str, str | None] = {}
    for code in parents:
        node, seen, found = code, {code}, facets.get(code)
        while parents.get(node) in parents and parents[node] not in seen:
            node = parents[node]  # type: ignore[assignment]
            seen.add(node)
            found = found or facets.get(node)
        area[code], facet[code] = node, found
    return area, facet


def build(conn: Connection, inspection_id: uuid.UUID | str, area: str | None = None) -> BiasView:
    """The bias view of an inspection from the caught-up projections (``projections.ready(ledger)``)."""
    import importlib.util

    from sqlalchemy import select

    from projections import evidence
    from projections import hypotheses as hyp
    from projections.codings import CodeTree
    from projections.inspections import inspections, members

    iid = _hex(inspection_id)
    head = conn.execute(select(inspections).where(inspections.c.id == iid)).one()
    team = sorted(r.person for r in conn.execute(select(members.c.person, members.c.role).where(
        members.c.inspection_id == iid)) if r.role in ("lead-inspector", "inspector"))
    configured = hyp.tiers(conn, iid)
    tiers = effective_tiers({k: v["tier"] for k, v in configured.items()})

    tree = CodeTree.load(conn, iid)
    code_area, code_facet = _tree(list(tree.rows.values()))
    all_sources = evidence.sources(conn, iid)
    tier_of = {s["id"]: s["tier"] if s["tier_given"] else tiers.get(s["kind"], TIERS[-1]) for s in all_sources}
    gathered = {s["id"]: _day(s["collected_at"] or s["registered_at"]) for s in all_sources}
    rows = [r for r in evidence.codings(conn, iid, context=0) if not r["unplaced"]]
    codings = [
        CodingItem(
            id=r["id"], position=r["position"], source=r["source"], code=r["code"],
            area=code_area.get(r["code"], r["code"].split("/")[0]), facet=code_facet.get(r["code"]),
            valence=r["valence"], band=r["band"], coder=r["coder"], coded_at=r["coded_at"],
            coded_day=_day(r["coded_at"]), case=r["case"], kind=r["kind"], tier=tier_of[r["source"]],
            gathered_day=gathered[r["source"]],
        )
        for r in rows
    ]
    coded = {c.source for c in codings}
    sources = [
        SourceItem(
            id=s["id"], position=s["position"], kind=s["kind"], tier=tier_of[s["id"]], case=s["case"],
            collector=s["collector"], registered_at=s["registered_at"], registered_day=_day(s["registered_at"]),
            gathered_day=gathered[s["id"]], coded=s["id"] in coded,
        )
        for s in all_sources if s["status"] == "current"
    ]
    current = {c.id: c for c in codings}
    hypotheses = [_hypothesis(h, current, tree) for h in hyp.hypotheses(conn, iid, area)]
    judgments: list[JudgmentItem] = []
    if importlib.util.find_spec("projections.judgments") is not None:
        from projections.judgments import judgments as judgment_rows

        judgments = [_judgment(j, current) for j in judgment_rows(conn, iid) if area is None or j["area"] == area]
    findings = [_judgment_finding(j, hypotheses, current) for j in judgments if direction_of(j.grade)]
    findings += [_hypothesis_finding(h) for h in hypotheses if h.status != "rejected"]
    times = [(s.position, s.registered_at) for s in sources] + [(c.position, c.coded_at) for c in codings]
    times += [(st.position, st.at) for h in hypotheses for st in h.steps]
    times += [(ch.position, ch.at) for h in hypotheses for ch in h.checks]
    times += [(st.position, st.at) for j in judgments for st in j.steps]
    latest = max(times, default=(0, None))
    link_positions = [link.position for h in hypotheses for link in h.links]
    areas = [area] if area else sorted({c.area for c in codings} | {h.area for h in hypotheses}
                                       | {j.area for j in judgments})
    return BiasView(
        inspection=head.reference, inspection_id=iid, framework=head.framework,
        fieldwork_start=head.starts.isoformat() if head.starts else None,
        fieldwork_end=head.ends.isoformat() if head.ends else None,
        area=area, areas=areas, through=max([latest[0], *link_positions, *(v["position"] for v in configured.values())]),
        as_of=latest[1], tier_order=list(TIERS), tiers=tiers,
        tier_positions=sorted({v["position"] for v in configured.values()}), members=team,
        sources=sources, codings=codings, hypotheses=hypotheses, judgments=judgments, findings=findings,
    )


def _hypothesis(h: dict[str, Any], current: dict[str, CodingItem], tree: CodeTree) -> HypothesisItem:
    steps = []
    grade, expects = None, None
    for st in h["steps"]:
        if st["step"] in ("stated", "revised"):
            grade, expects = st["provisional_grade"], st["expects"]
        steps.append(Step(position=st["position"], at=st["at"], actor=st["actor"], kind=st["step"], grade=grade,
                          direction=expects))
    covered = {tree.current(c) for code in h["codes"] for c in tree.covered(code, with_children=True)}
    under = [c.id for c in current.values() if c.code in covered]
    return HypothesisItem(
        id=h["id"], position=h["position"], area=h["area"], text=h["text"], codes=h["codes"], expects=h["expects"],
        provisional_grade=h["provisional_grade"], status=h["status"], steps=steps,
        links=[LinkItem(coding=link["coding_id"], stance=link["stance"], position=link["position"])
               for link in h["links"] if link["current"] and link["coding_id"] in current],
        checks=[CheckItem(position=c["position"], at=c["at"], contrary=c["contrary"],
                          contrary_unlinked=c["contrary_unlinked"]) for c in h["checks"]],
        checked_since_change=h["checked_since_change"],
        under=under,
    )


def _judgment(j: dict[str, Any], current: dict[str, CodingItem]) -> JudgmentItem:
    steps = [Step(position=s["position"], at=s["at"], actor=s["actor"], kind=s["kind"], grade=s["grade"],
                  direction=direction_of(s["grade"])) for s in j["steps"]]
    last = j["proposals"][-1] if j["proposals"] else {"codings": [], "hypotheses": []}
    return JudgmentItem(
        id=j["judgment"], area=j["area"], grade=j["grade"], status=j["status"], position=j["position"], steps=steps,
        codings=[c for c in last["codings"] if c in current], hypotheses=list(last["hypotheses"]),
    )


def _split(ids: list[str], current: dict[str, CodingItem], direction: str | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"support": [], "contrary": [], "neutral": []}
    for cid in sorted(dict.fromkeys(ids), key=lambda c: current[c].position):
        valence = current[cid].valence
        out["neutral" if valence == "neutral" else "support" if valence == direction else "contrary"].append(cid)
    return out


def _judgment_finding(j: JudgmentItem, hypotheses: list[HypothesisItem], current: dict[str, CodingItem]) -> Finding:
    cited = list(j.codings)
    for h in hypotheses:
        if h.id in j.hypotheses:
            cited += [link.coding for link in h.links]
    return Finding(
        kind="judgment", id=j.id, area=j.area, label=f"{j.area} judgment ({j.grade})", direction=direction_of(j.grade),
        positions=[s.position for s in j.steps], **_split(cited, current, direction_of(j.grade)),
    )


def _hypothesis_finding(h: HypothesisItem) -> Finding:
    by = {stance: [link.coding for link in h.links if link.stance == stance]
          for stance in ("supports", "contradicts", "neutral")}
    return Finding(
        kind="hypothesis", id=h.id, area=h.area, label=f"hypothesis {h.id[:8]}", direction=h.expects,
        positions=[s.position for s in h.steps], support=by["supports"], contrary=by["contradicts"],
        neutral=by["neutral"],
    )
