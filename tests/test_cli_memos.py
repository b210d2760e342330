"""``evidence memo``: memos on every kind of target, amended with their history kept, listed and shown."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pytest

from ledger.application import Ledger
from ledger.codebook import load as load_codebook
from ledger.hypothesis import state as state_hypothesis
from ledger.inspection import inspection_id
from ledger.inspection import load as load_inspection

if TYPE_CHECKING:
    from conftest import CLI

NOTE = "Strategy meeting: the chair summarised the risks clearly.\n"


@pytest.fixture
def targets(team: CLI) -> dict[str, str]:
    """A source, a coding and a hypothesis in the team's inspection, by kind -> full id (or code id)."""
    assert team("codebook", "use", "sif-2013").code == 0
    source = team("note", NOTE, "--kind", "observation").out.split()[0]
    coding = team("code", "apply", source, "help-protection/strategy-and-s47", "--quote", "summarised the risks",
                  "--valence", "strength", "--json").json()
    ledger = Ledger(team.url)
    try:
        inspection = load_inspection(ledger, "barnet-2017")
        hypothesis = state_hypothesis(ledger, "alice", inspection, load_codebook(ledger, inspection),
                                      "Strategy discussions are timely.", area="help-protection",
                                      codes=["help-protection/strategy-and-s47"], expects="strength")
        source_id = ledger.resolve(source, ["Source.Registered"], "source")
    finally:
        ledger.close()
    return {"source": source_id.hex, "coding": coding["id"], "hypothesis": hypothesis.hex,  # type: ignore[index]
            "code": "help-protection/strategy-and-s47", "inspection": inspection_id("barnet-2017").hex}


def _state(cli: CLI) -> tuple[int, int]:
    ledger = Ledger(cli.url)
    try:
        return ledger.last_position(), ledger.verify()
    finally:
        ledger.close()


@pytest.mark.parametrize(
    ("kind", "typed"),
    [("source", "short"), ("coding", "short"), ("hypothesis", "short"), ("code", "Strategy discussions and S47 "
                                                                              "enquiries"), ("inspection", None)],
)
def test_memo_on_each_kind_of_target(team: CLI, targets: dict[str, str], kind: str, typed: str | None) -> None:
    ref = targets[kind][:8] if typed == "short" else typed
    args = ["memo", "add", "--on", kind, *([ref] if ref else []), f"A thought about this {kind}.", "--json"]
    made = team(*args).json()
    assert made["target_kind"] == kind and made["target"] == targets[kind]  # type: ignore[index]
    shown = team("memo", "show", made["id"][:8], "--json").json()  # type: ignore[index]
    assert shown["text"] == f"A thought about this {kind}." and shown["author"] == "alice"  # type: ignore[index]
    assert shown["target"] == targets[kind]  # type: ignore[index]


def test_memo_defaults_to_the_inspection_and_reads_stdin(team: CLI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("Front door is calm.\nThresholds understood.\n"))
    result = team("memo", "add", "-")
    assert result.code == 0, result.err
    assert "memo on inspection barnet-2017" in result.out
    rows = team("memo", "list", "--json").json()
    assert [row["text"] for row in rows] == ["Front door is calm.\nThresholds understood."]  # type: ignore[index,union-attr]


def test_amend_keeps_the_history(team: CLI, monkeypatch: pytest.MonkeyPatch) -> None:
    memo = team("memo", "add", "First thought.", "--json").json()["id"][:8]  # type: ignore[index]
    assert team("memo", "amend", memo, "Second thought.").code == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("Third thought."))
    assert team("memo", "amend", memo, "-").code == 0
    shown = team("memo", "show", memo, "--json").json()
    assert shown["text"] == "Third thought."  # type: ignore[index]
    assert shown["versions"] == ["First thought.", "Second thought.", "Third thought."]  # type: ignore[index]
    assert shown["amended_at"] is not None  # type: ignore[index]
    text = team("memo", "show", memo).out
    assert "Third thought." in text and "1. First thought." in text and "2. Second thought." in text
    listed = team("memo", "list", "--json").json()
    assert listed[0]["amendments"] == 2  # type: ignore[index]


def test_list_filters_by_target(team: CLI, targets: dict[str, str]) -> None:
    source = targets["source"][:8]
    for args in (("--on", "source", source, "On the source."), ("--on", "code", "help-protection/strategy-and-s47",
                                                                 "On the code."), ("On the inspection.",)):
        assert team("memo", "add", *args).code == 0
    on_source = team("memo", "list", "--on", "source", source, "--json").json()
    assert [row["text"] for row in on_source] == ["On the source."]  # type: ignore[index,union-attr]
    on_codes = team("memo", "list", "--on", "code", "--json").json()
    assert [row["text"] for row in on_codes] == ["On the code."]  # type: ignore[index,union-attr]
    on_inspection = team("memo", "list", "--on", "inspection", "--json").json()
    assert [row["text"] for row in on_inspection] == ["On the inspection."]  # type: ignore[index,union-attr]
    assert len(team("memo", "list", "--json").json()) == 3  # type: ignore[arg-type]
    text = team("memo", "list").out
    assert "help-protection/strategy-and-s47" in text and "barnet-2017" in text and source in text
    assert "Say what" in team("memo", "list", source).one_line_error()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--on", "source", "0000", "Text."), "No source has an id starting with 0000"),
        (("--on", "coding", "zz", "Text."), "is not a coding id"),
        (("--on", "code", "no-such-code", "Text."), "No code 'no-such-code'"),
        (("--on", "hypothesis", "abcd", "Text."), "No hypothesis has an id starting with abcd"),
        (("--on", "source", "Text only."), "--on source ID TEXT"),
        (("--on", "inspection", "other-2018", "Text."), "not 'other-2018'"),
        (("   ",), "The memo is empty"),
        (("a", "b", "c"), "Give the memo as"),
        (("--as", "dave", "Text."), "dave is not a member"),
    ],
)
def test_bad_memos_are_refused(team: CLI, targets: dict[str, str], args: tuple[str, ...], needle: str) -> None:
    if args[:2] == ("--as", "dave"):
        args = ("--as", "dave", "memo", "add", *args[2:])
    else:
        args = ("memo", "add", *args)
    before = _state(team)
    assert needle in team(*args).one_line_error()
    assert _state(team) == before


def test_bad_amendments_are_refused(team: CLI) -> None:
    memo = team("memo", "add", "Mine.", "--json").json()["id"][:8]  # type: ignore[index]
    before = _state(team)
    assert "is alice's" in team("--as", "bob", "memo", "amend", memo, "Theirs.").one_line_error()
    assert "the same as the memo's current text" in team("memo", "amend", memo, "Mine.").one_line_error()
    assert "empty" in team("memo", "amend", memo, " ").one_line_error()
    assert "No memo has an id starting with 0000" in team("memo", "amend", "0000", "x").one_line_error()
    assert _state(team) == before
