"""Read models rebuilt from the log: each projection commits its rows and its position in one transaction.

A projection receives events in batches (``apply(conn, batch)``) so that it can write with ``executemany``;
rebuilding streams the log, so memory stays flat in the number of events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import Column, Integer, MetaData, String, Table, select, update

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from sqlalchemy import Connection, Engine

    from ledger.application import Ledger
    from ledger.events import Event

metadata = MetaData()

tracking = Table(
    "projection_tracking",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("position", Integer, nullable=False),
)

Batch = list[tuple[int, "Event"]]
BATCH_SIZE = 5000


class Projection:
    """A read model: its tables, the topics it reads, and how a batch of events changes it."""

    name: ClassVar[str]
    version: ClassVar[int] = 1
    tables: ClassVar[tuple[Table, ...]] = ()
    topics: ClassVar[frozenset[str]] = frozenset()

    def apply(self, conn: Connection, batch: Batch) -> None:
        raise TypeError(f"Projection {self.name} must define apply().")


def _ensure(engine: Engine, projections: Sequence[Projection]) -> dict[str, int]:
    """Create missing tables; reset projections whose version changed. Returns name -> position."""
    metadata.create_all(engine, checkfirst=True)
    with engine.connect().execution_options(immediate=True) as conn, conn.begin():
        rows = {r.name: (r.version, r.position) for r in conn.execute(select(tracking))}
        positions = {}
        for projection in projections:
            version, position = rows.get(projection.name, (None, 0))
            if version != projection.version:
                for table in reversed(projection.tables):
                    conn.execute(table.delete())
                if version is None:
                    conn.execute(tracking.insert().values(name=projection.name, version=projection.version, position=0))
                else:
                    conn.execute(
                        update(tracking)
                        .where(tracking.c.name == projection.name)
                        .values(version=projection.version, position=0)
                    )
                position = 0
            positions[projection.name] = position
    return positions


def _commit(engine: Engine, projections: Sequence[Projection], batch: Batch) -> None:
    """Apply one batch to every projection that has not seen it, with the positions, in one transaction."""
    last = batch[-1][0]
    with engine.connect().execution_options(immediate=True) as conn, conn.begin():
        query = select(tracking.c.name, tracking.c.position)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        seen = dict(conn.execute(query).all())
        for projection in projections:
            after = seen.get(projection.name, 0)
            if after >= last:
                continue
            wanted = projection.topics
            items = [(p, e) for p, e in batch if p > after and (not wanted or type(e).TOPIC in wanted)]
            if items:
                projection.apply(conn, items)
            conn.execute(update(tracking).where(tracking.c.name == projection.name).values(position=last))


def catch_up(ledger: Ledger, engine: Engine, projections: Sequence[Projection]) -> int:
    """Bring every projection up to the end of the log; returns the number of events read."""
    positions = _ensure(engine, projections)
    start = min(positions.values(), default=0)
    if start >= ledger.last_position():
        return 0
    count = 0
    batch: Batch = []
    for item in ledger.history(after=start):
        batch.append(item)
        if len(batch) >= BATCH_SIZE:
            _commit(engine, projections, batch)
            count += len(batch)
            batch = []
    if batch:
        _commit(engine, projections, batch)
        count += len(batch)
    return count


def rebuild(ledger: Ledger, engine: Engine, projections: Sequence[Projection]) -> int:
    """Drop every projection's rows and replay the whole log into them."""
    metadata.create_all(engine, checkfirst=True)
    with engine.connect().execution_options(immediate=True) as conn, conn.begin():
        for projection in projections:
            for table in reversed(projection.tables):
                conn.execute(table.delete())
            conn.execute(tracking.delete().where(tracking.c.name == projection.name))
    return catch_up(ledger, engine, projections)


def status(ledger: Ledger, engine: Engine, projections: Iterable[Projection]) -> list[dict[str, object]]:
    """Plain data: each projection's position against the end of the log."""
    metadata.create_all(engine, checkfirst=True)
    head = ledger.last_position()
    with engine.connect() as conn:
        rows = {r.name: r for r in conn.execute(select(tracking))}
    out = []
    for projection in projections:
        row = rows.get(projection.name)
        position = row.position if row is not None and row.version == projection.version else 0
        out.append(
            {"name": projection.name, "version": projection.version, "position": position, "behind": head - position}
        )
    return out
