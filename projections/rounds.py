"""Agreement rounds and calibration ratings as tables, and the one place that decides what blindness hides.

Blindness, while a round is open (see ``docs/agreement.md``):

* **its coders** each see only their own codings of the round's sources — any other person's coding of those
  sources is hidden from them, whenever it was made;
* **everyone else** does not see the round's codings (those its coders made on its sources since it opened),
  so nobody can pass them on.

Every command that shows codings calls :func:`hidden_for` (coding rows) or :func:`hidden_events_for` (raw
events), so listing, retrieval, export, the log and replay all hide the same things. A source that supersedes
one of an open round's sources joins the round, so remapped codings stay hidden.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy import Column, DateTime, Integer, String, Table, Text, select, update

from ledger.calibration import Created, Rated
from ledger.coding import CodingRemapped, CodingUnplaced, CodingWithdrawn, SegmentCoded
from ledger.memo import Amended, Written
from ledger.rounds import Closed, Opened
from ledger.source import Registered
from ledger.units import Coding
from projections.base import Batch, Projection, metadata
from projections.sources import iso

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from ledger.application import Ledger
    from ledger.events import Event

rounds = Table(
    "agreement_rounds",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("inspection_id", String(32), nullable=False, index=True),
    Column("number", Integer, nullable=False),
    Column("opened_by", String(64), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("opened_position", Integer, nullable=False),
    Column("closed_by", String(64)),
    Column("closed_at", DateTime(timezone=True)),
    Column("closed_position", Integer),
)

round_sources = Table(
    "agreement_round_sources",
    metadata,
    Column("round_id", String(32), primary_key=True),
    Column("source_id", String(32), primary_key=True),
    Column("ordinal", Integer, nullable=False),
    Column("replaces", String(32)),  # set when the source joined by superseding one of the round's sources
    Column("position", Integer, nullable=False),
)

round_coders = Table(
    "agreement_round_coders",
    metadata,
    Column("round_id", String(32), primary_key=True),
    Column("coder", String(64), primary_key=True),
    Column("ordinal", Integer, nullable=False),
)

calibrations = Table(
    "calibrations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("inspection_id", String(32), nullable=False, unique=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("position", Integer, nullable=False),
)

vignettes = Table(
    "calibration_vignettes",
    metadata,
    Column("calibration_id", String(32), primary_key=True),
    Column("vignette", String(64), primary_key=True),
    Column("ordinal", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
)

ratings = Table(
    "calibration_ratings",
    metadata,
    Column("calibration_id", String(32), primary_key=True),
    Column("rater", String(64), primary_key=True),
    Column("vignette", String(64), primary_key=True),
    Column("round", Integer, primary_key=True),
    Column("grade", String(32), nullable=False),
    Column("rated_at", DateTime(timezone=True), nullable=False),
    Column("position", Integer, nullable=False),
)


class Rounds(Projection):
    """Agreement rounds (with their sources and coders) and calibration exercises (with their ratings)."""

    name = "rounds"
    version = 1
    tables = (rounds, round_sources, round_coders, calibrations, vignettes, ratings)
    topics = frozenset({Opened.TOPIC, Closed.TOPIC, Registered.TOPIC, Created.TOPIC, Rated.TOPIC})

    def apply(self, conn: Connection, batch: Batch) -> None:
        rated: list[dict[str, Any]] = []
        for position, e in batch:
            if isinstance(e, Rated):
                rated.append({
                    "calibration_id": e.originator_id.hex, "rater": e.actor, "vignette": e.vignette,
                    "round": e.round, "grade": e.grade, "rated_at": e.timestamp, "position": position,
                })
            elif isinstance(e, Registered):
                if e.supersedes is not None:
                    _follow_supersession(conn, e, position)
            elif isinstance(e, Opened):
                _opened(conn, e, position)
            elif isinstance(e, Closed):
                conn.execute(
                    update(rounds).where(rounds.c.id == e.originator_id.hex)
                    .values(closed_by=e.actor, closed_at=e.timestamp, closed_position=position)
                )
            elif isinstance(e, Created):
                _created(conn, e, position)
        if rated:
            conn.execute(ratings.insert(), rated)


def _opened(conn: Connection, e: Opened, position: int) -> None:
    rid = e.originator_id.hex
    conn.execute(rounds.insert().values(
        id=rid, inspection_id=e.inspection.hex, number=e.number, opened_by=e.actor, opened_at=e.timestamp,
        opened_position=position,
    ))
    conn.execute(round_sources.insert(), [
        {"round_id": rid, "source_id": s.hex, "ordinal": i, "replaces": None, "position": position}
        for i, s in enumerate(e.sources)
    ])
    conn.execute(round_coders.insert(), [{"round_id": rid, "coder": c, "ordinal": i} for i, c in enumerate(e.coders)])


def _follow_supersession(conn: Connection, e: Registered, position: int) -> None:
    """A new version of an open round's source joins that round (its codings are remapped onto it)."""
    assert e.supersedes is not None
    open_rounds = conn.execute(
        select(round_sources.c.round_id)
        .join(rounds, rounds.c.id == round_sources.c.round_id)
        .where(round_sources.c.source_id == e.supersedes.hex, rounds.c.closed_position.is_(None))
        .order_by(round_sources.c.round_id)
    ).scalars().all()
    for rid in open_rounds:
        count = conn.execute(select(round_sources.c.ordinal).where(round_sources.c.round_id == rid)).all()
        conn.execute(round_sources.insert().values(
            round_id=rid, source_id=e.originator_id.hex, ordinal=len(count), replaces=e.supersedes.hex,
            position=position,
        ))


def _created(conn: Connection, e: Created, position: int) -> None:
    cid = e.originator_id.hex
    conn.execute(calibrations.insert().values(
        id=cid, inspection_id=e.inspection.hex, created_by=e.actor, created_at=e.timestamp, position=position,
    ))
    conn.execute(vignettes.insert(), [
        {"calibration_id": cid, "vignette": v.id, "ordinal": i, "title": v.title, "text": v.text}
        for i, v in enumerate(e.vignettes)
    ])


# --- reading rounds --------------------------------------------------------------------------


def _hex(value: object) -> str:
    """An id as 32 hex digits, whether given as a UUID or as text."""
    if isinstance(value, uuid.UUID):
        return value.hex
    return str(value).replace("-", "").lower()


def round_list(conn: Connection, inspection_id: uuid.UUID | str, *, only_open: bool = False) -> list[dict[str, Any]]:
    """Every round of the inspection in number order: its status, who opened and closed it, sources, coders."""
    query = select(rounds).where(rounds.c.inspection_id == _hex(inspection_id)).order_by(rounds.c.number)
    if only_open:
        query = query.where(rounds.c.closed_position.is_(None))
    found = [dict(r._mapping) for r in conn.execute(query)]
    if not found:
        return []
    ids = [r["id"] for r in found]
    srcs: dict[str, list[str]] = defaultdict(list)
    for row in conn.execute(
        select(round_sources).where(round_sources.c.round_id.in_(ids))
        .order_by(round_sources.c.round_id, round_sources.c.ordinal)
    ):
        srcs[row.round_id].append(row.source_id)
    coders: dict[str, list[str]] = defaultdict(list)
    for row in conn.execute(
        select(round_coders).where(round_coders.c.round_id.in_(ids))
        .order_by(round_coders.c.round_id, round_coders.c.ordinal)
    ):
        coders[row.round_id].append(row.coder)
    return [
        r | {
            "opened_at": iso(r["opened_at"]), "closed_at": iso(r["closed_at"]), "open": r["closed_position"] is None,
            "sources": srcs[r["id"]], "coders": coders[r["id"]],
        }
        for r in found
    ]


def _all_open_rounds(conn: Connection) -> list[dict[str, Any]]:
    inspections = conn.execute(
        select(rounds.c.inspection_id).where(rounds.c.closed_position.is_(None)).distinct()
        .order_by(rounds.c.inspection_id)
    ).scalars().all()
    return [r for iid in inspections for r in round_list(conn, iid, only_open=True)]


# --- blindness ---------------------------------------------------------------------------------


class _Rule:
    """What open rounds hide from one viewer: a test on (source, coder, position of the coding)."""

    def __init__(self, open_rounds: list[dict[str, Any]], viewer: str) -> None:
        # Sources of rounds the viewer codes in: only the viewer's own codings of them show.
        self.own_only: set[str] = set()
        # Rounds the viewer does not code in: source -> [(coders, opened position)], their codings are sealed.
        self.sealed: dict[str, list[tuple[frozenset[str], int]]] = defaultdict(list)
        for r in open_rounds:
            if viewer in r["coders"]:
                self.own_only.update(r["sources"])
            else:
                for source in r["sources"]:
                    self.sealed[source].append((frozenset(r["coders"]), r["opened_position"]))
        self.viewer = viewer
        self.empty = not self.own_only and not self.sealed

    def hides(self, source: str, coder: str, position: int | None) -> bool:
        if coder == self.viewer:
            return False
        if source in self.own_only:
            return True
        return any(
            coder in coders and (position is None or position > opened)
            for coders, opened in self.sealed.get(source, ())
        )


def _connected(conn_or_engine: Connection | Engine, read: Callable[[Connection], Any]) -> Any:
    from sqlalchemy import Engine

    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.connect() as conn:
            return read(conn)
    return read(conn_or_engine)


def _never(_item: object, _position: int | None = None) -> bool:
    return False


def hidden_for(
    conn_or_engine: Connection | Engine, inspection_id: uuid.UUID | str, viewer: str
) -> Callable[[Mapping[str, Any]], bool]:
    """A test telling whether a coding row must be hidden from ``viewer`` now (True = leave it out).

    A row is a mapping with ``source`` (id, hex or UUID), ``coder`` and ``position`` (the ledger position of
    its ``Coding.SegmentCoded`` event; a missing position counts as made during the round). Build the test once
    per command and call it on every row.
    """
    open_rounds = _connected(conn_or_engine, lambda conn: round_list(conn, inspection_id, only_open=True))
    rule = _Rule(open_rounds, viewer)
    if rule.empty:
        return _never

    def hidden(row: Mapping[str, Any]) -> bool:
        return rule.hides(_hex(row["source"]), str(row["coder"]), row.get("position"))

    return hidden


def hidden_events_for(conn_or_engine: Connection | Engine, viewer: str) -> Callable[[Event, int], bool]:
    """A test ``hides_event(event, position)`` telling whether a raw event must be hidden from ``viewer``.

    It hides the ``Coding.SegmentCoded`` events that :func:`hidden_for` would hide as rows, the later events
    of those codings (withdrawn, remapped, unplaced), a remapping that moves another coder's coding onto a
    round source, and memos written on hidden codings (and their amendments). It learns codings from their
    ``SegmentCoded`` events, so call it on **every** event in ledger order (as ``Ledger.history()`` yields
    them), before any other filter.
    """
    open_rounds = _connected(conn_or_engine, _all_open_rounds)
    by_inspection: dict[str, _Rule] = {}
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in open_rounds:
        grouped[r["inspection_id"]].append(r)
    for iid, found in grouped.items():
        rule = _Rule(found, viewer)
        if not rule.empty:
            by_inspection[iid] = rule
    if not by_inspection:
        return _never
    codings: dict[uuid.UUID, tuple[_Rule, str, int]] = {}  # coding id -> (its rule, coder, position)
    hidden_ids: set[uuid.UUID] = set()

    def hides_event(event: Event, position: int) -> bool:
        if isinstance(event, SegmentCoded):
            rule = by_inspection.get(event.inspection.hex)
            if rule is None:
                return False
            codings[event.originator_id] = (rule, event.actor, position)
            if rule.hides(event.source.hex, event.actor, position):
                hidden_ids.add(event.originator_id)
                return True
            return False
        if isinstance(event, (CodingWithdrawn, CodingUnplaced)):
            return event.originator_id in hidden_ids
        if isinstance(event, CodingRemapped):
            known = codings.get(event.originator_id)
            if known is not None and known[0].hides(event.source.hex, known[1], known[2]):
                hidden_ids.add(event.originator_id)
            return event.originator_id in hidden_ids
        if isinstance(event, Written):
            if event.target_kind == "coding" and _coding_ref(event.target) in hidden_ids:
                hidden_ids.add(event.originator_id)
                return True
            return False
        if isinstance(event, Amended):
            return event.originator_id in hidden_ids
        return False

    return hides_event


def hidden_events_in(ledger: Ledger, viewer: str) -> Callable[[Event, int], bool]:
    """:func:`hidden_events_for` over ``ledger``'s projections, caught up first (for ``evidence log``, replay).

    An empty ledger hides nothing and touches no table, so a database holding no ledger is reported as such by
    the caller's own read of the log, and nothing is created in it.
    """
    if ledger.last_position() == 0:
        return _never
    from projections import ready

    return hidden_events_for(ready(ledger), viewer)


def _coding_ref(target: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(target)
    except ValueError:
        return None


# --- agreement inputs -------------------------------------------------------------------------


class RoundCodings(msgspec.Struct, kw_only=True):
    """What ``ledger.agreement.agreement_report`` needs for some rounds, and what quoting disagreements needs.

    A round's source is keyed ``"N:hex"`` (round number, current source id), so the same source in two rounds
    gives two sets of units. ``also_read`` says each coder read every source of their rounds: a coder assigned
    a source who coded nothing in it found nothing to code there.
    """

    rounds: list[int]
    coders: list[str]
    codes: list[str]
    codings: list[Coding]
    positions: list[int]  # the ledger position of each coding's SegmentCoded event, to check blindness
    lengths: dict[str, int]
    also_read: dict[str, list[str]]
    places: dict[str, dict[str, Any]]
    texts: dict[str, str]


def _latest(sources: Mapping[str, Mapping[str, Any]], source: str) -> str:
    """The current version of a source (following supersession)."""
    seen = {source}
    while (after := sources.get(source, {}).get("superseded_by")) and after not in seen:
        source = after
        seen.add(source)
    return source


def _in_window(position: int, opened: int, closed: int | None) -> bool:
    return position > opened and (closed is None or position < closed)


def round_codings(
    conn: Connection, inspection_id: uuid.UUID | str, numbers: Sequence[int], code: str | None = None
) -> RoundCodings:
    """The codings that belong to rounds ``numbers`` (current spans; withdrawn and unplaced ones left out).

    ``code`` (a code id; merges are followed) keeps one code; else every code the rounds' coders applied.
    """
    from projections.codings import CodeTree
    from projections.evidence import codings, source_text, sources

    iid = _hex(inspection_id)
    chosen = [r for r in round_list(conn, iid) if r["number"] in set(numbers)]
    known = {s["id"]: s for s in sources(conn, iid)}
    tree = CodeTree.load(conn, iid)
    wanted = tree.current(code) if code is not None else None
    out = RoundCodings(rounds=[r["number"] for r in chosen], coders=[], codes=[], codings=[], positions=[],
                       lengths={}, also_read={}, places={}, texts={})
    for r in chosen:
        out.coders += [c for c in r["coders"] if c not in out.coders]
        assigned = set(r["sources"])
        for current in dict.fromkeys(_latest(known, s) for s in r["sources"]):
            if current not in known or known[current]["withdrawn"]:
                continue
            key = f"{r['number']}:{current}"
            out.lengths[key] = known[current]["length"]
            out.places[key] = {"round": r["number"], "source": current, "title": known[current]["title"]}
            out.texts.setdefault(current, source_text(conn, current))
            for coder in r["coders"]:
                out.also_read.setdefault(coder, []).append(key)
            for row in codings(conn, iid, source=current, context=0):
                if (row["coder"] in r["coders"] and row["coded_source"] in assigned | {current}
                        and not row["unplaced"] and _in_window(row["position"], r["opened_position"],
                                                              r["closed_position"])
                        and (wanted is None or row["code"] == wanted)):
                    out.codings.append(Coding(coder=row["coder"], source=key, start=row["start"], end=row["end"],
                                              code=row["code"]))
                    out.positions.append(row["position"])
    used = {c.code for c in out.codings}
    order = [c for c, _ in tree.order() if c in used]
    out.codes = [wanted] if wanted is not None else order + sorted(used - set(order))
    return out


def round_progress(conn: Connection, inspection_id: uuid.UUID | str, number: int) -> dict[str, int]:
    """Coder -> how many codings they have made in a round so far (counts only: nothing of their content)."""
    from projections.evidence import codings

    found = [r for r in round_list(conn, inspection_id) if r["number"] == number]
    if not found:
        return {}
    r = found[0]
    counts = dict.fromkeys(r["coders"], 0)
    for source in r["sources"]:
        for row in codings(conn, inspection_id, source=source, context=0):
            if row["coder"] in counts and _in_window(row["position"], r["opened_position"], r["closed_position"]):
                counts[row["coder"]] += 1
    return counts


# --- calibration -------------------------------------------------------------------------------


def calibration_of(conn: Connection, inspection_id: uuid.UUID | str) -> dict[str, Any] | None:
    """The inspection's calibration exercise (id, who created it, when), or None."""
    row = conn.execute(select(calibrations).where(calibrations.c.inspection_id == _hex(inspection_id))).first()
    return dict(row._mapping) if row is not None else None


def vignette_list(conn: Connection, calibration_id: str) -> list[dict[str, Any]]:
    """The exercise's vignettes in file order: id, title, text."""
    query = (
        select(vignettes.c.vignette.label("id"), vignettes.c.title, vignettes.c.text)
        .where(vignettes.c.calibration_id == calibration_id).order_by(vignettes.c.ordinal)
    )
    return [dict(r._mapping) for r in conn.execute(query)]


def rating_list(conn: Connection, calibration_id: str) -> list[tuple[str, str, str, int]]:
    """Every rating as ``(rater, vignette, grade, round)`` in ledger order: the input of ``calibration_report``."""
    query = (
        select(ratings.c.rater, ratings.c.vignette, ratings.c.grade, ratings.c.round)
        .where(ratings.c.calibration_id == calibration_id).order_by(ratings.c.position)
    )
    return [(r.rater, r.vignette, r.grade, r.round) for r in conn.execute(query)]
