"""Query functions over the evidence projections: plain data in a deterministic order, for every reader.

The CLI, hypothesis and bias checks, reports and the demo all call these. Each takes an SQLAlchemy Connection or
Engine (from ``projections.ready(ledger)``) and an inspection id (hex string or UUID). Times are ISO 8601 in UTC;
positions are ledger positions, so results are the same after ``evidence projections rebuild`` and on SQLite or
PostgreSQL.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, func, select

from ledger.errors import NotFound
from ledger.source import DEFAULT_TIER
from projections import search as full_text
from projections.codings import CodeTree, changes, codings as codings_table
from projections.memos import memos as memos_table
from projections.sources import iso, source_texts, sources as sources_table

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from sqlalchemy import Engine

    Bind = Connection | Engine

#: Quote lengths (code points) a reader takes in at a glance; see ``vignettes``.
READABLE = (40, 400)
STRONG_BANDS = {"strength": ("outstanding", "good"), "weakness": ("requires-improvement", "inadequate")}
SCORING = (
    "score = 3 if the coder wrote a note + 1 if a grade band is given + 1 more if the band matches the valence "
    "(strength: outstanding/good; weakness: requires improvement/inadequate) + 2 if the quote is 40-400 characters "
    "+ 1 if the source is direct evidence (records, observation, child or family feedback); highest first, earlier "
    "codings first on a tie, one vignette per case (or per source when no case is named) before any repeats"
)


@contextlib.contextmanager
def _connected(bind: Bind) -> Iterator[Connection]:
    if isinstance(bind, Connection):
        yield bind
    else:
        with bind.connect() as conn:
            yield conn


def _hex(value: str | uuid.UUID) -> str:
    return value.hex if isinstance(value, uuid.UUID) else value.strip().lower().replace("-", "")


_DEFAULT_TIERS = {str(kind): tier for kind, tier in DEFAULT_TIER.items()}


def _tier(kind: str, tier: str | None) -> str | None:
    """The source's reliability tier: the one given when it was registered, else its kind's default."""
    return tier or _DEFAULT_TIERS.get(kind)


# --- sources -------------------------------------------------------------------------------------------


def sources(
    bind: Bind, inspection_id: str | uuid.UUID, *, kind: str | None = None, case: str | None = None,
    current_only: bool = False,
) -> list[dict[str, Any]]:
    """The inspection's sources in ledger order (``current_only``: leave out superseded and withdrawn ones)."""
    s = sources_table.c
    query = select(sources_table).where(s.inspection_id == _hex(inspection_id)).order_by(s.position)
    if kind is not None:
        query = query.where(s.kind == kind)
    if case is not None:
        query = query.where(s.case_ref == case)
    if current_only:
        query = query.where(s.superseded_by.is_(None), s.withdrawn.is_(False))
    with _connected(bind) as conn:
        rows = conn.execute(query).all()
    return [
        {
            "id": r.id, "title": r.title, "kind": r.kind, "case": r.case_ref, "annex_a": r.annex_a,
            "tier": _tier(r.kind, r.tier), "tier_given": r.tier is not None, "collected_at": iso(r.collected_at),
            "collector": r.collector, "registered_at": iso(r.registered_at), "length": r.length,
            "supersedes": r.supersedes, "superseded_by": r.superseded_by, "withdrawn": r.withdrawn,
            "status": "withdrawn" if r.withdrawn else "superseded" if r.superseded_by else "current",
            "position": r.position, "format": r.format, "filename": r.filename, "content_hash": r.content_hash,
        }
        for r in rows
    ]


def source_text(bind: Bind, source_id: str | uuid.UUID) -> str:
    """The exact stored text of a source (positions in codings count code points in it)."""
    with _connected(bind) as conn:
        found = conn.execute(select(source_texts.c.text).where(source_texts.c.id == _hex(source_id))).scalar()
    if found is None:
        raise NotFound(f"No source {_hex(source_id)[:8]} in the projections; run 'evidence projections rebuild'.")
    return found


# --- codes and codings ---------------------------------------------------------------------------------


def _joined() -> tuple[Any, Any, Any, Any]:
    """Codings with their changes and their current source: (from clause, current source, start, end)."""
    c, x, s = codings_table.c, changes.c, sources_table.c
    source_now = func.coalesce(x.source_id, c.source_id)
    joined = codings_table.outerjoin(changes, x.id == c.id).join(sources_table, s.id == source_now)
    return joined, source_now, func.coalesce(x.start, c.start), func.coalesce(x.end, c.end)


def _active_counts(conn: Connection, inspection_id: str) -> dict[str, int]:
    """Stored code -> codings not withdrawn, on sources not withdrawn."""
    c, x, s = codings_table.c, changes.c, sources_table.c
    joined, _, _, _ = _joined()
    query = (
        select(c.code, func.count())
        .select_from(joined)
        .where(c.inspection_id == inspection_id, x.withdrawn.is_not(True), s.withdrawn.is_(False))
        .group_by(c.code)
    )
    return {code: count for code, count in conn.execute(query)}


def _texts(conn: Connection, ids: set[str]) -> dict[str, str]:
    """Source id -> exact text, for the sources named (one query)."""
    if not ids:
        return {}
    query = select(source_texts.c.id, source_texts.c.text).where(source_texts.c.id.in_(bindparam("ids", expanding=True)))
    return {row.id: row.text for row in conn.execute(query, {"ids": sorted(ids)})}


def code_tree(
    bind: Bind, inspection_id: str | uuid.UUID, *, hidden: Callable[[dict[str, Any]], bool] | None = None,
) -> list[dict[str, Any]]:
    """The code tree depth-first, with each code's status and its codings (merged codes count under the target).

    ``codings``: codings under the code itself; ``total``: with its descendants. Withdrawn codings, and codings
    on withdrawn sources, are not counted; nor are the coding rows (as ``codings`` gives them) ``hidden`` returns
    True for (blind double-coding rounds use it).
    """
    iid = _hex(inspection_id)
    with _connected(bind) as conn:
        tree = CodeTree.load(conn, iid)
        if hidden is None:
            counts = _active_counts(conn, iid)
        else:
            counts = {}
            for row in codings(conn, iid, hidden=hidden, context=0):
                counts[row["original_code"]] = counts.get(row["original_code"], 0) + 1
    direct: dict[str, int] = {}
    for code, count in counts.items():
        direct[tree.current(code)] = direct.get(tree.current(code), 0) + count
    out = []
    for code, depth in tree.order():
        row = tree.rows[code]
        merged = row["status"] == "merged"
        out.append({
            "id": code, "label": row["label"], "parent": row["parent"], "depth": depth, "facet": row["facet"],
            "origin": row["origin"], "status": row["status"], "merged_into": row["merged_into"],
            "current": tree.current(code), "description": row["description"],
            "codings": 0 if merged else direct.get(code, 0),
            "total": 0 if merged else sum(direct.get(c, 0) for c in tree.covered(code, with_children=True)),
        })
    return out


def codings(
    bind: Bind, inspection_id: str | uuid.UUID, *, code: str | None = None, with_children: bool = False,
    valence: str | None = None, case: str | None = None, coder: str | None = None, kind: str | None = None,
    source: str | uuid.UUID | None = None, include_withdrawn: bool = False,
    hidden: Callable[[dict[str, Any]], bool] | None = None, context: int = 60,
) -> list[dict[str, Any]]:
    """Codings in ledger order, each with its exact quote, ``context`` characters either side, and provenance.

    ``code`` is a code id; codings under codes merged into it count under it (``original_code`` keeps what the
    coder chose). Withdrawn codings and codings on withdrawn sources are left out unless ``include_withdrawn``.
    ``hidden`` drops the rows it returns True for (blind double-coding rounds use it).
    """
    iid = _hex(inspection_id)
    c, x, s = codings_table.c, changes.c, sources_table.c
    joined, source_now, start_now, end_now = _joined()
    query = (
        select(c.position, c.id, c.source_id, c.code, c.valence, c.band, c.note, c.coder, c.coded_at, c.round_id,
               source_now.label("current_source"), start_now.label("current_start"), end_now.label("current_end"),
               x.withdrawn, x.unplaced, s.title, s.kind, s.case_ref, s.tier, s.withdrawn.label("source_withdrawn"))
        .select_from(joined)
        .where(c.inspection_id == iid)
        .order_by(c.position)
    )
    filters = [(c.valence, valence), (s.case_ref, case), (c.coder, coder), (s.kind, kind),
               (source_now, _hex(source) if source is not None else None)]
    query = query.where(*(column == value for column, value in filters if value is not None))
    if not include_withdrawn:
        query = query.where(x.withdrawn.is_not(True), s.withdrawn.is_(False))
    params: dict[str, Any] = {}
    with _connected(bind) as conn:
        tree = CodeTree.load(conn, iid)
        if code is not None:
            if code not in tree.rows:
                raise NotFound(f"No code {code!r} in this inspection's codebook; see 'evidence code tree'.")
            query = query.where(c.code.in_(bindparam("covered", expanding=True)))
            params["covered"] = tree.covered(code, with_children=with_children)
        rows = conn.execute(query, params).all()
        texts = _texts(conn, {r.current_source for r in rows})
    out = []
    labels = {code: row["label"] for code, row in tree.rows.items()}
    for (position, cid, coded_source, original, valence_, band, note, coder_, coded_at, round_id, source_id, start,
         end, withdrawn, unplaced, title, kind_, case_ref, tier, source_withdrawn) in rows:
        body, current = texts[source_id], tree.current(original)
        item = {
            "id": cid, "source": source_id, "title": title, "kind": kind_, "case": case_ref,
            "tier": _tier(kind_, tier), "start": start, "end": end, "quote": body[start:end],
            "before": body[max(0, start - context) : start], "after": body[end : end + context],
            "code": current, "label": labels.get(current, current), "original_code": original,
            "valence": valence_, "band": band, "note": note, "coder": coder_, "coded_at": iso(coded_at),
            "position": position, "round": round_id, "withdrawn": bool(withdrawn),
            "source_withdrawn": source_withdrawn, "unplaced": bool(unplaced), "coded_source": coded_source,
        }
        if hidden is None or not hidden(item):
            out.append(item)
    return out


# --- coverage and vignettes ----------------------------------------------------------------------------


def _tally(table: dict[Any, dict[str, Any]], key: Any, **more: Any) -> dict[str, Any]:
    return table.setdefault(key, more | {"codings": 0, "sources_registered": 0, "coded": set()})


def _finish(table: dict[Any, dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for key in sorted(table):
        row = dict(table[key])
        row["sources_coded"] = len(row.pop("coded"))
        out.append(row)
    return out


def coverage(
    bind: Bind, inspection_id: str | uuid.UUID, *, hidden: Callable[[dict[str, Any]], bool] | None = None,
) -> dict[str, Any]:
    """How much of the evidence has been coded: sources not yet coded, and the work per inspector and per day.

    A source is coded when at least one coding (not withdrawn) rests on it. Current sources only (not superseded
    or withdrawn) count as the evidence base; ``sources_registered`` counts every registration, day by day (UTC).
    ``hidden`` leaves out the codings it returns True for, given ``source`` (current), ``coder`` and ``position``.
    """
    iid = _hex(inspection_id)
    c, x, s = codings_table.c, changes.c, sources_table.c
    _, source_now, _, _ = _joined()
    with _connected(bind) as conn:
        registered = conn.execute(
            select(s.id, s.title, s.kind, s.case_ref, s.collector, s.registered_at, s.registered_on,
                   s.superseded_by, s.withdrawn).where(s.inspection_id == iid).order_by(s.position)
        ).all()
        if hidden is None:
            work = conn.execute(
                select(source_now, c.coder, c.coded_on, func.count())
                .select_from(codings_table.outerjoin(changes, x.id == c.id))
                .where(c.inspection_id == iid, x.withdrawn.is_not(True))
                .group_by(source_now, c.coder, c.coded_on)
                .order_by(source_now, c.coder, c.coded_on)
            ).all()
        else:
            work = _visible_work(conn, iid, source_now, hidden)
    current = {r.id: r for r in registered if r.superseded_by is None and not r.withdrawn}
    people: dict[Any, dict[str, Any]] = {}
    days: dict[Any, dict[str, Any]] = {}
    pairs: dict[Any, dict[str, Any]] = {}
    kinds: dict[Any, dict[str, Any]] = {}
    for r in registered:
        on = r.registered_on.isoformat()
        for row in (_tally(people, r.collector, person=r.collector), _tally(days, on, day=on),
                    _tally(pairs, (r.collector, on), person=r.collector, day=on)):
            row["sources_registered"] += 1
    for r in current.values():
        kinds.setdefault(r.kind, {"kind": r.kind, "sources": 0, "coded": 0, "codings": 0})["sources"] += 1
    coded: set[str] = set()
    for source_id, person, coded_on, count in work:
        if source_id not in current:
            continue
        on = coded_on.isoformat()
        coded.add(source_id)
        kinds[current[source_id].kind]["codings"] += count
        for row in (_tally(people, person, person=person), _tally(days, on, day=on),
                    _tally(pairs, (person, on), person=person, day=on)):
            row["codings"] += count
            row["coded"].add(source_id)
    for source_id in coded:
        kinds[current[source_id].kind]["coded"] += 1
    uncoded = [
        {"id": r.id, "title": r.title, "kind": r.kind, "case": r.case_ref, "collector": r.collector,
         "registered_at": iso(r.registered_at)}
        for r in current.values() if r.id not in coded
    ]
    return {
        "sources": len(current), "coded": len(coded), "uncoded": uncoded,
        "codings": sum(k["codings"] for k in kinds.values()),
        "by_inspector": _finish(people), "by_day": _finish(days), "by_inspector_day": _finish(pairs),
        "by_kind": [kinds[k] | {"uncoded": kinds[k]["sources"] - kinds[k]["coded"]} for k in sorted(kinds)],
    }


def _visible_work(
    conn: Connection, iid: str, source_now: Any, hidden: Callable[[dict[str, Any]], bool],
) -> list[tuple[str, str, Any, int]]:
    """(current source, coder, day, codings) like the grouped work query, without the codings ``hidden`` hides."""
    c, x = codings_table.c, changes.c
    rows = conn.execute(
        select(source_now.label("source"), c.coder, c.coded_on, c.position)
        .select_from(codings_table.outerjoin(changes, x.id == c.id))
        .where(c.inspection_id == iid, x.withdrawn.is_not(True))
        .order_by(c.position)
    ).all()
    tally: dict[tuple[str, str, Any], int] = {}
    for row in rows:
        if not hidden({"source": row.source, "coder": row.coder, "position": row.position}):
            key = (row.source, row.coder, row.coded_on)
            tally[key] = tally.get(key, 0) + 1
    return [(*key, count) for key, count in sorted(tally.items())]


def _score(item: dict[str, Any]) -> tuple[int, list[str]]:
    score, reasons = 0, []
    if item["note"]:
        score, reasons = score + 3, [*reasons, "note"]
    if item["band"]:
        score, reasons = score + 1, [*reasons, "band"]
        if item["band"] in STRONG_BANDS.get(item["valence"], ()):
            score, reasons = score + 1, [*reasons, "band matches valence"]
    if READABLE[0] <= len(item["quote"]) <= READABLE[1]:
        score, reasons = score + 2, [*reasons, "readable length"]
    if item["tier"] == "direct":
        score, reasons = score + 1, [*reasons, "direct evidence"]
    return score, reasons


def _pick(items: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    ranked = sorted(items, key=lambda i: (-i["score"], i["position"]))
    chosen: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in ranked:
        place = item["case"] or f"source:{item['source']}"
        if place not in seen and len(chosen) < count:
            chosen.append(item)
            seen.add(place)
    chosen += [i for i in ranked if i not in chosen][: count - len(chosen)]
    return sorted(chosen, key=lambda i: (-i["score"], i["position"]))


def vignettes(
    bind: Bind, inspection_id: str | uuid.UUID, code: str, *, with_children: bool = True, per_valence: int = 3,
    hidden: Callable[[dict[str, Any]], bool] | None = None,
) -> dict[str, Any]:
    """The clearest examples of strong and weak practice under a theme, ranked by a documented score (SCORING).

    Each list holds up to ``per_valence`` codings (as ``codings`` returns them) with ``score`` and ``reasons``.
    """
    found = codings(bind, inspection_id, code=code, with_children=with_children, hidden=hidden)
    with _connected(bind) as conn:
        tree = CodeTree.load(conn, _hex(inspection_id))
    target = tree.current(code)
    out: dict[str, Any] = {
        "code": target, "label": tree.rows[target]["label"], "with_children": with_children, "scoring": SCORING,
    }
    for valence in ("strength", "weakness"):
        scored = []
        for item in found:
            if item["valence"] == valence:
                score, reasons = _score(item)
                scored.append(item | {"score": score, "reasons": reasons})
        out[valence] = _pick(scored, per_valence)
        out[f"{valence}_considered"] = len(scored)
    return out


# --- memos and search ----------------------------------------------------------------------------------


def memos(
    bind: Bind, inspection_id: str | uuid.UUID, *, target_kind: str | None = None, target: str | None = None,
) -> list[dict[str, Any]]:
    """Memos in ledger order with their current text and how many times each was amended."""
    m = memos_table.c
    query = select(memos_table).where(m.inspection_id == _hex(inspection_id)).order_by(m.position)
    if target_kind is not None:
        query = query.where(m.target_kind == target_kind)
    if target is not None:
        query = query.where(m.target == target)
    with _connected(bind) as conn:
        rows = conn.execute(query).all()
    return [
        {
            "id": r.id, "target_kind": r.target_kind, "target": r.target, "text": r.text, "author": r.author,
            "written_at": iso(r.written_at), "amended_at": iso(r.amended_at), "amendments": r.amendments,
            "position": r.position,
        }
        for r in rows
    ]


def search(bind: Bind, inspection_id: str | uuid.UUID, phrase: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """Current sources holding ``phrase`` (case and accents ignored), with snippets and code-point hit offsets."""
    with _connected(bind) as conn:
        return full_text.search(conn, _hex(inspection_id), phrase, limit=limit)
