"""The plain-data report model, and the builders of the draft, moderation and feedback reports.

A ``Report`` is a list of sections made of a few kinds of block (paragraphs, bullet lists, tables, quoted
vignettes with their provenance, bar charts and a grade's path over time), plus ``columns``/``records`` for a
flat export. Report writers (``register_report_writers``) render any report from this model alone, so a new
writer needs no knowledge of the ledger. Builders read only the projections' query functions and order
everything, so the same ledger gives the same report, byte for byte, after ``evidence projections rebuild``.
SQLAlchemy-backed modules are imported inside the builders: writers import this module for the model only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

import msgspec

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Connection

    from ledger.contracts import Framework

Valence = Literal["strength", "weakness", "neutral"]


class Provenance(msgspec.Struct, frozen=True, kw_only=True):
    """Where a quoted passage comes from: the coding, its source and who coded it when."""

    coding: str
    source: str
    source_title: str
    kind: str
    case: str | None
    tier: str | None
    coder: str
    coded_at: str
    code: str
    label: str
    start: int
    end: int


class Paragraph(msgspec.Struct, frozen=True, kw_only=True, tag="paragraph"):
    """Running text; ``emphasis`` "note" is a side remark, "warning" something a reader must not miss."""

    text: str
    emphasis: Literal["body", "note", "warning"] = "body"


class Bullets(msgspec.Struct, frozen=True, kw_only=True, tag="bullets"):
    items: tuple[str, ...]


class Table(msgspec.Struct, frozen=True, kw_only=True, tag="table"):
    """A real table: a caption, column headings and rows of text cells."""

    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


class Vignette(msgspec.Struct, frozen=True, kw_only=True, tag="vignette"):
    """A quoted passage illustrating a strength or weakness; ``cited`` when the grade rests on it.

    ``before`` and ``after`` are the text either side, with "…" where the source goes on."""

    valence: Valence
    quote: str
    before: str
    after: str
    provenance: Provenance
    cited: bool = False


class Series(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    tone: Valence
    values: tuple[int, ...]


class Bars(msgspec.Struct, frozen=True, kw_only=True, tag="bars"):
    """Horizontal stacked bars, one per category; ``description`` is the chart's text alternative."""

    title: str
    description: str
    categories: tuple[str, ...]
    series: tuple[Series, ...]


class PathPoint(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    at: str
    step: str
    grade: str
    actor: str


class GradePath(msgspec.Struct, frozen=True, kw_only=True, tag="grade-path"):
    """A grade's steps over time on the framework's scale (best first); ``description`` is the text alternative."""

    title: str
    description: str
    scale: tuple[str, ...]
    points: tuple[PathPoint, ...]


Block = Paragraph | Bullets | Table | Vignette | Bars | GradePath


class Section(msgspec.Struct, frozen=True, kw_only=True):
    heading: str
    anchor: str
    level: int = 2
    blocks: tuple[Block, ...] = ()


class Report(msgspec.Struct, frozen=True, kw_only=True):
    """A whole report: what it is about, its sections, and a flat table of its records (for CSV)."""

    kind: str
    title: str
    subtitle: str
    inspection: str
    authority: str
    framework: str
    as_at: int
    sections: tuple[Section, ...]
    columns: tuple[str, ...] = ()
    records: tuple[tuple[str, ...], ...] = ()
    lang: str = "en-GB"


# --- helpers -----------------------------------------------------------------------------------


def grade_label(grade: str | None) -> str:
    """A grade id as people write it ("requires-improvement" -> "requires improvement")."""
    return (grade or "not proposed").replace("-", " ")


def when(moment: str | None) -> str:
    """An ISO time as "YYYY-MM-DD HH:MM" (UTC)."""
    return moment[:16].replace("T", " ") if moment else ""


def short(identifier: str | None) -> str:
    return (identifier or "")[:8]


def cite(coding: str) -> str:
    """A citation in the form the language rules recognise."""
    return f"[coding {short(coding)}]"


def _steps_text(steps: list[dict[str, Any]]) -> str:
    parts = [f"{s['kind'].replace('-', ' ')} {grade_label(s['grade'])} on {when(s['at'])[:10]}" for s in steps]
    return "; ".join(parts) + "." if parts else "No steps yet."


def grade_path(title: str, steps: list[dict[str, Any]], scale: tuple[str, ...]) -> GradePath:
    """The chart block of a judgment's steps (``projections.judgments`` step records)."""
    points = tuple(
        PathPoint(position=s["position"], at=s["at"] or "", step=s["kind"], grade=s["grade"], actor=s["actor"])
        for s in steps
    )
    return GradePath(title=title, description=f"{title}: {_steps_text(steps)}", scale=scale, points=points)


def _bars(title: str, rows: list[tuple[str, int, int, int]], what: str) -> Bars:
    """Stacked strength/weakness/neutral bars from (category, strengths, weaknesses, neutral) rows."""
    said = "; ".join(f"{c}: {s} strengths, {w} weaknesses, {n} neutral" for c, s, w, n in rows)
    return Bars(
        title=title, description=f"{title}. {said or 'No ' + what + ' coded yet'}.",
        categories=tuple(r[0] for r in rows),
        series=(
            Series(name="Strengths", tone="strength", values=tuple(r[1] for r in rows)),
            Series(name="Weaknesses", tone="weakness", values=tuple(r[2] for r in rows)),
            Series(name="Neutral", tone="neutral", values=tuple(r[3] for r in rows)),
        ),
    )


def _inspection(conn: Connection, inspection_id: str) -> dict[str, Any]:
    from sqlalchemy import select

    from projections.inspections import inspections

    row = conn.execute(select(inspections).where(inspections.c.id == inspection_id)).first()
    return {"reference": row.reference, "authority": row.authority, "framework": row.framework} if row else {
        "reference": inspection_id[:8], "authority": "", "framework": ""
    }


def _hex(value: Any) -> str:
    return value.hex if isinstance(value, UUID) else str(value).replace("-", "").lower()


def _report(kind: str, title: str, subtitle: str, info: dict[str, Any], as_at: int, sections: list[Section],
            columns: tuple[str, ...], records: list[tuple[str, ...]]) -> Report:
    return Report(
        kind=kind, title=title, subtitle=subtitle, inspection=info["reference"], authority=info["authority"],
        framework=info["framework"], as_at=as_at, sections=tuple(sections), columns=columns, records=tuple(records),
    )


# --- the draft report --------------------------------------------------------------------------

DRAFT_COLUMNS = (
    "area", "area_title", "grade", "status", "nearest", "valence", "code", "theme", "quote", "source_title",
    "source", "kind", "case", "coder", "coded_at", "coding", "cited",
)


#: The context either side of a quote that ``evidence.codings`` gives by default.
CONTEXT = 60


def _vignette(item: dict[str, Any], cited: set[str]) -> Vignette:
    before = ("…" if item["start"] > len(item["before"]) else "") + item["before"]
    after = item["after"] + ("…" if len(item["after"]) >= CONTEXT else "")
    return Vignette(
        valence=item["valence"], quote=item["quote"], before=before, after=after,
        cited=item["id"] in cited,
        provenance=Provenance(
            coding=item["id"], source=item["source"], source_title=item["title"], kind=item["kind"],
            case=item["case"], tier=item["tier"], coder=item["coder"], coded_at=item["coded_at"],
            code=item["code"], label=item["label"], start=item["start"], end=item["end"],
        ),
    )


def _proximity(judgment: dict[str, Any] | None, profile: dict[str, Any] | None, framework: Framework) -> list[Block]:
    blocks: list[Block] = []
    if judgment is None:
        return [Paragraph(text="No grade has been proposed for this area yet.", emphasis="note")]
    grade = judgment["grade"]
    meaning = framework.grade_meanings.get(grade, "")
    blocks.append(Paragraph(text=f"Grade: {grade_label(grade)} ({judgment['status'].replace('-', ' ')})."
                            + (f" {grade_label(grade).capitalize()} means: {meaning}" if meaning else "")))
    if judgment["nearest"] or judgment["narrative"]:
        near = f"The grade came nearest to {grade_label(judgment['nearest'])}. " if judgment["nearest"] else ""
        blocks.append(Paragraph(text=f"{near}{judgment['narrative']}".strip()))
    else:
        blocks.append(Paragraph(text="Not finalised yet: no proximity narrative has been recorded.", emphasis="note"))
    if profile and profile["adjacent"]:
        parts = [f"{a['pointing']} point towards {grade_label(a['grade'])}" for a in profile["adjacent"]]
        blocks.append(Paragraph(
            text=f"Of the {profile['codings']} codings under this area, {' and '.join(parts)}.", emphasis="note"
        ))
    for step in judgment["steps"]:
        for warning in step["warnings"]:
            blocks.append(Paragraph(text=f"Departs from an observed norm ({warning['rule']}): {warning['message']}",
                                    emphasis="warning"))
    return blocks


def _themes(profile: dict[str, Any] | None, valence: str) -> list[str]:
    if not profile:
        return []
    ranked = sorted((r for r in profile["themes"] if r[valence]), key=lambda r: (-r[valence], r["theme"]))[:3]
    noun = "strength" if valence == "strength" else "weakness"
    plural = "strengths" if valence == "strength" else "weaknesses"
    return [f"{r['label']}: {r[valence]} {noun if r[valence] == 1 else plural} across {r['cases']} case(s) and "
            f"{r['sources']} source(s)" for r in ranked]


def _area_sections(conn: Connection, iid: str, area: Any, judgment: dict[str, Any] | None, codes: set[str],
                   framework: Framework, records: list[tuple[str, ...]], hidden: Callable[[dict[str, Any]], bool] | None = None) -> list[Section]:
    from projections import evidence
    from projections.judgments import profile as evidence_profile

    has_codes = area.kind == "overall" or area.id in codes
    profile = evidence_profile(conn, iid, area.id, scale=tuple(framework.grades),
                               meanings=dict(framework.grade_meanings)) if has_codes else None
    blocks: list[Block] = _proximity(judgment, profile, framework)
    if not profile or not profile["themes"]:
        blocks.append(Paragraph(text="No evidence has been coded under this area yet.", emphasis="note"))
    cited = set(judgment["proposals"][-1]["codings"]) if judgment and judgment["proposals"] else set()
    if cited:
        blocks.append(Paragraph(text=f"The grade rests on {len(cited)} cited coding(s)."))
    if profile and profile["themes"]:
        rows = [(r["label"], r["strength"], r["weakness"], r["neutral"]) for r in profile["themes"]]
        blocks.append(_bars(f"Evidence by theme: {area.title}", rows, "evidence"))
    if judgment and judgment["steps"]:
        blocks.append(grade_path(f"The grade's path: {area.title}", judgment["steps"], tuple(framework.grades)))
    if area.kind == "overall":
        blocks.append(Paragraph(text="The sections below quote the evidence behind each key judgment.", emphasis="note"))
    sections = [Section(heading=area.title, anchor=f"area-{area.id}", blocks=tuple(blocks))]
    chosen = evidence.vignettes(conn, iid, area.id, per_valence=3, hidden=hidden) if area.id in codes else {}
    base = (area.id, area.title, judgment["grade"] if judgment else "", judgment["status"] if judgment else "",
            (judgment["nearest"] or "") if judgment else "")
    for valence, heading in (("strength", "Key strengths"), ("weakness", "Key weaknesses")):
        if not profile or not profile["themes"]:
            continue
        themes = _themes(profile, valence)
        part: list[Block] = [Bullets(items=tuple(themes)) if themes else Paragraph(
            text=f"No {valence} has been coded under this area.", emphasis="note")]
        for item in chosen.get(valence, []):
            part.append(_vignette(item, cited))
            records.append((*base, valence, item["code"], item["label"], item["quote"], item["title"], item["source"],
                            item["kind"], item["case"] or "", item["coder"], item["coded_at"] or "", item["id"],
                            "yes" if item["id"] in cited else "no"))
        sections.append(Section(heading=f"{heading}: {area.title}", anchor=f"area-{area.id}-{valence}", level=3,
                                blocks=tuple(part)))
    if not any(r[0] == area.id for r in records):
        records.append((*base, *("",) * (len(DRAFT_COLUMNS) - len(base))))
    weak = sorted((r for r in (profile or {}).get("themes", []) if r["weakness"] and area.kind != "overall"),
                  key=lambda r: (-r["weakness"], r["theme"]))[:3]
    if weak:
        examples: dict[str, str] = {}
        for item in chosen.get("weakness", []):
            examples.setdefault("/".join(item["code"].split("/")[:2]), item["id"])
        sections.append(Section(heading=f"Recommendations: {area.title}", anchor=f"area-{area.id}-recommendations",
                                level=3, blocks=(Bullets(items=tuple(
            f"Improve {r['label']}, where {r['weakness']} weakness(es) were found across {r['cases']} case(s)"
            + (f" {cite(examples[r['theme']])}." if r["theme"] in examples else ".")
            for r in weak
        )),)))
    return sections


def draft(conn: Connection, inspection_id: Any, framework: Framework, *, as_at: int, hidden: Callable[[dict[str, Any]], bool] | None = None) -> Report:
    """The draft report: per judgment area the grade, the proximity narrative, key strengths and weaknesses
    illustrated by quoted vignettes with their provenance, and recommendations."""
    from projections import evidence
    from projections.judgments import judgments

    iid = _hex(inspection_id)
    info = _inspection(conn, iid)
    judged = {j["area"]: j for j in judgments(conn, iid)}
    codes = {row["id"] for row in evidence.code_tree(conn, iid)}
    overview = Table(
        caption="Judgments", columns=("Judgment", "Grade", "Status", "Came nearest to"),
        rows=tuple(
            (a.title, grade_label(judged[a.id]["grade"]) if a.id in judged else "not proposed",
             judged[a.id]["status"].replace("-", " ") if a.id in judged else "",
             grade_label(judged[a.id]["nearest"]) if a.id in judged and judged[a.id]["nearest"] else "")
            for a in framework.areas
        ),
    )
    tally: dict[str, list[int]] = {}
    for item in evidence.codings(conn, iid, hidden=hidden):
        row = tally.setdefault(item["code"].split("/")[0], [0, 0, 0])
        row[("strength", "weakness", "neutral").index(item["valence"])] += 1
    titles = {a.id: a.title for a in framework.areas}
    by_area = [(titles.get(code, code), *tally[code]) for code in sorted(tally, key=lambda c: (c not in titles, c))]
    records: list[tuple[str, ...]] = []
    sections = [Section(heading="Summary of judgments", anchor="summary", blocks=(
        overview, _bars("Strengths against weaknesses by judgment area", by_area, "evidence"),  # type: ignore[arg-type]
    ))]
    for area in framework.areas:
        sections += _area_sections(conn, iid, area, judged.get(area.id), codes, framework, records, hidden)
    return _report("draft", f"Draft report: {info['authority'] or info['reference']}",
                   f"Inspection {info['reference']} under {info['framework']}: a draft for quality assurance",
                   info, as_at, sections, DRAFT_COLUMNS, records)


# --- moderation transparency -------------------------------------------------------------------

MODERATION_COLUMNS = ("area", "at", "change", "panel", "by", "role", "from", "to", "rationale", "dissent")


def moderation(conn: Connection, inspection_id: Any, framework: Framework, *, as_at: int) -> Report:
    """Every consistency panel and every panel or moderation change of grade: from, to, rationale and dissent."""
    from projections.judgments import judgments, panels

    iid = _hex(inspection_id)
    info = _inspection(conn, iid)
    held = panels(conn, iid)
    number = {p["panel"]: str(p["number"]) for p in held}
    titles = {a.id: a.title for a in framework.areas}
    records: list[tuple[str, ...]] = []
    sections = []
    for judgment in judgments(conn, iid):
        changes = [s for s in judgment["steps"] if s["kind"] in ("panel-revised", "moderated")]
        if not changes:
            continue
        blocks: list[Block] = [grade_path(f"The grade's path: {titles.get(judgment['area'], judgment['area'])}",
                                          judgment["steps"], tuple(framework.grades))]
        for s in changes:
            who = f"panel {number.get(s['panel'] or '', '?')}" if s["kind"] == "panel-revised" else "moderation"
            records.append((judgment["area"], s["at"] or "", s["kind"], number.get(s["panel"] or "", ""), s["actor"],
                            s["role"], s["from_grade"] or "", s["grade"], s["rationale"], s["dissent"]))
            blocks.append(Paragraph(text=f"{when(s['at'])}, {who} ({s['actor']}, {s['role']}): "
                                         f"from {grade_label(s['from_grade'])} to {grade_label(s['grade'])}."))
            blocks.append(Paragraph(text=f"Rationale: {s['rationale']}"))
            blocks.append(Paragraph(text=f"Dissent: {s['dissent']}" if s["dissent"] else "No dissent was recorded.",
                                    emphasis="body" if s["dissent"] else "note"))
        blocks.append(Paragraph(text=f"Current grade: {grade_label(judgment['grade'])} "
                                     f"({judgment['status'].replace('-', ' ')})."))
        sections.append(Section(heading=titles.get(judgment["area"], judgment["area"]),
                                anchor=f"area-{judgment['area']}", blocks=tuple(blocks)))
    panel_rows = tuple(
        (str(p["number"]), ", ".join(p["members"]), p["purpose"], p["convened_by"], when(p["convened_at"]),
         p["decision"] or "still sitting", when(p["decided_at"]))
        for p in held
    )
    panel_changes = sum(1 for r in records if r[2] == "panel-revised")
    summary = Paragraph(text=f"{len(held)} panel(s) sat; they changed {panel_changes} grade(s), and moderation "
                             f"changed {len(records) - panel_changes}. Every change is listed with its rationale "
                             "and any dissent, as recorded in the ledger.")
    head = Section(heading="Panels", anchor="panels", blocks=(
        summary,
        Table(caption="Consistency panels", columns=("Panel", "Members", "Purpose", "Convened by", "Convened",
                                                     "Decision", "Decided"), rows=panel_rows),
        Table(caption="Changes of grade", columns=("Judgment", "When", "Change", "By", "From", "To", "Dissent"),
              rows=tuple((titles.get(r[0], r[0]), when(r[1]), r[2].replace("-", " ") + (f" {r[3]}" if r[3] else ""),
                          r[4], grade_label(r[6]), grade_label(r[7]), r[9] or "none") for r in records)),
    ))
    if not sections:
        sections.append(Section(heading="Changes of grade", anchor="changes", blocks=(
            Paragraph(text="No panel or moderator changed a grade.", emphasis="note"),
        )))
    return _report("moderation", f"Moderation record: {info['authority'] or info['reference']}",
                   f"Inspection {info['reference']}: every panel and moderation change, for the authority",
                   info, as_at, [head, *sections], MODERATION_COLUMNS, records)


# --- feedback against the written word ---------------------------------------------------------

FEEDBACK_COLUMNS = ("area", "at", "stage", "by", "audience", "indicated", "final", "status", "agreement", "message")


def agreement(indicated: str | None, final: str | None, scale: tuple[str, ...]) -> str:
    """How the grade feedback indicated compares with the final grade ("agrees", "one grade better", ...)."""
    if not indicated:
        return "no grade indicated"
    if not final:
        return "no grade proposed yet"
    if indicated == final:
        return "agrees"
    if indicated in scale and final in scale:
        gap = scale.index(final) - scale.index(indicated)
        size = {1: "one grade", 2: "two grades", 3: "three grades"}.get(abs(gap), f"{abs(gap)} grades")
        return f"differs: {size} {'better' if gap > 0 else 'worse'} than the final grade"
    return "differs"


def feedback(conn: Connection, inspection_id: Any, framework: Framework, *, as_at: int) -> Report:
    """Where verbal feedback at each stage differed from the final judgments and the report's text."""
    from projections.judgments import feedback as feedback_rows
    from projections.judgments import judgments

    iid = _hex(inspection_id)
    info = _inspection(conn, iid)
    judged = {j["area"]: j for j in judgments(conn, iid)}
    given = feedback_rows(conn, iid)
    scale = tuple(framework.grades)
    records: list[tuple[str, ...]] = []
    sections = []
    for area in framework.areas:
        mine = [f for f in given if f["area"] == area.id]
        judgment = judged.get(area.id)
        if not mine and judgment is None:
            continue
        final = judgment["grade"] if judgment else None
        blocks: list[Block] = [Paragraph(
            text=f"Final grade: {grade_label(final)}" + (f" ({judgment['status'].replace('-', ' ')})." if judgment else ".")
        )]
        if judgment and judgment["narrative"]:
            blocks.append(Paragraph(text=f"Report text: {judgment['narrative']}"))
        rows = []
        for f in mine:
            verdict = agreement(f["grade"], final, scale)
            records.append((area.id, f["at"] or "", f["stage"], f["actor"], f["audience"], f["grade"] or "",
                            final or "", judgment["status"] if judgment else "", verdict, f["message"]))
            rows.append((when(f["at"]), f["stage"], f["actor"], f["audience"], grade_label(f["grade"]) if f["grade"]
                         else "", verdict, f["message"]))
        if rows:
            blocks.append(Table(caption=f"Feedback on {area.title}", columns=(
                "When", "Stage", "By", "Audience", "Indicated", "Against the final grade", "What was said"),
                rows=tuple(rows)))
            differing = [r for r in rows if r[5].startswith("differs")]
            blocks.append(Paragraph(
                text=f"{len(differing)} of {len(rows)} feedback item(s) indicated a grade other than the final one."
                if differing else "No feedback indicated a grade other than the final one.",
                emphasis="warning" if differing else "note"))
        else:
            blocks.append(Paragraph(text="No verbal feedback was recorded for this area.", emphasis="warning"))
        sections.append(Section(heading=area.title, anchor=f"area-{area.id}", blocks=tuple(blocks)))
    differs = sum(1 for r in records if r[8].startswith("differs"))
    head = Section(heading="Summary", anchor="summary", blocks=(Paragraph(
        text=f"{len(records)} feedback item(s) were recorded; {differs} indicated a grade other than the final one."),))
    return _report("feedback", f"Feedback against the written report: {info['authority'] or info['reference']}",
                   f"Inspection {info['reference']}: verbal feedback at each stage against the final judgments",
                   info, as_at, [head, *sections], FEEDBACK_COLUMNS, records)


BUILDERS = {"draft": draft, "moderation": moderation, "feedback": feedback}
