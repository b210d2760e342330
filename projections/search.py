"""Full-text search over source texts: an index of folded words, and phrase queries with code-point hits.

A word is a run of letters and digits (with their combining marks). Each word is folded - case, accents and
compatibility forms removed - so "Chloé" is found by "chloe" and "CHLOÉ". The index holds only the folded words:
on SQLite an FTS5 table (tokenizer ``ascii`` over the space-joined words, so its phrase matches are exactly ours);
on PostgreSQL a ``tsvector`` of the distinct words under a GIN index, used as a filter before the phrase is
checked here. Hits, their code-point offsets and the highlighted snippet are computed here from the stored text,
never from the database's own highlighter, so offsets are right for emoji, CRLF and decomposed accents, and both
databases give the same answer. Results come in the order the sources were registered (ledger order).

The index is keyed by the ledger position of each source's ``Source.Registered`` event; a source leaves the index
when it is superseded or withdrawn, so searches cover the current evidence base.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Integer, MetaData, Table, bindparam, event, select, text

from ledger.errors import BadInput
from projections.base import metadata

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from sqlalchemy import Connection

#: The index as the projection machinery sees it (only to empty it on a rebuild). It is created by the raw DDL
#: below, not by ``metadata.create_all``, because FTS5 tables and tsvector columns are dialect-specific.
index_table = Table("source_search", MetaData(), Column("position", Integer))

SQLITE_DDL: tuple[str, ...] = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS source_search USING fts5("
    "source_id UNINDEXED, inspection_id UNINDEXED, body, tokenize = 'ascii')",
)
POSTGRES_DDL: tuple[str, ...] = (
    "CREATE TABLE IF NOT EXISTS source_search (position BIGINT PRIMARY KEY, source_id VARCHAR(32) NOT NULL, "
    "inspection_id VARCHAR(32) NOT NULL, body TSVECTOR NOT NULL)",
    "CREATE INDEX IF NOT EXISTS source_search_body ON source_search USING GIN (body)",
    "CREATE INDEX IF NOT EXISTS source_search_inspection ON source_search (inspection_id, position)",
)

#: Folded words longer than this are left out of the index (they are data blobs, not words).
LONGEST_WORD = 200
#: How much text a snippet shows before the first hit and after it (code points, before snapping to spaces).
SNIPPET_BEFORE, SNIPPET_AFTER = 60, 120
_SPACE, _SPACES = re.compile(r"\s"), re.compile(r"\s+")


@event.listens_for(metadata, "after_create")
def create_index(_target: MetaData, connection: Connection, **_kw: Any) -> None:
    """Create the search index beside the projection tables (idempotent; runs on every ``create_all``)."""
    for ddl in SQLITE_DDL if connection.dialect.name == "sqlite" else POSTGRES_DDL:
        connection.exec_driver_sql(ddl)


# --- words ---------------------------------------------------------------------------------------------


_PLAIN_WORD = re.compile(r"[^\W_]+")


@cache
def _marks() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(any combining mark, a word with its marks). Python's word class leaves marks out, splitting a decomposed
    "é" as e + U+0301. Only marks of the Basic Multilingual Plane count: a character class reaching beyond it
    makes every search many times slower, and the marks beyond it belong to historic scripts."""
    marks = [c for c in range(0x10000) if unicodedata.category(chr(c))[0] == "M"]
    ranges: list[str] = []
    start = previous = marks[0]
    for code in [*marks[1:], -2]:
        if code != previous + 1:
            ranges.append(f"\\u{start:04x}" if start == previous else f"\\u{start:04x}-\\u{previous:04x}")
            start = code
        previous = code
    klass = f"[{''.join(ranges)}]"
    return re.compile(klass), re.compile(rf"(?:[^\W_]+|{klass}+)+")  # marks are never \w: no backtracking


def _word_pattern(text: str) -> re.Pattern[str]:
    """The word pattern for ``text``: the plain one (four times faster) unless the text holds combining marks."""
    any_mark, word = _marks()
    return word if any_mark.search(text) else _PLAIN_WORD


@lru_cache(maxsize=1 << 16)
def fold(word: str) -> str:
    """A word as the index holds it: case-folded, compatibility-decomposed, accents and other marks removed."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", word.casefold()) if ch.isalnum())


def terms(text: str) -> list[tuple[int, int, str]]:
    """Each word of ``text`` as (start, end, folded word), offsets in code points."""
    out = []
    for match in _word_pattern(text).finditer(text):
        folded = fold(match.group())
        if folded:
            out.append((match.start(), match.end(), folded))
    return out


def indexed_words(text: str) -> list[str]:
    """The folded words of ``text`` in order, as the index stores them."""
    return [w for w in map(fold, _word_pattern(text).findall(text)) if w and len(w) <= LONGEST_WORD]


def query_words(phrase: str) -> list[str]:
    """The folded words of a search phrase, or BadInput when it holds none."""
    words = [w for _, _, w in terms(phrase)]
    if not words:
        raise BadInput(f"The search phrase {phrase!r} holds no words; search for letters or digits.")
    return words


# --- writing -------------------------------------------------------------------------------------------


def add(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Index sources: each row has ``position``, ``source_id``, ``inspection_id`` and ``text``."""
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        statement = text(
            "INSERT INTO source_search (rowid, source_id, inspection_id, body) VALUES (:position, :source_id, "
            ":inspection_id, :body)"
        )
        params = [{**_keys(r), "body": " ".join(indexed_words(r["text"]))} for r in rows]
    else:
        statement = text(
            "INSERT INTO source_search (position, source_id, inspection_id, body) VALUES (:position, :source_id, "
            ":inspection_id, array_to_tsvector(CAST(:words AS TEXT[])))"
        )
        params = [{**_keys(r), "words": sorted(set(indexed_words(r["text"])))} for r in rows]
    conn.execute(statement, params)


def _keys(row: dict[str, Any]) -> dict[str, Any]:
    return {"position": row["position"], "source_id": row["source_id"], "inspection_id": row["inspection_id"]}


def remove(conn: Connection, positions: Iterable[int]) -> None:
    """Take the sources registered at these ledger positions out of the index."""
    key = "rowid" if conn.dialect.name == "sqlite" else "position"
    params = [{"position": p} for p in sorted(set(positions))]
    if params:
        conn.execute(text(f"DELETE FROM source_search WHERE {key} = :position"), params)  # noqa: S608


# --- reading -------------------------------------------------------------------------------------------


def candidates(
    conn: Connection, inspection_id: str, words: Sequence[str], *, after: int, limit: int
) -> list[tuple[int, str]]:
    """(position, source id) of indexed sources that may hold the phrase, in ledger order, after ``after``."""
    searchable = [w for w in words if len(w) <= LONGEST_WORD]
    params: dict[str, Any] = {"inspection": inspection_id, "after": after, "limit": limit}
    if conn.dialect.name == "sqlite":
        key, match = "rowid", "source_search MATCH :query AND "
        params["query"] = '"' + " ".join(searchable) + '"'
    else:
        key, match = "position", "body @@ CAST(:query AS tsquery) AND "
        params["query"] = " & ".join(
            "'" + w.replace("\\", "\\\\").replace("'", "''") + "'" for w in sorted(set(searchable))
        )
    if not searchable:
        match = ""
        del params["query"]
    query = text(
        f"SELECT {key}, source_id FROM source_search WHERE {match}inspection_id = :inspection "  # noqa: S608
        f"AND {key} > :after ORDER BY {key} LIMIT :limit"
    )
    return [(int(p), s) for p, s in conn.execute(query, params)]


def phrase_hits(text_: str, words: Sequence[str]) -> list[tuple[int, int]]:
    """Code-point spans of each (non-overlapping) occurrence of the folded ``words`` in a row in ``text_``."""
    found = terms(text_)
    folded = [w for _, _, w in found]
    wanted, hits, i = list(words), [], 0
    n, first = len(wanted), wanted[0]
    while i <= len(folded) - n:
        if folded[i] == first and folded[i : i + n] == wanted:
            hits.append((found[i][0], found[i + n - 1][1]))
            i += n
        else:
            i += 1
    return hits


def snippet(text_: str, hits: Sequence[tuple[int, int]]) -> tuple[str, list[list[int]]]:
    """A one-line excerpt around the first hit, and the code-point spans of the hits within the excerpt."""
    lo = max(0, hits[0][0] - SNIPPET_BEFORE)
    hi = min(len(text_), hits[0][1] + SNIPPET_AFTER)
    for start, end in hits:
        if start < hi < end:
            hi = end  # never cut a hit in two
    if lo > 0:
        space = _SPACE.search(text_, lo, hits[0][0])
        lo = space.end() if space else lo
    if hi < len(text_):
        last_end = max(e for _, e in hits if e <= hi)
        spaces = [m.start() for m in _SPACE.finditer(text_, last_end, hi)]
        hi = spaces[-1] if spaces else hi
    shown = [(s, e) for s, e in hits if lo <= s and e <= hi]
    pieces: list[tuple[str, bool]] = []
    cursor = lo
    for start, end in shown:
        pieces += [(text_[cursor:start], False), (text_[start:end], True)]
        cursor = end
    pieces.append((text_[cursor:hi], False))
    out, spans = "…" if lo > 0 else "", []
    for index, (piece, hit) in enumerate(pieces):
        flat = _SPACES.sub(" ", piece)
        if index == 0 and not hit:
            flat = flat.lstrip()
        if index == len(pieces) - 1 and not hit:
            flat = flat.rstrip()
        if hit:
            spans.append([len(out), len(out) + len(flat)])
        out += flat
    return out + ("…" if hi < len(text_) else ""), spans


def search(conn: Connection, inspection_id: str, phrase: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """Current sources holding ``phrase`` (words in a row, case and accents ignored), in ledger order.

    Each result: source id, title, kind, case, ``snippet`` (one line), ``snippet_hits`` (spans in the snippet),
    ``hits`` (code-point spans in the source text) and ``count`` (how many hits).
    """
    from projections.sources import source_texts, sources

    if limit < 1:
        raise BadInput(f"--limit {limit} is too small; ask for at least one result.")
    words = query_words(phrase)
    results: list[dict[str, Any]] = []
    after, page = 0, max(limit, 50)
    while len(results) < limit:
        found = candidates(conn, inspection_id, words, after=after, limit=page)
        if not found:
            break
        after = found[-1][0]
        ids = [source_id for _, source_id in found]
        query = (
            select(sources.c.id, sources.c.title, sources.c.kind, sources.c.case_ref, source_texts.c.text)
            .join(source_texts, source_texts.c.id == sources.c.id)
            .where(sources.c.id.in_(bindparam("ids", expanding=True)))
        )
        rows = {r.id: r for r in conn.execute(query, {"ids": ids})}
        for source_id in ids:
            row = rows.get(source_id)
            hits = phrase_hits(row.text, words) if row is not None else []
            if not hits:
                continue  # PostgreSQL's filter matches the words, not their order
            excerpt, excerpt_hits = snippet(row.text, hits)
            results.append({
                "source": row.id, "title": row.title, "kind": row.kind, "case": row.case_ref, "snippet": excerpt,
                "snippet_hits": excerpt_hits, "hits": [list(h) for h in hits], "count": len(hits),
            })
            if len(results) == limit:
                break
        if len(found) < page:
            break
    return results
