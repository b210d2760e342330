"""Memos as a table: the current text of each memo, its target, and how often it was amended.

Earlier texts stay in the ledger (``evidence log``); the table keeps the count and time of the last amendment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, DateTime, Index, Integer, String, Table, Text, bindparam, insert, update

from ledger.memo import Amended, Written
from projections.base import Batch, Projection, metadata
from projections.sources import as_utc

if TYPE_CHECKING:
    from sqlalchemy import Connection

memos = Table(
    "memos",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("inspection_id", String(32), nullable=False),
    Column("target_kind", String(16), nullable=False),
    Column("target", String(255), nullable=False),
    Column("text", Text, nullable=False),
    Column("author", String(64), nullable=False),
    Column("written_at", DateTime(timezone=True), nullable=False),
    Column("amended_at", DateTime(timezone=True)),
    Column("amendments", Integer, nullable=False),
    Column("position", Integer, nullable=False),
    Index("memos_by_target", "inspection_id", "target_kind", "target", "position"),
)


class Memos(Projection):
    """Every memo with its current text."""

    name = "memos"
    tables = (memos,)
    topics = frozenset({Written.TOPIC, Amended.TOPIC})

    def apply(self, conn: Connection, batch: Batch) -> None:
        written: list[dict[str, Any]] = []
        amended: list[dict[str, Any]] = []
        for position, e in batch:
            if isinstance(e, Written):
                written.append({
                    "id": e.originator_id.hex, "inspection_id": e.inspection.hex, "target_kind": e.target_kind,
                    "target": e.target, "text": e.text, "author": e.actor, "written_at": as_utc(e.timestamp),
                    "amended_at": None, "amendments": 0, "position": position,
                })
            elif isinstance(e, Amended):
                amended.append({"b_id": e.originator_id.hex, "b_text": e.text, "b_at": as_utc(e.timestamp)})
        if written:
            conn.execute(insert(memos), written)
        if amended:  # in ledger order, so the last amendment's text wins
            conn.execute(
                update(memos)
                .where(memos.c.id == bindparam("b_id"))
                .values(text=bindparam("b_text"), amended_at=bindparam("b_at"), amendments=memos.c.amendments + 1),
                amended,
            )
