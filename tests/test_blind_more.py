"""Blindness reaches hypotheses, memos, coverage and code counts: while a round is open, a coder never sees (nor
counts) another coder's codings of its sources there, and the output says how many were withheld.

Round 1 covers sources A and B, coded blind by bob and dave (fixtures from test_rounds.py): bob sees his own
codings of A and B, dave his own, and after the lead closes the round everyone sees every coding.
"""

from __future__ import annotations

from typing import Any

import test_rounds
from test_rounds import Blind, World, ok

blind = test_rounds.blind  # fixtures shared with the rounds tests
world = test_rounds.world

HP = "help-protection"


def _hypothesis(w: World) -> str:
    """alice states that children are seen: weaknesses under child-seen are the evidence against it."""
    data = ok(w.cli("hypothesis", "state", "Children are seen alone and often", "--area", HP,
                    "--codes", "child-seen", "--expects", "strength", "--json")).json()
    return data["short"]  # type: ignore[index,no-any-return]


def _check(w: World, who: str, h: str) -> dict[str, Any]:
    return ok(w.cli("--as", who, "hypothesis", "check", h, "--json")).json()  # type: ignore[return-value]


def _plain(ids: list[str]) -> set[str]:
    return {i.replace("-", "") for i in ids}


# --- hypothesis check ----------------------------------------------------------------------------------


def test_check_searches_only_the_codings_the_checker_may_see(blind: tuple[World, Blind]) -> None:
    w, b = blind
    h = _hypothesis(w)
    as_bob = _check(w, "bob", h)
    assert as_bob["withheld"] == 1  # dave's weakness on B
    assert _plain(as_bob["contrary"]) == set()
    assert as_bob["counts"]["searched"] == 3  # bob's before the round, bob's on A, dave's on C
    text = ok(w.cli("--as", "bob", "hypothesis", "check", h)).out
    assert "1 coding(s) withheld while a blind coding round is open" in text
    assert b.dave_b[:8] not in text
    as_dave = _check(w, "dave", h)
    assert as_dave["withheld"] == 1  # bob's child-seen coding on A
    assert _plain(as_dave["contrary"]) == {b.dave_b}
    assert as_dave["counts"]["searched"] == 3


def test_the_logged_check_records_no_hidden_coding(blind: tuple[World, Blind]) -> None:
    w, _ = blind
    h = _hypothesis(w)
    _check(w, "bob", h)
    ok(w.cli("agreement", "close", "1"))
    logged = ok(w.cli("--as", "bob", "log", "--type", "Hypothesis.Checked", "--json")).json()
    assert len(logged) == 1  # type: ignore[arg-type]
    assert _plain(logged[0]["contrary"]) == set()  # type: ignore[index]
    assert logged[0]["counts"]["searched"] == 3  # type: ignore[index]


def test_after_closing_the_check_sees_every_coding(blind: tuple[World, Blind]) -> None:
    w, b = blind
    h = _hypothesis(w)
    ok(w.cli("agreement", "close", "1"))
    as_bob = _check(w, "bob", h)
    assert as_bob["withheld"] == 0
    assert _plain(as_bob["contrary"]) == {b.dave_b}
    assert as_bob["counts"]["searched"] == 4
    assert "withheld" not in ok(w.cli("--as", "bob", "hypothesis", "check", h)).out


# --- hypothesis show, list and matrix ------------------------------------------------------------------


def _linked(w: World, b: Blind) -> str:
    h = _hypothesis(w)
    ok(w.cli("--as", "dave", "hypothesis", "link", h, b.dave_b[:8], "--contradicts"))
    ok(w.cli("--as", "dave", "hypothesis", "link", h, b.dave_c[:8], "--supports"))
    return h


def test_show_list_and_matrix_leave_out_links_to_hidden_codings(blind: tuple[World, Blind]) -> None:
    w, b = blind
    h = _linked(w, b)
    shown = ok(w.cli("--as", "bob", "hypothesis", "show", h, "--json")).json()
    assert [ln["coding_id"] for ln in shown["links"]] == [b.dave_c]  # type: ignore[index]
    assert shown["withheld"] == 1 and shown["contradicts"] == 0 and shown["supports"] == 1  # type: ignore[index]
    text = ok(w.cli("--as", "bob", "hypothesis", "show", h)).out
    assert b.dave_b[:8] not in text and b.dave_c[:8] in text
    assert "1 linked coding(s) withheld while a blind coding round is open" in text
    listed = ok(w.cli("--as", "bob", "hypothesis", "list", "--json")).json()
    assert [ln["coding_id"] for ln in listed[0]["links"]] == [b.dave_c]  # type: ignore[index]
    assert "+1 -0" in ok(w.cli("--as", "bob", "hypothesis", "list")).out
    grid = ok(w.cli("--as", "bob", "hypothesis", "matrix", "--area", HP, "--json")).json()
    assert [row["coding"] for row in grid["evidence"]] == [b.dave_c] and grid["withheld"] == 1  # type: ignore[index]
    assert grid["diagnostic_summary"][0]["inconsistent"] == 0  # type: ignore[index]
    matrix_text = ok(w.cli("--as", "bob", "hypothesis", "matrix", "--area", HP)).out
    assert b.dave_b[:8] not in matrix_text and "1 linked coding(s) withheld" in matrix_text


def test_the_coder_and_everyone_after_closing_see_every_link(blind: tuple[World, Blind]) -> None:
    w, b = blind
    h = _linked(w, b)
    as_dave = ok(w.cli("--as", "dave", "hypothesis", "show", h, "--json")).json()
    assert {ln["coding_id"] for ln in as_dave["links"]} == {b.dave_b, b.dave_c}  # type: ignore[index]
    assert as_dave["withheld"] == 0 and as_dave["contradicts"] == 1  # type: ignore[index]
    ok(w.cli("agreement", "close", "1"))
    for who in ("bob", "alice"):
        shown = ok(w.cli("--as", who, "hypothesis", "show", h, "--json")).json()
        assert {ln["coding_id"] for ln in shown["links"]} == {b.dave_b, b.dave_c}  # type: ignore[index]
        grid = ok(w.cli("--as", who, "hypothesis", "matrix", "--area", HP, "--json")).json()
        assert {row["coding"] for row in grid["evidence"]} == {b.dave_b, b.dave_c}  # type: ignore[index]
        assert grid["withheld"] == 0 and grid["diagnostic_summary"][0]["inconsistent"] == 1  # type: ignore[index]


# --- memos ---------------------------------------------------------------------------------------------


def _memos(w: World, b: Blind) -> tuple[str, str]:
    """dave writes a memo on his round coding of B and one on his coding of C (not a round source)."""
    hidden = ok(w.cli("--as", "dave", "memo", "add", "--on", "coding", b.dave_b[:8], "Drift in the round",
                      "--json")).json()["id"]  # type: ignore[index]
    shown = ok(w.cli("--as", "dave", "memo", "add", "--on", "coding", b.dave_c[:8], "Good practice outside",
                     "--json")).json()["id"]  # type: ignore[index]
    return hidden, shown


def test_memos_on_hidden_codings_are_not_listed_or_shown(blind: tuple[World, Blind]) -> None:
    w, b = blind
    hidden, shown = _memos(w, b)
    rows = ok(w.cli("--as", "bob", "memo", "list", "--json")).json()
    assert [r["id"] for r in rows] == [shown]  # type: ignore[union-attr,index]
    text = ok(w.cli("--as", "bob", "memo", "list")).out
    assert "Drift in the round" not in text and hidden[:8] not in text and "Good practice outside" in text
    assert "1 memo(s) on codings withheld while a blind coding round is open" in text
    assert ok(w.cli("--as", "bob", "memo", "list", "--on", "coding", b.dave_b[:8], "--json")).json() == []
    before = w.state()
    line = w.cli("--as", "bob", "memo", "show", hidden[:8]).one_line_error()
    assert "withheld" in line and "Drift" not in line
    assert w.state() == before
    assert "Good practice outside" in ok(w.cli("--as", "bob", "memo", "show", shown[:8])).out


def test_memos_show_to_their_coder_and_to_everyone_after_closing(blind: tuple[World, Blind]) -> None:
    w, b = blind
    hidden, shown = _memos(w, b)
    assert [r["id"] for r in ok(w.cli("--as", "dave", "memo", "list", "--json")).json()] == [hidden, shown]  # type: ignore[union-attr,index]
    assert "Drift in the round" in ok(w.cli("--as", "dave", "memo", "show", hidden[:8])).out
    ok(w.cli("agreement", "close", "1"))
    assert [r["id"] for r in ok(w.cli("--as", "bob", "memo", "list", "--json")).json()] == [hidden, shown]  # type: ignore[union-attr,index]
    assert "withheld" not in ok(w.cli("--as", "bob", "memo", "list")).out
    assert "Drift in the round" in ok(w.cli("--as", "bob", "memo", "show", hidden[:8])).out


# --- coverage and code counts --------------------------------------------------------------------------


def _coverage(w: World, who: str) -> dict[str, Any]:
    return ok(w.cli("--as", who, "coverage", "--json")).json()  # type: ignore[return-value]


def _people(data: dict[str, Any]) -> dict[str, int]:
    return {row["person"]: row["codings"] for row in data["by_inspector"]}


def test_coverage_counts_only_the_codings_the_reader_may_see(blind: tuple[World, Blind]) -> None:
    w, _ = blind
    as_bob = _coverage(w, "bob")
    assert (as_bob["codings"], as_bob["coded"]) == (4, 2)  # his two on A, his and dave's on C
    assert [row["id"][:8] for row in as_bob["uncoded"]] == [w.sources["B"]]
    assert _people(as_bob) == {"alice": 0, "bob": 3, "dave": 1}
    assert "4 coding(s)" in ok(w.cli("--as", "bob", "coverage")).out
    as_dave = _coverage(w, "dave")
    assert (as_dave["codings"], as_dave["coded"]) == (4, 3)
    assert _people(as_dave) == {"alice": 0, "bob": 1, "dave": 3}
    ok(w.cli("agreement", "close", "1"))
    after = _coverage(w, "bob")
    assert (after["codings"], after["coded"], after["uncoded"]) == (8, 3, [])
    assert _people(after) == {"alice": 2, "bob": 3, "dave": 3}


def _counts(w: World, who: str) -> dict[str, int]:
    rows = ok(w.cli("--as", who, "code", "tree", "--with-counts", "--json")).json()
    return {r["id"]: r["codings"] for r in rows if r["id"] in ("child-seen", "early-help", "oversight")}  # type: ignore[union-attr,index]


def test_code_tree_counts_only_the_codings_the_reader_may_see(blind: tuple[World, Blind]) -> None:
    w, _ = blind
    assert _counts(w, "bob") == {"child-seen": 3, "early-help": 1, "oversight": 0}
    assert _counts(w, "dave") == {"child-seen": 3, "early-help": 1, "oversight": 0}
    assert _counts(w, "alice") == {"child-seen": 2, "early-help": 0, "oversight": 2}
    assert "early-help  Early help  1 coding(s)" in ok(w.cli("--as", "bob", "code", "tree", "--with-counts")).out
    ok(w.cli("agreement", "close", "1"))
    assert _counts(w, "bob") == {"child-seen": 4, "early-help": 2, "oversight": 2}
