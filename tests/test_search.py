"""Full-text search: folded words, phrase hits at the right code points, snippets, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import source
from ledger.application import Ledger
from ledger.errors import BadInput
from ledger.inspection import load, open_inspection
from projections import evidence, ready
from projections.engine import engine_for
from projections.search import fold, phrase_hits, query_words, snippet, terms

if TYPE_CHECKING:
    from collections.abc import Iterator
    from uuid import UUID

    from conftest import CLI

RECORD = (
    "Chloé said she felt listened to 😊\r\n"
    "Her social worker visited every week; the Social  Worker saw her alone.\r\n"
    "Zoe\u0308 (decomposed accent) attended the café meeting with her advocate."
)
MEETING = "The strategy discussion was timely. No return interview was offered after the missing episode."
LATER = "A second return interview was arranged, and a third RETURN-INTERVIEW happened in March."
OLD = "This draft mentions a return interview but was replaced."
NEW = "This corrected draft mentions a return interview and was kept."
GONE = "A withdrawn note about the return interview."


@pytest.fixture
def indexed(url: str) -> Iterator[tuple[Ledger, UUID, dict[str, UUID]]]:
    """Six sources: one superseded by a corrected version, one withdrawn."""
    ledger = Ledger(url, create=True)
    open_inspection(ledger, "alice", "barnet-2017", authority="Barnet", framework="sif-2013")
    inspection = load(ledger, "barnet-2017")
    texts = {"record": RECORD, "meeting": MEETING, "later": LATER, "old": OLD, "gone": GONE}
    added, _ = source.register(ledger, "alice", inspection, [
        source.NewSource(title=f"Source {name}", text=text, kind=source.Kind.CASE_RECORD, case=f"C-{n}")
        for n, (name, text) in enumerate(texts.items())
    ])
    ids = dict(zip(texts, added, strict=True))
    from ledger.remap import supersede

    old = source.load(ledger, ids["old"].hex, inspection)
    ids["new"], _, _ = supersede(ledger, "alice", inspection, old,
                                 source.NewSource(title="Source new", text=NEW, kind=source.Kind.CASE_RECORD), [],
                                 "corrected")
    source.withdraw(ledger, "alice", inspection, source.load(ledger, ids["gone"].hex, inspection), "wrong case")
    assert inspection.id is not None
    yield ledger, inspection.id, ids
    engine_for(url).dispose()
    ledger.close()


def _search(ledger: Ledger, inspection: UUID, phrase: str, limit: int = 20) -> list[dict]:
    with ready(ledger).connect() as conn:
        return evidence.search(conn, inspection, phrase, limit=limit)


@pytest.mark.parametrize("phrase", ["chloe", "CHLOÉ", "Chloé", "Chloe\u0301"])
def test_accents_and_case_are_ignored_and_the_span_is_exact(indexed: tuple, phrase: str) -> None:
    ledger, inspection, ids = indexed
    (hit,) = _search(ledger, inspection, phrase)
    assert hit["source"] == ids["record"].hex and hit["title"] == "Source record" and hit["case"] == "C-0"
    assert hit["hits"] == [[0, 5]] and RECORD[0:5] == "Chloé"


def test_decomposed_accents_and_emoji_keep_code_point_offsets(indexed: tuple) -> None:
    ledger, inspection, _ = indexed
    (zoe,) = _search(ledger, inspection, "zoë")
    start, end = zoe["hits"][0]
    assert RECORD[start:end] == "Zoe\u0308"  # the combining diaeresis is inside the hit
    (cafe,) = _search(ledger, inspection, "cafe meeting")
    start, end = cafe["hits"][0]
    assert RECORD[start:end] == "café meeting"
    (worker,) = _search(ledger, inspection, "social worker")
    assert [RECORD[s:e] for s, e in worker["hits"]] == ["social worker", "Social  Worker"]
    assert worker["count"] == 2


def test_snippet_highlights_the_hits_on_one_line(indexed: tuple) -> None:
    ledger, inspection, _ = indexed
    (hit,) = _search(ledger, inspection, "social worker")
    text = hit["snippet"]
    assert "\r" not in text and "\n" not in text
    assert [text[s:e] for s, e in hit["snippet_hits"]] == ["social worker", "Social Worker"]
    assert "😊" in text


def test_phrases_need_their_words_in_order(indexed: tuple) -> None:
    ledger, inspection, ids = indexed
    found = _search(ledger, inspection, "return interview")
    assert [r["source"] for r in found] == [ids["meeting"].hex, ids["later"].hex, ids["new"].hex]
    later = found[1]
    assert [LATER[s:e] for s, e in later["hits"]] == ["return interview", "RETURN-INTERVIEW"]
    assert _search(ledger, inspection, "interview return") == []
    assert _search(ledger, inspection, "return interview", limit=2) == found[:2]


def test_superseded_and_withdrawn_sources_are_not_searched(indexed: tuple) -> None:
    ledger, inspection, ids = indexed
    sources = {r["source"] for r in _search(ledger, inspection, "draft")}
    assert sources == {ids["new"].hex}
    assert _search(ledger, inspection, "withdrawn note") == []


def test_other_inspections_are_not_searched(indexed: tuple) -> None:
    ledger, _, _ = indexed
    other = open_inspection(ledger, "alice", "camden-2017", authority="Camden", framework="sif-2013")
    assert other.id is not None
    assert _search(ledger, other.id, "return interview") == []


def test_results_survive_a_rebuild(indexed: tuple) -> None:
    from projections import all_projections
    from projections.base import rebuild

    ledger, inspection, _ = indexed
    before = [_search(ledger, inspection, p) for p in ("return interview", "zoë", "social worker")]
    rebuild(ledger, engine_for(ledger.url), all_projections())
    assert [_search(ledger, inspection, p) for p in ("return interview", "zoë", "social worker")] == before


def test_a_phrase_without_words_is_refused() -> None:
    with pytest.raises(BadInput, match="holds no words"):
        query_words(" 😊 — ")


def test_search_command(team: CLI) -> None:
    ledger = Ledger(team.url)
    try:
        inspection = load(ledger, "barnet-2017")
        (sid,), _ = source.register(ledger, "bob", inspection, [
            source.NewSource(title="Meeting", text=MEETING, kind=source.Kind.MEETING, case="C-9")])
    finally:
        ledger.close()
    result = team("search", "RETURN interview")
    assert result.code == 0, result.err
    head, shown = result.out.splitlines()
    start = MEETING.index("return")
    assert head == f"{sid.hex[:8]}  Meeting (meeting, case C-9) — 1 hit(s), first at {start}:{start + 16}"
    assert "No return interview was offered" in shown
    rows = team("search", "return interview", "--json").json()
    assert rows[0]["hits"] == [[start, start + 16]]  # type: ignore[index]
    assert team("search", "nothing like this").out == "No current source holds 'nothing like this'.\n"
    engine_for(team.url).dispose()


# --- the word rules ---------------------------------------------------------------------------------


def test_fold_removes_case_accents_and_compatibility_forms() -> None:
    assert [fold(w) for w in ("Chloé", "ZOË", "Straße", "ﬁle", "İstanbul", "x²")] == [
        "chloe", "zoe", "strasse", "file", "istanbul", "x2"]
    assert [w for _, _, w in terms("s47 enquiries—child's plan_2")] == ["s47", "enquiries", "child", "s", "plan", "2"]


words = st.text(alphabet=st.sampled_from("abcdeéøßZÉ0\u0301"), min_size=1, max_size=6)
gaps = st.text(alphabet=st.sampled_from(" \r\n\t.,;😊—-"), min_size=1, max_size=3)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(words, gaps), min_size=1, max_size=30), st.data())
def test_every_phrase_of_a_text_is_found_where_it_is(parts: list[tuple[str, str]], data: st.DataObject) -> None:
    text = "".join(w + g for w, g in parts)
    found = terms(text)
    if not found:
        return
    first = data.draw(st.integers(0, len(found) - 1))
    last = data.draw(st.integers(first, min(first + 3, len(found) - 1)))
    phrase = text[found[first][0] : found[last][1]]
    wanted = query_words(phrase)
    hits = phrase_hits(text, wanted)
    assert any(start <= found[first][0] and found[last][1] <= end for start, end in hits) or any(
        start <= found[first][0] < end for start, end in hits  # an overlapping earlier occurrence took it
    )
    for start, end in hits:
        assert query_words(text[start:end]) == wanted
    shown, spans = snippet(text, hits)
    for start, end in spans:
        assert [w for _, _, w in terms(shown[start:end])] == wanted
