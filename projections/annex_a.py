"""Annex A items as a table, and the cost-benefit of each item: what it cost against how its evidence was used.

``cost_benefit`` weighs each item (1-11) by what the authority declared it cost to produce against the current
sources that came from it, the codings on them, and the citations of those codings in the grounds each
judgment now rests on (its latest proposal or revision). Items never cited are flagged. Money stays in whole
pence and hours in decimal strings, so the figures are exact and the same after a rebuild.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sqlalchemy import Boolean, Column, DateTime, Integer, String, Table, Text, select, update

from ledger.annex_a import ITEMS, CostDeclared, ItemRequested
from projections.base import Batch, Projection, metadata
from projections.sources import as_utc, iso

if TYPE_CHECKING:
    from sqlalchemy import Connection

items_table = Table(
    "annex_a_items",
    metadata,
    Column("inspection_id", String(32), primary_key=True),
    Column("item", Integer, primary_key=True),
    Column("requested", Boolean, nullable=False),
    Column("requested_at", DateTime(timezone=True)),
    Column("requested_by", String(64)),
    Column("request_note", Text, nullable=False),
    Column("hours", String(32)),
    Column("pence", Integer),
    Column("declared_at", DateTime(timezone=True)),
    Column("declared_by", String(64)),
    Column("cost_note", Text, nullable=False),
    Column("declarations", Integer, nullable=False),
    Column("position", Integer, nullable=False),
)


class AnnexA(Projection):
    """One row per inspection and Annex A item that was requested or costed."""

    name = "annex_a"
    tables = (items_table,)
    topics = frozenset({ItemRequested.TOPIC, CostDeclared.TOPIC})

    def apply(self, conn: Connection, batch: Batch) -> None:
        # Annex A events are a handful per inspection, so a read-then-write per event is cheap enough.
        for position, e in batch:
            key = (items_table.c.inspection_id == e.inspection.hex) & (items_table.c.item == e.item)
            row = conn.execute(select(items_table.c.declarations).where(key)).first()
            if isinstance(e, ItemRequested):
                values: dict[str, Any] = {
                    "requested": True, "requested_at": as_utc(e.timestamp), "requested_by": e.actor,
                    "request_note": e.note, "position": position,
                }
            else:
                values = {
                    "hours": e.hours, "pence": e.pence, "declared_at": as_utc(e.timestamp), "declared_by": e.actor,
                    "cost_note": e.note, "declarations": (row.declarations if row else 0) + 1, "position": position,
                }
            if row is None:
                blank = {"requested": False, "request_note": "", "cost_note": "", "declarations": 0}
                conn.execute(items_table.insert().values(
                    inspection_id=e.inspection.hex, item=e.item, **(blank | values)
                ))
            else:
                conn.execute(update(items_table).where(key).values(**values))


# --- queries ---------------------------------------------------------------------------------


def _hex(value: str | UUID) -> str:
    return value.hex if isinstance(value, UUID) else value.replace("-", "").lower()


def pounds(pence: int | None) -> str | None:
    """Whole pence as pounds with two decimals ("1250.50"), or None."""
    return None if pence is None else f"{pence // 100}.{pence % 100:02d}"


def items(conn: Connection, inspection_id: str | UUID) -> list[dict[str, Any]]:
    """Every Annex A item (1-11) with whether it was requested and what it was declared to cost."""
    rows = {
        r.item: r
        for r in conn.execute(select(items_table).where(items_table.c.inspection_id == _hex(inspection_id)))
    }
    out = []
    for number, name in ITEMS.items():
        r = rows.get(number)
        out.append({
            "item": number, "name": name, "requested": bool(r and r.requested),
            "requested_at": iso(r.requested_at) if r else None, "requested_by": r.requested_by if r else None,
            "request_note": r.request_note if r else "", "hours": r.hours if r else None,
            "pence": r.pence if r else None, "pounds": pounds(r.pence) if r else None,
            "declared_at": iso(r.declared_at) if r else None, "declared_by": r.declared_by if r else None,
            "cost_note": r.cost_note if r else "", "declarations": r.declarations if r else 0,
        })
    return out


def _per(amount: Decimal, count: int, places: str) -> Decimal:
    return (amount / count).quantize(Decimal(places), ROUND_HALF_UP)


def cost_benefit(conn: Connection, inspection_id: str | UUID) -> dict[str, Any]:
    """Per Annex A item: its cost, current sources from it, their codings, the citations in judgments, and the
    cost per citation; ``never_cited`` marks items whose evidence no judgment rests on. The totals' cost per
    citation counts only the citations of items with a declared cost of that kind (hours, or pounds)."""
    from projections import evidence
    from projections.judgments import judgments

    iid = _hex(inspection_id)
    item_of = {s["id"]: s["annex_a"] for s in evidence.sources(conn, iid)}
    current = [s for s in evidence.sources(conn, iid, current_only=True) if s["annex_a"] is not None]
    codings = [c for c in evidence.codings(conn, iid) if item_of.get(c["source"]) is not None]
    coding_item = {c["id"]: item_of[c["source"]] for c in codings}
    cited: dict[int, list[tuple[str, str]]] = {}
    for judgment in judgments(conn, iid):
        grounds = judgment["proposals"][-1]["codings"] if judgment["proposals"] else []
        for coding in grounds:
            if coding in coding_item:
                cited.setdefault(coding_item[coding], []).append((judgment["area"], coding))
    out = []
    for row in items(conn, iid):
        number = row["item"]
        pairs = cited.get(number, [])
        mine = [c for c in codings if item_of[c["source"]] == number]
        hours = Decimal(row["hours"]) if row["hours"] is not None else None
        supplied = row["requested"] or row["declarations"] > 0 or any(s["annex_a"] == number for s in current)
        out.append(row | {
            "sources": sum(1 for s in current if s["annex_a"] == number),
            "codings": len(mine),
            "strengths": sum(1 for c in mine if c["valence"] == "strength"),
            "weaknesses": sum(1 for c in mine if c["valence"] == "weakness"),
            "citations": len(pairs),
            "cited_codings": len({c for _, c in pairs}),
            "areas": sorted({a for a, _ in pairs}),
            "hours_per_citation": str(_per(hours, len(pairs), "0.01")) if hours is not None and pairs else None,
            "pence_per_citation": int(_per(Decimal(row["pence"]), len(pairs), "1"))
            if row["pence"] is not None and pairs else None,
            "supplied": supplied,
            "never_cited": not pairs,
        })
    costed = [r for r in out if r["hours"] is not None or r["pence"] is not None]
    total_hours = sum((Decimal(r["hours"]) for r in costed if r["hours"] is not None), Decimal(0))
    total_pence = sum(r["pence"] for r in costed if r["pence"] is not None)
    hour_citations = sum(r["citations"] for r in costed if r["hours"] is not None)
    pence_citations = sum(r["citations"] for r in costed if r["pence"] is not None)
    return {
        "items": out,
        "total_hours": format(total_hours.normalize(), "f"),
        "total_pence": total_pence,
        "total_pounds": pounds(total_pence),
        "citations": sum(r["citations"] for r in out),
        "hours_per_citation": str(_per(total_hours, hour_citations, "0.01")) if hour_citations else None,
        "pence_per_citation": int(_per(Decimal(total_pence), pence_citations, "1")) if pence_citations else None,
        "never_cited": [r["item"] for r in out if r["supplied"] and r["never_cited"]],
    }
