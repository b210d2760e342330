"""Hypotheses (with their links, checks and history) and bias-review settings, as tables, and their queries.

The links table also follows codings: a coding withdrawn, unplaced or remapped after it was linked is marked
so, because evidence that is no longer current must not count for or against a hypothesis.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy import (
    JSON, Boolean, Column, DateTime, Index, Integer, String, Table, Text, bindparam, func, select, update,
)

from ledger.bias_review import Recorded, TiersConfigured
from ledger.coding import CodingRemapped, CodingUnplaced, CodingWithdrawn
from ledger.hypothesis import Accepted, Checked, EvidenceLinked, Rejected, Revised, Stated
from projections.base import Batch, Projection, metadata
from projections.sources import iso

if TYPE_CHECKING:
    from sqlalchemy import Connection

hypotheses_table = Table(
    "hypotheses",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("inspection_id", String(32), nullable=False, index=True),
    Column("area", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("codes", JSON, nullable=False),
    Column("expects", String(16), nullable=False),
    Column("provisional_grade", String(32)),
    Column("status", String(16), nullable=False),
    Column("author", String(64), nullable=False),
    Column("stated_at", DateTime(timezone=True), nullable=False),
    Column("position", Integer, nullable=False),
    Column("changed_position", Integer, nullable=False),
    Column("checked_position", Integer),
)

steps = Table(
    "hypothesis_steps",
    metadata,
    Column("position", Integer, primary_key=True),
    Column("hypothesis_id", String(32), nullable=False, index=True),
    Column("step", String(16), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("text", Text),
    Column("expects", String(16)),
    Column("provisional_grade", String(32)),
    Column("rationale", Text),
)

links = Table(
    "hypothesis_links",
    metadata,
    Column("hypothesis_id", String(32), primary_key=True),
    Column("coding_id", String(32), primary_key=True),
    Column("stance", String(16), nullable=False),
    Column("code", String(255), nullable=False),
    Column("valence", String(16), nullable=False),
    Column("source_id", String(32), nullable=False),
    Column("case", String(128)),
    Column("actor", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("position", Integer, nullable=False),
    Column("current", Boolean, nullable=False),
    Index("ix_hypothesis_links_coding", "coding_id"),
)

checks = Table(
    "hypothesis_checks",
    metadata,
    Column("position", Integer, primary_key=True),
    Column("hypothesis_id", String(32), nullable=False, index=True),
    Column("actor", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("query", JSON, nullable=False),
    Column("contrary", JSON, nullable=False),
    Column("contrary_unlinked", JSON, nullable=False),
    Column("cases_not_considered", JSON, nullable=False),
    Column("counts", JSON, nullable=False),
)

bias_tiers = Table(
    "bias_tiers",
    metadata,
    Column("inspection_id", String(32), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("tier", String(32), nullable=False),
    Column("position", Integer, nullable=False),
)

bias_reviews = Table(
    "bias_reviews",
    metadata,
    Column("position", Integer, primary_key=True),
    Column("inspection_id", String(32), nullable=False, index=True),
    Column("actor", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("through", Integer, nullable=False),
    Column("area", String(64)),
    Column("checks", JSON, nullable=False),
    Column("findings", JSON, nullable=False),
)

_CODING_TOPICS = {CodingWithdrawn.TOPIC, CodingUnplaced.TOPIC, CodingRemapped.TOPIC}


class Hypotheses(Projection):
    name = "hypotheses"
    version = 1
    tables = (hypotheses_table, steps, links, checks, bias_tiers, bias_reviews)
    topics = frozenset({
        Stated.TOPIC, EvidenceLinked.TOPIC, Checked.TOPIC, Revised.TOPIC, Accepted.TOPIC, Rejected.TOPIC,
        TiersConfigured.TOPIC, Recorded.TOPIC, *_CODING_TOPICS,
    })

    def apply(self, conn: Connection, batch: Batch) -> None:
        pending: list[dict[str, Any]] = []  # consecutive coding updates, written with executemany
        for position, e in batch:
            if type(e).TOPIC in _CODING_TOPICS:
                pending.append({"cid": e.originator_id.hex, **_coding_change(e)})
                continue
            if pending:
                _flush(conn, pending)
                pending = []
            self._one(conn, position, e)
        if pending:
            _flush(conn, pending)

    def _one(self, conn: Connection, position: int, e: Any) -> None:
        hid = e.originator_id.hex
        row = {"hypothesis_id": hid, "position": position, "actor": e.actor, "at": e.timestamp}
        if isinstance(e, Stated):
            conn.execute(hypotheses_table.insert().values(
                id=hid, inspection_id=e.inspection.hex, area=e.area, text=e.text, codes=list(e.codes),
                expects=str(e.expects), provisional_grade=e.provisional_grade, status="open", author=e.actor,
                stated_at=e.timestamp, position=position, changed_position=position, checked_position=None,
            ))
            conn.execute(steps.insert().values(**row, step="stated", text=e.text, expects=str(e.expects),
                                               provisional_grade=e.provisional_grade))
        elif isinstance(e, EvidenceLinked):
            key = (links.c.hypothesis_id == hid) & (links.c.coding_id == e.coding.hex)
            conn.execute(links.delete().where(key))
            conn.execute(links.insert().values(
                hypothesis_id=hid, coding_id=e.coding.hex, stance=str(e.stance), code=e.code,
                valence=str(e.valence), source_id=e.source.hex, case=e.case, actor=e.actor, at=e.timestamp,
                position=position, current=True,
            ))
            conn.execute(update(hypotheses_table).where(hypotheses_table.c.id == hid)
                         .values(changed_position=position))
        elif isinstance(e, Checked):
            conn.execute(checks.insert().values(
                **row, query=_plain(e.query), contrary=[c.hex for c in e.contrary],
                contrary_unlinked=[c.hex for c in e.contrary_unlinked],
                cases_not_considered=list(e.cases_not_considered), counts=_plain(e.counts),
            ))
            conn.execute(update(hypotheses_table).where(hypotheses_table.c.id == hid)
                         .values(checked_position=position))
        elif isinstance(e, Revised):
            values: dict[str, Any] = {"text": e.text, "expects": str(e.expects),
                                      "provisional_grade": e.provisional_grade, "status": "open"}
            before = conn.execute(select(hypotheses_table.c.expects, hypotheses_table.c.provisional_grade)
                                  .where(hypotheses_table.c.id == hid)).one()
            if (before.expects, before.provisional_grade) != (values["expects"], values["provisional_grade"]):
                values["changed_position"] = position
            conn.execute(update(hypotheses_table).where(hypotheses_table.c.id == hid).values(**values))
            conn.execute(steps.insert().values(**row, step="revised", text=e.text, expects=str(e.expects),
                                               provisional_grade=e.provisional_grade, rationale=e.rationale))
        elif isinstance(e, Accepted | Rejected):
            status = "accepted" if isinstance(e, Accepted) else "rejected"
            conn.execute(update(hypotheses_table).where(hypotheses_table.c.id == hid).values(status=status))
            conn.execute(steps.insert().values(**row, step=status, rationale=e.rationale))
        elif isinstance(e, TiersConfigured):
            iid = e.inspection.hex
            for kind, tier in e.tiers.items():
                conn.execute(bias_tiers.delete().where((bias_tiers.c.inspection_id == iid) & (bias_tiers.c.kind == kind)))
                conn.execute(bias_tiers.insert().values(inspection_id=iid, kind=kind, tier=tier, position=position))
        elif isinstance(e, Recorded):
            conn.execute(bias_reviews.insert().values(
                position=position, inspection_id=e.inspection.hex, actor=e.actor, at=e.timestamp, through=e.through,
                area=e.area, checks=list(e.checks), findings=[_plain(f) for f in e.findings],
            ))


def _coding_change(e: Any) -> dict[str, Any]:
    if isinstance(e, CodingRemapped):
        return {"is_current": True, "new_source": e.source.hex}
    return {"is_current": False, "new_source": None}


def _flush(conn: Connection, pending: list[dict[str, Any]]) -> None:
    """Mark links to withdrawn or unplaced codings as not current, and follow remapped ones to their new source."""
    conn.execute(
        update(links).where(links.c.coding_id == bindparam("cid")).values(
            current=links.c.current & bindparam("is_current", type_=Boolean),
            source_id=func.coalesce(bindparam("new_source", type_=String), links.c.source_id),
        ),
        pending,
    )


def _plain(value: Any) -> Any:
    return msgspec.to_builtins(value)


# --- queries ---------------------------------------------------------------------------------------


def _hex(value: uuid.UUID | str) -> str:
    return value.hex if isinstance(value, uuid.UUID) else value


def _rows(conn: Connection, query: Any) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(query)]


def hypotheses(conn: Connection, inspection_id: uuid.UUID | str, area: str | None = None) -> list[dict[str, Any]]:
    """Every hypothesis of the inspection (of one area if given) with its links, checks and steps, as plain data.

    Each has ``checked_since_change``: a check was made after its last new link or change of direction.
    """
    query = select(hypotheses_table).where(hypotheses_table.c.inspection_id == _hex(inspection_id))
    if area is not None:
        query = query.where(hypotheses_table.c.area == area)
    heads = _rows(conn, query.order_by(hypotheses_table.c.position))
    if not heads:
        return []
    ids = [h["id"] for h in heads]
    by_id: dict[str, dict[str, list[dict[str, Any]]]] = {i: {"links": [], "checks": [], "steps": []} for i in ids}
    for table, key in ((links, "links"), (checks, "checks"), (steps, "steps")):
        order = (table.c.position, table.c.coding_id) if table is links else (table.c.position,)
        for row in _rows(conn, select(table).where(table.c.hypothesis_id.in_(ids)).order_by(*order)):
            row["at"] = iso(row["at"])
            by_id[row.pop("hypothesis_id")][key].append(row)
    out = []
    for head in heads:
        parts = by_id[head["id"]]
        current = [link for link in parts["links"] if link["current"]]
        out.append({
            "id": head["id"], "short": head["id"][:8], "area": head["area"], "text": head["text"],
            "codes": list(head["codes"]), "expects": head["expects"], "provisional_grade": head["provisional_grade"],
            "status": head["status"], "author": head["author"], "stated_at": iso(head["stated_at"]),
            "position": head["position"],
            "checked_since_change": head["checked_position"] is not None
            and head["checked_position"] > head["changed_position"],
            "supports": sum(link["stance"] == "supports" for link in current),
            "contradicts": sum(link["stance"] == "contradicts" for link in current),
            "neutral": sum(link["stance"] == "neutral" for link in current),
            **parts,
        })
    return out


def hypothesis(conn: Connection, hypothesis_id: uuid.UUID | str) -> dict[str, Any] | None:
    """One hypothesis as ``hypotheses`` gives it, or None."""
    row = conn.execute(select(hypotheses_table.c.inspection_id, hypotheses_table.c.area)
                       .where(hypotheses_table.c.id == _hex(hypothesis_id))).first()
    if row is None:
        return None
    return next(h for h in hypotheses(conn, row.inspection_id, row.area) if h["id"] == _hex(hypothesis_id))


_STANCE_CELL = {"supports": "consistent", "contradicts": "inconsistent", "neutral": "neutral"}


def _inferred(valence: str, expects: str) -> str:
    if valence == "neutral":
        return "neutral"
    return "consistent" if valence == expects else "inconsistent"


def matrix(conn: Connection, inspection_id: uuid.UUID | str, area: str) -> dict[str, Any]:
    """The competing-hypotheses matrix of an area: hypotheses x linked current codings.

    A cell is the stance the coding was linked with, or, where it was not linked to that hypothesis, what its
    valence says against the hypothesis's direction (``linked`` tells which). Evidence that reads the same
    (consistent, or neutral) against every one of two or more hypotheses cannot tell them apart: non-diagnostic.
    """
    heads = hypotheses(conn, inspection_id, area)
    evidence: dict[str, dict[str, Any]] = {}
    for head in heads:
        for link in head["links"]:
            if link["current"]:
                seen = evidence.setdefault(link["coding_id"], {**link, "stances": {}})
                seen["position"] = min(seen["position"], link["position"])
                seen["stances"][head["id"]] = link["stance"]
    rows = []
    for item in sorted(evidence.values(), key=lambda i: (i["position"], i["coding_id"])):
        cells = []
        for head in heads:
            stance = item["stances"].get(head["id"])
            cell = _STANCE_CELL[stance] if stance else _inferred(item["valence"], head["expects"])
            cells.append({"hypothesis": head["id"], "cell": cell, "linked": stance is not None})
        kinds = {c["cell"] for c in cells}
        rows.append({
            "coding": item["coding_id"], "short": item["coding_id"][:8], "code": item["code"],
            "valence": item["valence"], "source": item["source_id"], "case": item["case"], "cells": cells,
            "diagnostic": not (len(heads) >= 2 and len(kinds) == 1 and kinds <= {"consistent", "neutral"}),
        })
    summary = []
    for index, head in enumerate(heads):
        column = [row["cells"][index]["cell"] for row in rows if row["diagnostic"]]
        summary.append({"hypothesis": head["id"], **{k: column.count(k) for k in ("consistent", "inconsistent",
                                                                                   "neutral")}})
    return {
        "area": area,
        "hypotheses": [{k: h[k] for k in ("id", "short", "text", "expects", "provisional_grade", "status")}
                       for h in heads],
        "evidence": rows,
        "diagnostic_summary": summary,
    }


def tiers(conn: Connection, inspection_id: uuid.UUID | str) -> dict[str, dict[str, Any]]:
    """The tiers the inspection configured: kind -> {tier, position of the event that set it}."""
    query = select(bias_tiers).where(bias_tiers.c.inspection_id == _hex(inspection_id)).order_by(bias_tiers.c.kind)
    return {r["kind"]: {"tier": r["tier"], "position": r["position"]} for r in _rows(conn, query)}


def bias_review_history(conn: Connection, inspection_id: uuid.UUID | str) -> list[dict[str, Any]]:
    """Every recorded bias review of the inspection, in ledger order, with its findings as kept."""
    query = select(bias_reviews).where(bias_reviews.c.inspection_id == _hex(inspection_id))
    out = _rows(conn, query.order_by(bias_reviews.c.position))
    for row in out:
        row["at"] = iso(row["at"])
        row.pop("inspection_id")
    return out
