"""Blindness reaches exports and replay: while a round is open, a coder never sees another coder's codings of its
sources in a judgment's replay or in the draft report (the listing and the log are covered in test_rounds.py)."""

from __future__ import annotations

from test_rounds import Blind, World, blind, ok, world  # noqa: F401 - fixtures shared with the rounds tests


def _propose_on_round_codings(w: World, b: Blind) -> None:
    ok(w.cli("--as", "dave", "judge", "propose", "help-protection", "requires-improvement",
             "--because", "What the tracked cases show.", "--cite", f"{b.dave_a[:8]},{b.dave_b[:8]}"))


def test_replay_withholds_another_coders_round_codings(blind: tuple[World, Blind]) -> None:
    w, b = blind
    _propose_on_round_codings(w, b)
    as_bob = ok(w.cli("--as", "bob", "replay", "help-protection", "--format", "json")).json()
    step = as_bob["steps"][0]  # type: ignore[index]
    assert step["evidence"] == [] and step["withheld"] == 2
    text = ok(w.cli("--as", "bob", "replay", "help-protection")).out
    assert b.dave_a[:8] not in text and b.dave_b[:8] not in text
    assert "2 cited coding(s) withheld while a blind coding round is open" in text
    as_dave = ok(w.cli("--as", "dave", "replay", "help-protection", "--format", "json")).json()
    assert {q["coding"] for q in as_dave["steps"][0]["evidence"]} == {b.dave_a, b.dave_b}  # type: ignore[index]
    assert as_dave["steps"][0]["withheld"] == 0  # type: ignore[index]


def test_closing_the_round_shows_the_cited_codings_to_everyone(blind: tuple[World, Blind]) -> None:
    w, b = blind
    _propose_on_round_codings(w, b)
    ok(w.cli("agreement", "close", "1"))
    html = ok(w.cli("--as", "bob", "replay", "help-protection", "--format", "html")).out
    assert b.dave_a[:8] in html and b.dave_b[:8] in html and "withheld" not in html


def test_draft_report_quotes_no_hidden_coding(blind: tuple[World, Blind]) -> None:
    w, b = blind
    ok(w.cli("codebook", "use", "sif-2013"))
    ok(w.cli("--as", "dave", "code", "apply", w.sources["B"], "child-seen-wishes-feelings",
             "--quote", "The child was not seen for six weeks", "--valence", "weakness", "--band", "inadequate",
             "--note", "A clear example of drift"))
    quote = "The child was not seen for six weeks"
    assert quote in ok(w.cli("--as", "dave", "report", "draft", "--format", "json")).out
    assert quote not in ok(w.cli("--as", "bob", "report", "draft", "--format", "json")).out
    ok(w.cli("agreement", "close", "1"))
    assert quote in ok(w.cli("--as", "bob", "report", "draft", "--format", "json")).out
