"""Judgments, panels and verbal feedback as tables, and the queries the CLI, reports and bias checks share.

``judgments(conn, inspection_id)`` gives each area's current grade and status with its whole history of
steps (proposals with their citations, panel and moderation changes, finalising, publishing), each with its
ledger position and time. A judgment's record here equals the final state of ``ledger.replay`` (a test).
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sqlalchemy import Column, Connection, DateTime, Integer, String, Table, Text, select, update

from ledger.feedback import Given
from ledger.judgment import Finalised, Moderated, PanelRevised, Proposed, Published, Revised
from ledger.panel import Convened, Decided
from projections.base import Batch, Projection, metadata

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy import Engine

judgments_table = Table(
    "judgments",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("inspection_id", String(32), nullable=False, index=True),
    Column("area", String(64), nullable=False),
    Column("grade", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("nearest", String(32)),
    Column("narrative", Text, nullable=False),
    Column("first_position", Integer, nullable=False),
    Column("position", Integer, nullable=False),
)

steps_table = Table(
    "judgment_steps",
    metadata,
    Column("judgment_id", String(32), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("role", String(32), nullable=False),
    Column("from_grade", String(32)),
    Column("grade", String(32), nullable=False),
    Column("rationale", Text, nullable=False),
    Column("dissent", Text, nullable=False),
    Column("panel_id", String(32)),
    Column("nearest", String(32)),
)

citations_table = Table(
    "judgment_citations",
    metadata,
    Column("judgment_id", String(32), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("ordinal", Integer, primary_key=True),
    Column("target", String(32), nullable=False, index=True),
)

warnings_table = Table(
    "judgment_warnings",
    metadata,
    Column("judgment_id", String(32), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("ordinal", Integer, primary_key=True),
    Column("rule", String(64), nullable=False),
    Column("message", Text, nullable=False),
)

panels_table = Table(
    "judgment_panels",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("inspection_id", String(32), nullable=False, index=True),
    Column("number", Integer, nullable=False),
    Column("members", Text, nullable=False),
    Column("purpose", Text, nullable=False),
    Column("convened_by", String(64), nullable=False),
    Column("convened_at", DateTime(timezone=True), nullable=False),
    Column("decision", Text),
    Column("decided_at", DateTime(timezone=True)),
    Column("position", Integer, nullable=False),
)

feedback_table = Table(
    "judgment_feedback",
    metadata,
    Column("position", Integer, primary_key=True),
    Column("inspection_id", String(32), nullable=False, index=True),
    Column("area", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("stage", String(32), nullable=False),
    Column("audience", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("grade", String(32)),
)

_STEP_KIND = {
    Proposed: "proposed", Revised: "revised", PanelRevised: "panel-revised", Moderated: "moderated",
    Finalised: "finalised", Published: "published",
}


class Judgments(Projection):
    name = "judgments"
    tables = (judgments_table, steps_table, citations_table, warnings_table, panels_table, feedback_table)
    topics = frozenset(
        cls.TOPIC for cls in (*_STEP_KIND, Convened, Decided, Given)
    )

    def apply(self, conn: Connection, batch: Batch) -> None:
        steps: list[dict[str, Any]] = []
        citations: list[dict[str, Any]] = []
        warned: list[dict[str, Any]] = []
        notes: list[dict[str, Any]] = []
        for position, e in batch:
            if isinstance(e, Given):
                notes.append({
                    "position": position, "inspection_id": e.inspection.hex, "area": e.area, "at": e.timestamp,
                    "actor": e.actor, "stage": str(e.stage), "audience": e.audience, "message": e.message,
                    "grade": e.grade,
                })
            elif isinstance(e, Convened):
                conn.execute(panels_table.insert().values(
                    id=e.originator_id.hex, inspection_id=e.inspection.hex, number=e.number,
                    members=",".join(e.members), purpose=e.purpose, convened_by=e.actor, convened_at=e.timestamp,
                    position=position,
                ))
            elif isinstance(e, Decided):
                conn.execute(update(panels_table).where(panels_table.c.id == e.originator_id.hex).values(
                    decision=e.decision, decided_at=e.timestamp, position=position,
                ))
            else:
                self._judgment(conn, position, e, steps, citations, warned)
        for table, rows in ((steps_table, steps), (citations_table, citations), (warnings_table, warned),
                            (feedback_table, notes)):
            if rows:
                conn.execute(table.insert(), rows)

    @staticmethod
    def _judgment(
        conn: Connection, position: int, e: Any, steps: list[dict[str, Any]], citations: list[dict[str, Any]],
        warned: list[dict[str, Any]],
    ) -> None:
        jid = e.originator_id.hex
        kind = _STEP_KIND[type(e)]
        grade = getattr(e, "to_grade", None) or e.grade
        step = {
            "judgment_id": jid, "position": position, "kind": kind, "at": e.timestamp, "actor": e.actor,
            "role": str(e.role), "from_grade": getattr(e, "from_grade", None), "grade": grade,
            "rationale": getattr(e, "rationale", None) or getattr(e, "narrative", ""),
            "dissent": getattr(e, "dissent", ""), "panel_id": e.panel.hex if isinstance(e, PanelRevised) else None,
            "nearest": e.nearest if isinstance(e, Finalised) else None,
        }
        steps.append(step)
        if isinstance(e, Proposed | Revised):
            for kind_name, ids in (("coding", e.codings), ("hypothesis", e.hypotheses)):
                citations.extend(
                    {"judgment_id": jid, "position": position, "kind": kind_name, "ordinal": i, "target": t.hex}
                    for i, t in enumerate(ids)
                )
        if isinstance(e, Finalised):
            warned.extend(
                {"judgment_id": jid, "position": position, "ordinal": i, "rule": w.rule, "message": w.message}
                for i, w in enumerate(e.warnings)
            )
        if isinstance(e, Proposed):
            conn.execute(judgments_table.insert().values(
                id=jid, inspection_id=e.inspection.hex, area=e.area, grade=e.grade, status="proposed", nearest=None,
                narrative="", first_position=position, position=position,
            ))
            return
        values: dict[str, Any] = {"grade": grade, "position": position}
        values["status"] = {"revised": "proposed"}.get(kind, kind)
        if isinstance(e, Finalised):
            values |= {"nearest": e.nearest, "narrative": e.narrative}
        conn.execute(update(judgments_table).where(judgments_table.c.id == jid).values(**values))


# --- queries ---------------------------------------------------------------------------------


@contextlib.contextmanager
def _connected(bind: Connection | Engine) -> Iterator[Connection]:
    """The connection given, or a new one on the engine given (closed afterwards)."""
    if isinstance(bind, Connection):
        yield bind
    else:
        with bind.connect() as conn:
            yield conn


def _hex(value: str | UUID) -> str:
    return value.hex if isinstance(value, UUID) else value.replace("-", "").lower()


def iso(moment: datetime | None) -> str | None:
    """A stored time as ISO text in UTC (SQLite hands times back without their zone; they were stored in UTC)."""
    if moment is None:
        return None
    return (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)).isoformat()


def step_record(row: Any, codings: list[str], hypotheses: list[str], warnings: list[dict[str, str]]) -> dict[str, Any]:
    """One step of a judgment's history as plain data (the same shape ``ledger.replay`` builds)."""
    return {
        "position": row.position, "at": iso(row.at), "kind": row.kind, "actor": row.actor, "role": row.role,
        "from_grade": row.from_grade, "grade": row.grade, "rationale": row.rationale, "dissent": row.dissent,
        "panel": row.panel_id, "nearest": row.nearest, "codings": codings, "hypotheses": hypotheses,
        "warnings": warnings,
    }


def judgments(bind: Connection | Engine, inspection_id: str | UUID) -> list[dict[str, Any]]:
    """Each judged area of the inspection, in the order first proposed: grade, status and every step.

    ``proposals`` holds the proposed and revised steps (position, time, grade, cited codings and
    hypotheses as 32-hex ids); ``steps`` holds every step, panel and moderation changes included.
    """
    with _connected(bind) as conn:
        return _judgments(conn, _hex(inspection_id))


def _judgments(conn: Connection, iid: str) -> list[dict[str, Any]]:
    heads = conn.execute(
        select(judgments_table).where(judgments_table.c.inspection_id == iid).order_by(judgments_table.c.first_position)
    ).all()
    if not heads:
        return []
    ids = [h.id for h in heads]
    cited: dict[tuple[str, int, str], list[str]] = {}
    for row in conn.execute(
        select(citations_table).where(citations_table.c.judgment_id.in_(ids)).order_by(
            citations_table.c.judgment_id, citations_table.c.position, citations_table.c.kind, citations_table.c.ordinal
        )
    ):
        cited.setdefault((row.judgment_id, row.position, row.kind), []).append(row.target)
    warned: dict[tuple[str, int], list[dict[str, str]]] = {}
    for row in conn.execute(
        select(warnings_table).where(warnings_table.c.judgment_id.in_(ids)).order_by(
            warnings_table.c.judgment_id, warnings_table.c.position, warnings_table.c.ordinal
        )
    ):
        warned.setdefault((row.judgment_id, row.position), []).append({"rule": row.rule, "message": row.message})
    history: dict[str, list[dict[str, Any]]] = {}
    for row in conn.execute(
        select(steps_table).where(steps_table.c.judgment_id.in_(ids)).order_by(
            steps_table.c.judgment_id, steps_table.c.position
        )
    ):
        key = (row.judgment_id, row.position)
        history.setdefault(row.judgment_id, []).append(step_record(
            row, cited.get((*key, "coding"), []), cited.get((*key, "hypothesis"), []), warned.get(key, [])
        ))
    out = []
    for head in heads:
        steps = history.get(head.id, [])
        out.append({
            "area": head.area, "judgment": head.id, "grade": head.grade, "status": head.status,
            "nearest": head.nearest, "narrative": head.narrative, "position": head.position,
            "proposals": [s for s in steps if s["kind"] in ("proposed", "revised")], "steps": steps,
        })
    return out


def feedback(bind: Connection | Engine, inspection_id: str | UUID, area: str | None = None) -> list[dict[str, Any]]:
    """Verbal feedback given in the inspection (optionally about one area), in ledger order."""
    query = select(feedback_table).where(feedback_table.c.inspection_id == _hex(inspection_id))
    if area is not None:
        query = query.where(feedback_table.c.area == area)
    with _connected(bind) as conn:
        rows = conn.execute(query.order_by(feedback_table.c.position)).all()
    return [
        {
            "position": r.position, "at": iso(r.at), "actor": r.actor, "area": r.area, "stage": r.stage,
            "audience": r.audience, "message": r.message, "grade": r.grade,
        }
        for r in rows
    ]


def panels(bind: Connection | Engine, inspection_id: str | UUID) -> list[dict[str, Any]]:
    """The inspection's panels in the order convened, with members and decision."""
    query = select(panels_table).where(panels_table.c.inspection_id == _hex(inspection_id))
    with _connected(bind) as conn:
        rows = conn.execute(query.order_by(panels_table.c.number)).all()
    return [
        {
            "panel": r.id, "number": r.number, "members": r.members.split(",") if r.members else [],
            "purpose": r.purpose, "convened_by": r.convened_by, "convened_at": iso(r.convened_at),
            "decision": r.decision, "decided_at": iso(r.decided_at),
        }
        for r in rows
    ]


# --- the evidence profile --------------------------------------------------------------------


def _pull(item: dict[str, Any], grade: str | None, scale: tuple[str, ...]) -> int:
    """+1 when a coding points to a better grade than ``grade``, -1 to a worse one, 0 at it (or neutral)."""
    if item["band"] in scale and grade in scale:
        return (scale.index(grade) > scale.index(item["band"])) - (scale.index(grade) < scale.index(item["band"]))
    return {"strength": 1, "weakness": -1}.get(item["valence"], 0)


def profile(
    bind: Connection | Engine, inspection_id: str | UUID, area: str, *, scale: tuple[str, ...],
    meanings: dict[str, str],
) -> dict[str, Any]:
    """The evidence under ``area`` (every area for ``overall``) by theme: strengths, weaknesses, bands, cases,
    and how much of it points to each grade adjacent to the current one. It informs the finalising narrative;
    it does not compute the grade."""
    from projections import evidence
    from projections.codings import CodeTree

    iid = _hex(inspection_id)
    with _connected(bind) as conn:
        tree = CodeTree.load(conn, iid)
        whole = area == "overall" or area not in tree.rows
        items = evidence.codings(conn, iid) if whole else evidence.codings(conn, iid, code=area, with_children=True)
        current = next((j for j in _judgments(conn, iid) if j["area"] == area), None)
    grade = current["grade"] if current else None
    themes: dict[str, dict[str, Any]] = {}
    for item in items:
        parts = item["code"].split("/")
        theme = parts[0] if whole else "/".join(parts[:2])
        row = themes.setdefault(theme, {
            "theme": theme, "label": tree.rows[theme]["label"] if theme in tree.rows else theme,
            "strength": 0, "weakness": 0, "neutral": 0, "bands": {}, "cases": set(), "sources": set(),
            "better": 0, "worse": 0, "at_grade": 0,
        })
        row[item["valence"]] += 1
        if item["band"]:
            row["bands"][item["band"]] = row["bands"].get(item["band"], 0) + 1
        row["cases"].update([item["case"]] if item["case"] else [])
        row["sources"].add(item["source"])
        pull = _pull(item, grade, scale)
        row["better" if pull > 0 else "worse" if pull < 0 else "at_grade"] += 1
    rows = []
    for theme in sorted(themes):
        row = themes[theme]
        rows.append(row | {"cases": len(row["cases"]), "sources": len(row["sources"]),
                           "bands": dict(sorted(row["bands"].items()))})
    adjacent = []
    if grade in scale:
        index = scale.index(grade)
        for i, direction in ((index - 1, "better"), (index + 1, "worse")):
            if 0 <= i < len(scale):
                leading = sorted(rows, key=lambda r: (-r[direction], r["theme"]))
                adjacent.append({
                    "grade": scale[i], "direction": direction, "meaning": meanings.get(scale[i], ""),
                    "pointing": sum(r[direction] for r in rows),
                    "themes": [{"theme": r["theme"], "label": r["label"], "codings": r[direction]}
                               for r in leading if r[direction]][:5],
                })
    leaning = max(adjacent, key=lambda a: a["pointing"], default=None)
    tied = len(adjacent) == 2 and adjacent[0]["pointing"] == adjacent[1]["pointing"]
    return {
        "area": area, "grade": grade, "meaning": meanings.get(grade or "", ""), "codings": len(items),
        "strengths": sum(r["strength"] for r in rows), "weaknesses": sum(r["weakness"] for r in rows),
        "cases": len({i["case"] for i in items if i["case"]}), "sources": len({i["source"] for i in items}),
        "themes": rows, "adjacent": adjacent,
        "leans_to": None if leaning is None or tied or not leaning["pointing"] else leaning["grade"],
    }
