"""Sources as tables: provenance in ``sources``, the exact text in ``source_texts``, and the search index.

The text lives apart from the provenance so that listing and joining sources never reads the (large) texts.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, Column, Date, DateTime, Index, Integer, String, Table, Text, bindparam, select, update

from ledger.source import Registered, Superseded, Withdrawn
from projections import search
from projections.base import Batch, Projection, metadata

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from sqlalchemy import Connection, Dialect

sources = Table(
    "sources",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("inspection_id", String(32), nullable=False),
    Column("title", String, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("case_ref", String),
    Column("annex_a", Integer),
    Column("tier", String(32)),
    Column("format", String(32), nullable=False),
    Column("filename", String, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("length", Integer, nullable=False),
    Column("collected_at", DateTime(timezone=True)),
    Column("collector", String(64), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("registered_on", Date, nullable=False),
    Column("supersedes", String(32)),
    Column("superseded_by", String(32)),
    Column("withdrawn", Boolean, nullable=False),
    Column("withdrawn_at", DateTime(timezone=True)),
    Column("position", Integer, nullable=False),
    Index("sources_by_inspection", "inspection_id", "position"),
)

source_texts = Table(
    "source_texts",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("text", Text, nullable=False),
)


def insert_rows(conn: Connection, table: Table, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert tuples of driver-ready values, in the table's column order, with one executemany.

    SQLAlchemy's per-row parameter handling costs more than the insert itself at rebuild rates, so the rows go
    to the driver as they are: times and dates must come through ``time_writer`` and ``date_writer``.
    """
    if not rows:
        return
    dialect = conn.dialect
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    names = ", ".join(dialect.identifier_preparer.quote(c.name) for c in table.columns)
    conn.exec_driver_sql(
        f"INSERT INTO {table.name} ({names}) VALUES ({', '.join([marker] * len(table.columns))})",  # noqa: S608
        list(rows),
    )


def time_writer(dialect: Dialect) -> Callable[[datetime], Any]:
    """How ``insert_rows`` stores a UTC time: PostgreSQL takes it as is; SQLite gets SQLAlchemy's storage format
    (``2017-01-09 08:00:02.000000``), written by the C ``isoformat`` (tests check the two agree)."""
    if dialect.name == "sqlite":
        return lambda moment: moment.replace(tzinfo=None).isoformat(" ", "microseconds")
    return lambda moment: moment


def date_writer(dialect: Dialect) -> Callable[[date], Any]:
    """How ``insert_rows`` stores a date (``2017-01-09`` on SQLite, as SQLAlchemy does)."""
    if dialect.name == "sqlite":
        return lambda day: day.isoformat()
    return lambda day: day


def as_utc(moment: datetime | None) -> datetime | None:
    """A time in UTC: SQLite hands back naive times (stored as UTC), PostgreSQL times in the session's zone."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso(moment: datetime | None) -> str | None:
    """A stored time as ISO 8601 in UTC (the same string on SQLite and PostgreSQL)."""
    utc = as_utc(moment)
    return utc.isoformat() if utc is not None else None


class Sources(Projection):
    """Every registered source with its provenance, supersession and withdrawal, and the search index."""

    name = "sources"
    tables = (sources, source_texts, search.index_table)
    topics = frozenset({Registered.TOPIC, Superseded.TOPIC, Withdrawn.TOPIC})

    def apply(self, conn: Connection, batch: Batch) -> None:
        rows: list[dict[str, Any]] = []
        texts: list[dict[str, Any]] = []
        superseded: list[dict[str, Any]] = []
        withdrawn: list[dict[str, Any]] = []
        for position, e in batch:
            sid = e.originator_id.hex
            if isinstance(e, Registered):
                registered_at = as_utc(e.timestamp)
                assert registered_at is not None
                rows.append({
                    "id": sid, "inspection_id": e.inspection.hex, "title": e.title, "kind": str(e.kind),
                    "case_ref": e.case, "annex_a": e.annex_a, "tier": e.tier, "format": e.format,
                    "filename": e.filename, "content_hash": e.content_hash, "length": len(e.text),
                    "collected_at": as_utc(e.collected_at), "collector": e.actor, "registered_at": registered_at,
                    "registered_on": registered_at.date(), "supersedes": e.supersedes.hex if e.supersedes else None,
                    "superseded_by": None, "withdrawn": False, "withdrawn_at": None, "position": position,
                })
                texts.append({"id": sid, "text": e.text, "position": position, "inspection_id": e.inspection.hex})
            elif isinstance(e, Superseded):
                superseded.append({"b_id": sid, "b_by": e.by.hex})
            elif isinstance(e, Withdrawn):
                withdrawn.append({"b_id": sid, "b_at": as_utc(e.timestamp)})
        # Inserts first: an update in this batch always follows its row's insert in ledger order, and the two
        # kinds of update touch different columns, so their relative order does not matter.
        if rows:
            conn.execute(sources.insert(), rows)
            conn.execute(source_texts.insert(), [{"id": t["id"], "text": t["text"]} for t in texts])
            search.add(conn, [{"source_id": t["id"], **t} for t in texts])
        key = sources.c.id == bindparam("b_id")
        if superseded:
            conn.execute(update(sources).where(key).values(superseded_by=bindparam("b_by")), superseded)
        if withdrawn:
            conn.execute(update(sources).where(key).values(withdrawn=True, withdrawn_at=bindparam("b_at")), withdrawn)
        gone = [p["b_id"] for p in (*superseded, *withdrawn)]
        if gone:
            query = select(sources.c.position).where(sources.c.id.in_(bindparam("ids", expanding=True)))
            search.remove(conn, conn.execute(query, {"ids": gone}).scalars())
