"""Collect an inspection's current state from the projections as plain data for ``plugins.refi.writer``.

Current means: merged codes are left out (their codings count under the code they went into, and their
children move up to the nearest exported ancestor); only sources that are neither withdrawn nor superseded
travel, with the codings that stand on them now; withdrawn and unplaced codings stay behind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from plugins.refi.writer import (
    ExportCode,
    ExportCoding,
    ExportMemo,
    ExportSource,
    ProjectExport,
)
from projections import evidence

if TYPE_CHECKING:
    from sqlalchemy import Connection


def _category(row: dict[str, Any], rows: list[dict[str, Any]]) -> bool:
    """An area-level framework code that holds other codes and no codings of its own is a REFI category."""
    has_children = any(other["parent"] == row["id"] for other in rows)
    return row["origin"] == "framework" and row["parent"] is None and has_children and row["codings"] == 0


def codes(conn: Connection, inspection_id: str) -> tuple[ExportCode, ...]:
    """The code tree as it stands, depth first, parents before children."""
    rows = evidence.code_tree(conn, inspection_id)
    by_id = {row["id"]: row for row in rows}
    kept = {row["id"] for row in rows if row["status"] != "merged"}
    out = []
    for row in rows:
        if row["id"] not in kept:
            continue
        parent = row["parent"]
        while parent is not None and parent not in kept:
            parent = by_id[parent]["parent"] if parent in by_id else None
        out.append(ExportCode(id=row["id"], label=row["label"], parent=parent, description=row["description"],
                              codable=not _category(row, rows)))
    return tuple(out)


def project(conn: Connection, inspection_id: str, name: str, names: dict[str, str]) -> ProjectExport:
    """Everything a .qdpx carries for one inspection; ``names`` maps person ids to display names."""
    current = evidence.sources(conn, inspection_id, current_only=True)
    ids = {row["id"] for row in current}
    sources = tuple(
        ExportSource(id=row["id"], title=row["title"], text=evidence.source_text(conn, row["id"]),
                     collector=row["collector"], registered_at=row["registered_at"])
        for row in current
    )
    codings = tuple(
        ExportCoding(id=row["id"], source=row["source"], start=row["start"], end=row["end"], code=row["code"],
                     coder=row["coder"], coded_at=row["coded_at"])
        for row in evidence.codings(conn, inspection_id, context=0)
        if row["source"] in ids and not row["unplaced"]
    )
    memos = tuple(
        ExportMemo(id=row["id"], target_kind=row["target_kind"], target=row["target"], text=row["text"],
                   author=row["author"], written_at=row["written_at"])
        for row in evidence.memos(conn, inspection_id)
    )
    people = {s.collector for s in sources} | {c.coder for c in codings} | {m.author for m in memos}
    return ProjectExport(
        name=name, users={p: names.get(p, p) for p in sorted(people)}, codes=codes(conn, inspection_id),
        sources=sources, codings=codings, memos=memos,
    )
