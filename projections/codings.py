"""The code tree and the codings, as tables.

``codes`` holds each inspection's codebook as it stands now (labels, parents, retired and merged codes with the
code they went into). ``codings`` holds each coding act with the code it was made under; a merge changes no coding
row - queries follow ``merged_into`` (see ``CodeTree``), so a coding under a merged code counts under its target.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean, Column, Date, DateTime, Index, Integer, String, Table, Text, insert, select, update,
)

from ledger.codebook import CodebookAdopted, CodeDefined, CodeMoved, CodeRenamed, CodeRetired, CodesMerged
from ledger.coding import CodingRemapped, CodingUnplaced, CodingWithdrawn, SegmentCoded
from projections.base import Batch, Projection, metadata
from projections.sources import as_utc, date_writer, insert_rows, time_writer

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from ledger.codebook import Code
    from ledger.events import Event

codebooks = Table(
    "codebooks",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("inspection_id", String(32), nullable=False, unique=True),
)

codes = Table(
    "codes",
    metadata,
    Column("inspection_id", String(32), primary_key=True),
    Column("id", String(255), primary_key=True),
    Column("label", String, nullable=False),
    Column("parent", String(255)),
    Column("description", Text, nullable=False),
    Column("facet", String(16)),
    Column("origin", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("merged_into", String(255)),
    Column("defined_by", String(64), nullable=False),
    Column("defined_at", DateTime(timezone=True), nullable=False),
    Column("position", Integer, nullable=False),
    Column("ordinal", Integer, nullable=False),
)

codings = Table(
    "codings",
    metadata,
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("id", String(32), nullable=False),
    Column("inspection_id", String(32), nullable=False),
    Column("source_id", String(32), nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("code", String(255), nullable=False),
    Column("valence", String(16), nullable=False),
    Column("band", String(32)),
    Column("note", Text, nullable=False),
    Column("coder", String(64), nullable=False),
    Column("coded_at", DateTime(timezone=True), nullable=False),
    Column("coded_on", Date, nullable=False),
    Column("round_id", String(32)),
    Column("quote_hash", String(64), nullable=False),
    Index("codings_by_code", "inspection_id", "code", "position"),
)

changes = Table(
    "coding_changes",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("withdrawn", Boolean, nullable=False),
    Column("unplaced", Boolean, nullable=False),
    Column("source_id", String(32)),
    Column("start", Integer),
    Column("end", Integer),
)

CODEBOOK_TOPICS = frozenset({
    CodebookAdopted.TOPIC, CodeDefined.TOPIC, CodeRenamed.TOPIC, CodeMoved.TOPIC, CodesMerged.TOPIC,
    CodeRetired.TOPIC,
})
CODING_TOPICS = frozenset({SegmentCoded.TOPIC, CodingWithdrawn.TOPIC, CodingRemapped.TOPIC, CodingUnplaced.TOPIC})


class Codings(Projection):
    """Each inspection's code tree, and every coding with where it stands now (remapped, withdrawn...).

    ``codings`` is keyed by the ledger position of each ``Coding.SegmentCoded`` and indexed only by code, so a
    rebuild appends to it: an index on a random id would rewrite pages all over the file on every batch.
    What happened to a coding afterwards (withdrawn, remapped onto a new source version, unplaced) goes to the
    small ``coding_changes`` table, keyed by coding id, which queries join.
    """

    name = "codings"
    tables = (codebooks, codes, codings, changes)
    topics = CODEBOOK_TOPICS | CODING_TOPICS

    def apply(self, conn: Connection, batch: Batch) -> None:
        coded: list[tuple[Any, ...]] = []
        withdrawn: list[dict[str, Any]] = []
        remapped: list[dict[str, Any]] = []
        unplaced: list[dict[str, Any]] = []
        stored_time, stored_date = time_writer(conn.dialect), date_writer(conn.dialect)
        for position, e in batch:
            if isinstance(e, SegmentCoded):
                at = as_utc(e.timestamp)
                assert at is not None
                coded.append((  # the columns of ``codings``, in order
                    position, e.originator_id.hex, e.inspection.hex, e.source.hex, e.start, e.end, e.code,
                    str(e.valence), e.band, e.note, e.actor, stored_time(at), stored_date(at.date()),
                    e.round.hex if e.round else None, e.quote_hash,
                ))
            elif isinstance(e, CodingWithdrawn):
                withdrawn.append(_change(e, withdrawn=True))
            elif isinstance(e, CodingRemapped):
                remapped.append(_change(e, source_id=e.source.hex, start=e.start, end=e.end))
            elif isinstance(e, CodingUnplaced):
                unplaced.append(_change(e, unplaced=True))
            else:
                _codebook_event(conn, position, e)
        insert_rows(conn, codings, coded)
        # Each kind of change sets its own columns, so their relative order does not matter; within a kind,
        # executemany keeps ledger order (a coding remapped twice ends on its last place).
        for rows, columns in ((withdrawn, ("withdrawn",)), (remapped, ("source_id", "start", "end")),
                              (unplaced, ("unplaced",))):
            if rows:
                _upsert(conn, rows, columns)


def _change(e: Event, **values: Any) -> dict[str, Any]:
    return {"id": e.originator_id.hex, "withdrawn": False, "unplaced": False, "source_id": None, "start": None,
            "end": None} | values


def _upsert(conn: Connection, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> None:
    """Insert change rows, or set only ``columns`` of a coding's existing row."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    statement = dialect_insert(changes)
    statement = statement.on_conflict_do_update(
        index_elements=[changes.c.id], set_={c: statement.excluded[c] for c in columns}
    )
    conn.execute(statement, rows)


def _codebook_event(conn: Connection, position: int, e: Event) -> None:
    """Change the code tree (codebook events are few; each is applied as it comes)."""
    book = e.originator_id.hex
    if isinstance(e, CodebookAdopted | CodeDefined):
        if not conn.execute(select(codebooks.c.id).where(codebooks.c.id == book)).first():
            conn.execute(insert(codebooks).values(id=book, inspection_id=e.inspection.hex))
        new = e.codes if isinstance(e, CodebookAdopted) else (e.code,)
        rows = [_code_row(e, c, position, i) for i, c in enumerate(new)]
        if rows:
            conn.execute(insert(codes), rows)
        return
    inspection = conn.execute(select(codebooks.c.inspection_id).where(codebooks.c.id == book)).scalar_one()
    mine = codes.c.inspection_id == inspection
    if isinstance(e, CodeRenamed):
        conn.execute(update(codes).where(mine, codes.c.id == e.code).values(label=e.label))
    elif isinstance(e, CodeMoved):
        conn.execute(update(codes).where(mine, codes.c.id == e.code).values(parent=e.parent))
    elif isinstance(e, CodeRetired):
        conn.execute(update(codes).where(mine, codes.c.id == e.code).values(status="retired"))
    elif isinstance(e, CodesMerged):
        conn.execute(
            update(codes).where(mine, codes.c.id.in_(e.merged)).values(status="merged", merged_into=e.into)
        )


def _code_row(e: CodebookAdopted | CodeDefined, code: Code, position: int, ordinal: int) -> dict[str, Any]:
    return {
        "inspection_id": e.inspection.hex, "id": code.id, "label": code.label, "parent": code.parent,
        "description": code.description, "facet": code.facet, "origin": code.origin, "status": "active",
        "merged_into": None, "defined_by": e.actor, "defined_at": as_utc(e.timestamp), "position": position,
        "ordinal": ordinal,
    }


class CodeTree:
    """One inspection's code tree as it stands, with merges followed: what ``--code X`` takes in."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = {r["id"]: r for r in rows}
        self.children: dict[str | None, list[str]] = {}
        for row in sorted(rows, key=lambda r: (r["position"], r["ordinal"])):
            parent = row["parent"] if row["parent"] in self.rows else None
            self.children.setdefault(parent, []).append(row["id"])

    @classmethod
    def load(cls, conn: Connection, inspection_id: str) -> CodeTree:
        query = select(codes).where(codes.c.inspection_id == inspection_id)
        return cls([dict(r._mapping) for r in conn.execute(query)])

    def current(self, code: str) -> str:
        """The code that now stands for ``code`` (following merges; a cycle cannot arise, merges need active codes)."""
        seen = {code}
        while (row := self.rows.get(code)) is not None and row["merged_into"] and row["merged_into"] not in seen:
            code = row["merged_into"]
            seen.add(code)
        return code

    def order(self) -> list[tuple[str, int]]:
        """(code, depth) depth-first in the order codes were brought in."""
        out: list[tuple[str, int]] = []
        todo = [(c, 0) for c in reversed(self.children.get(None, []))]
        while todo:
            code, depth = todo.pop()
            out.append((code, depth))
            todo.extend((c, depth + 1) for c in reversed(self.children.get(code, [])))
        return out

    def covered(self, code: str, *, with_children: bool) -> list[str]:
        """Every stored code whose codings count under ``code``: itself, codes merged into it, and (when asked)
        its descendants and what was merged into them, in tree order."""
        target = self.current(code)
        wanted = {target}
        if with_children:
            todo = [target]
            while todo:
                parent = todo.pop()
                aliases = [c for c in self.rows if self.current(c) == parent]
                for alias in aliases:
                    for child in self.children.get(alias, []):
                        if self.current(child) not in wanted:
                            wanted.add(self.current(child))
                            todo.append(self.current(child))
        return [c for c, _ in self.order() if self.current(c) in wanted] + sorted(
            c for c in wanted if c not in self.rows
        )
