"""Inspections and their teams, as tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Column, Date, DateTime, Integer, String, Table, select, update

from ledger.inspection import MemberJoined, Opened, StageEntered
from projections.base import Batch, Projection, metadata

if TYPE_CHECKING:
    from sqlalchemy import Connection

inspections = Table(
    "inspections",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("reference", String(64), unique=True, nullable=False),
    Column("authority", String, nullable=False),
    Column("framework", String(64), nullable=False),
    Column("starts", Date),
    Column("ends", Date),
    Column("stage", String(32), nullable=False),
    Column("lead", String(64), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("position", Integer, nullable=False),
)

members = Table(
    "inspection_members",
    metadata,
    Column("inspection_id", String(32), primary_key=True),
    Column("person", String(64), primary_key=True),
    Column("role", String(32), nullable=False),
    Column("display_name", String, nullable=False),
    Column("joined_at", DateTime(timezone=True), nullable=False),
)


class Inspections(Projection):
    name = "inspections"
    tables = (inspections, members)
    topics = frozenset({Opened.TOPIC, MemberJoined.TOPIC, StageEntered.TOPIC})

    def apply(self, conn: Connection, batch: Batch) -> None:
        for position, e in batch:
            iid = e.originator_id.hex
            if isinstance(e, Opened):
                conn.execute(
                    inspections.insert().values(
                        id=iid, reference=e.reference, authority=e.authority, framework=e.framework,
                        starts=e.starts, ends=e.ends, stage="preparation", lead=e.actor,
                        opened_at=e.timestamp, position=position,
                    )
                )
                conn.execute(
                    members.insert().values(
                        inspection_id=iid, person=e.actor, role=str(e.role), display_name=e.actor,
                        joined_at=e.timestamp,
                    )
                )
            elif isinstance(e, MemberJoined):
                key = (members.c.inspection_id == iid) & (members.c.person == e.person)
                values = {"role": str(e.member_role), "display_name": e.display_name}
                if conn.execute(select(members.c.person).where(key)).first():
                    conn.execute(update(members).where(key).values(**values))
                else:
                    conn.execute(
                        members.insert().values(inspection_id=iid, person=e.person, joined_at=e.timestamp, **values)
                    )
            elif isinstance(e, StageEntered):
                conn.execute(update(inspections).where(inspections.c.id == iid).values(stage=str(e.stage)))
