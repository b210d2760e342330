"""Blind double-coding rounds: opening and closing them, blindness everywhere codings show, and coding agreement.

Blindness is tested through the command line (``evidence codings``, ``evidence log``, text and JSON) and through
the two hiding functions on both backends. Agreement figures are checked against ``ledger.agreement`` fed with
the codings each round should hold, so these tests check which codings a round gathers, not the statistics
(``tests/test_agreement.py`` checks those).
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from typing import TYPE_CHECKING, Any

import msgspec
import pytest

from ledger.agreement import agreement_report
from ledger.application import Ledger
from ledger.codebook import define
from ledger.codebook import load as load_codebook
from ledger.coding import CodingRequest, SegmentCoded, prepare, withdraw
from ledger.coding import load as load_coding
from ledger.errors import BadInput, NotFound, PermissionDenied
from ledger.events import Role
from ledger.inspection import add_member, load, open_inspection
from ledger.remap import supersede
from ledger.rounds import AgreementRound, all_rounds, assign, close, round_id
from ledger.rounds import load as load_round
from ledger.source import Kind, NewSource, Source, register
from ledger.units import Coding

if TYPE_CHECKING:
    from collections.abc import Iterator

    from conftest import CLI, Result

A = ("The social worker saw the child alone and recorded her wishes. Early help was offered quickly.\n"
     "Managers did not review the plan for months.")
B = "Supervision was regular and reflective. The child was not seen for six weeks."
C = "Return interviews were held for every child missing from care."
HEAVY = ("sqlalchemy", "rich", "plugins", "projections")


def ok(result: Result) -> Result:
    assert result.code == 0, result.err
    return result


# --- the command line: a team with three sources and three codes ---------------------------------------


class World(msgspec.Struct):
    cli: Any
    sources: dict[str, str]

    def code(self, who: str, source: str, code: str, quote: str, valence: str = "strength") -> str:
        """Code a passage as ``who``; returns the coding's full id."""
        data = ok(self.cli("--as", who, "code", "apply", self.sources[source], code, "--quote", quote,
                           "--valence", valence, "--json")).json()
        return data["id"]  # type: ignore[index]

    def state(self) -> tuple[int, int]:
        ledger = Ledger(self.cli.url)
        try:
            return ledger.last_position(), ledger.verify()
        finally:
            ledger.close()

    def refused(self, *args: str) -> str:
        """Run a command that must be refused: one line on stderr, non-zero exit, ledger unchanged."""
        before = self.state()
        line = self.cli(*args).one_line_error()
        assert self.state() == before
        return line


@pytest.fixture
def world(team: CLI) -> World:
    """alice leads; bob and dave are inspectors, carol a panel member; sources A, B, C; three codes."""
    ok(team("member", "add", "dave", "--role", "inspector"))
    sources = {}
    for name, text in (("A", A), ("B", B), ("C", C)):
        sources[name] = ok(team("note", text, "--kind", "case-record", "--title", f"Case file {name}")).out.split()[0]
    for label in ("Early help", "Child seen", "Oversight"):
        ok(team("code", "define", label, "--because", "needed for the round"))
    return World(cli=team, sources=sources)


def test_assign_and_close_through_the_cli(world: World) -> None:
    cli, src = world.cli, world.sources
    opened = ok(cli("agreement", "assign", "--sources", f"{src['A']},{src['B']}", "--coders", "bob,dave", "--json"))
    data = opened.json()
    assert data["round"] == 1 and data["coders"] == ["bob", "dave"]  # type: ignore[index]
    assert [s[:8] for s in data["sources"]] == [src["A"], src["B"]]  # type: ignore[index]
    listed = ok(cli("agreement", "list", "--json")).json()
    assert [(r["number"], r["open"]) for r in listed] == [(1, True)]  # type: ignore[index,union-attr]
    assert listed[0]["codings_so_far"] == {"bob": 0, "dave": 0}  # type: ignore[index]
    assert "Closed agreement round 1" in ok(cli("agreement", "close", "1")).out
    listed = ok(cli("agreement", "list", "--json")).json()
    assert listed[0]["open"] is False and listed[0]["closed_by"] == "alice"  # type: ignore[index]
    ok(cli("agreement", "assign", "--sources", src["C"], "--sources", src["A"], "--coders", "alice", "--coders", "bob"))
    assert "Closed agreement round 2" in ok(cli("agreement", "close", _round_hex(cli, 2)[:8])).out


def _round_hex(cli: CLI, number: int) -> str:
    rows = ok(cli("agreement", "list", "--json")).json()
    return next(r["id"] for r in rows if r["number"] == number)  # type: ignore[union-attr,index]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--coders", "bob"), "at least 2 coders"),
        (("--coders", "bob,bob"), "listed twice"),
        (("--coders", "bob,zed"), "zed is not a member"),
        (("--coders", "bob,carol"), "may not code"),
        (("--coders", "bob,dave", "--sources", "ffff0000"), "No source"),
        (("--coders", "bob,dave", "--sources", "{A},{A}"), "listed twice"),
    ],
)
def test_assign_refuses_bad_input(world: World, args: tuple[str, ...], expected: str) -> None:
    given = [a.format(**world.sources) for a in args]
    if "--sources" not in given:
        given += ["--sources", world.sources["A"]]
    assert expected in world.refused("agreement", "assign", *given)


def test_only_the_lead_assigns_and_closes(world: World) -> None:
    src = world.sources
    line = world.refused("--as", "bob", "agreement", "assign", "--sources", src["A"], "--coders", "bob,dave")
    assert "lead-inspector" in line
    ok(world.cli("agreement", "assign", "--sources", src["A"], "--coders", "bob,dave"))
    assert "lead-inspector" in world.refused("--as", "bob", "agreement", "close", "1")


def test_a_source_is_in_one_open_round_at_a_time(world: World) -> None:
    src = world.sources
    ok(world.cli("agreement", "assign", "--sources", src["A"], "--coders", "bob,dave"))
    line = world.refused("agreement", "assign", "--sources", f"{src['B']},{src['A']}", "--coders", "alice,bob")
    assert "already in open round 1" in line
    ok(world.cli("agreement", "close", "1"))
    ok(world.cli("agreement", "assign", "--sources", src["A"], "--coders", "alice,bob"))


def test_close_refuses_unknown_and_closed_rounds(world: World) -> None:
    assert "no agreement round 3" in world.refused("agreement", "close", "3")
    assert "agreement round" in world.refused("agreement", "close", "abcdef12")
    ok(world.cli("agreement", "assign", "--sources", world.sources["A"], "--coders", "bob,dave"))
    ok(world.cli("agreement", "close", "1"))
    assert "closed already" in world.refused("agreement", "close", "1")


def test_agreement_needs_a_closed_round(world: World) -> None:
    assert "No agreement round has been closed" in world.refused("agreement", "codes")
    ok(world.cli("agreement", "assign", "--sources", world.sources["A"], "--coders", "bob,dave"))
    assert "still open" in world.refused("agreement", "codes", "--round", "1")
    assert "no agreement round 7" in world.refused("agreement", "codes", "--round", "7")


def test_assign_and_close_do_not_import_the_read_side(world: World) -> None:
    args = ["agreement", "assign", "--sources", world.sources["A"], "--coders", "bob,dave"]
    script = (
        "import sys\nfrom cli.main import main\n"
        f"main({args!r})\nmain(['agreement', 'close', '1'])\n"
        f"print('HEAVY', sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=world.cli.cwd, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "Closed agreement round 1" in done.stdout
    assert "HEAVY []" in done.stdout


# --- blindness through the command line ----------------------------------------------------------------


class Blind(msgspec.Struct):
    """Who coded what, around round 1 (A and B, coders bob and dave)."""

    alice_before: str  # alice (lead, not a coder) on A before the round
    bob_c_before: str  # bob on C (not a round source) before the round
    bob_a: list[str]
    dave_a: str
    dave_b: str
    dave_c: str  # dave on C during the round: C is not in the round
    alice_b: str  # alice on B during the round
    withdrawn: str  # dave's coding on A, withdrawn during the round


@pytest.fixture
def blind(world: World) -> tuple[World, Blind]:
    w = world
    alice_before = w.code("alice", "A", "oversight", "Managers did not review the plan", "weakness")
    bob_c_before = w.code("bob", "C", "child-seen", "every child missing")
    ok(w.cli("agreement", "assign", "--sources", f"{w.sources['A']},{w.sources['B']}", "--coders", "bob,dave"))
    bob_a = [w.code("bob", "A", "early-help", "Early help was offered quickly"),
             w.code("bob", "A", "child-seen", "saw the child alone")]
    dave_a = w.code("dave", "A", "early-help", "Early help was offered")
    withdrawn = w.code("dave", "A", "oversight", "did not review the plan", "weakness")
    ok(w.cli("--as", "dave", "code", "withdraw", withdrawn[:8], "--because", "misread the passage"))
    dave_b = w.code("dave", "B", "child-seen", "The child was not seen for six weeks", "weakness")
    dave_c = w.code("dave", "C", "child-seen", "Return interviews were held")
    alice_b = w.code("alice", "B", "oversight", "Supervision was regular")
    return w, Blind(alice_before=alice_before, bob_c_before=bob_c_before, bob_a=bob_a, dave_a=dave_a, dave_b=dave_b,
                    dave_c=dave_c, alice_b=alice_b, withdrawn=withdrawn)


def _listed(w: World, who: str) -> tuple[set[str], str]:
    """The coding ids ``who`` sees in ``evidence codings --json --include-withdrawn``, and the text listing."""
    rows = ok(w.cli("--as", who, "codings", "--json", "--include-withdrawn")).json()
    text = ok(w.cli("--as", who, "codings", "--include-withdrawn")).out
    return {r["id"] for r in rows}, text  # type: ignore[index,union-attr]


def _logged(w: World, who: str) -> tuple[set[str], str]:
    """The aggregate ids of coding events ``who`` sees in ``evidence log --json``, and the text log."""
    rows = ok(w.cli("--as", who, "log", "--json")).json()
    ids = {r["originator_id"].replace("-", "") for r in rows if r["type"].startswith("Coding.")}  # type: ignore[index,union-attr]
    return ids, ok(w.cli("--as", who, "log")).out


def _expected_while_open(b: Blind) -> dict[str, set[str]]:
    """Coders see only their own codings of A and B; others see none of the round's codings."""
    everyone_outside = {b.bob_c_before, b.dave_c}
    return {
        "bob": everyone_outside | set(b.bob_a),
        "dave": everyone_outside | {b.dave_a, b.dave_b, b.withdrawn},
        "alice": everyone_outside | {b.alice_before, b.alice_b},
        "carol": everyone_outside | {b.alice_before, b.alice_b},
    }


def _all(b: Blind) -> set[str]:
    return {b.alice_before, b.bob_c_before, *b.bob_a, b.dave_a, b.dave_b, b.dave_c, b.alice_b, b.withdrawn}


@pytest.mark.parametrize("who", ["bob", "dave", "alice", "carol"])
def test_listing_is_blind_while_the_round_is_open(blind: tuple[World, Blind], who: str) -> None:
    w, b = blind
    expected = _expected_while_open(b)[who]
    seen, text = _listed(w, who)
    assert seen == expected
    for hidden in _all(b) - expected:
        assert hidden[:8] not in text
    for shown in expected:
        assert shown[:8] in text


@pytest.mark.parametrize("who", ["bob", "dave", "alice", "carol"])
def test_log_is_blind_while_the_round_is_open(blind: tuple[World, Blind], who: str) -> None:
    w, b = blind
    expected = _expected_while_open(b)[who]
    seen, text = _logged(w, who)
    assert seen == expected
    for hidden in _all(b) - expected:
        assert hidden[:8] not in text


def test_closing_the_round_shows_everything(blind: tuple[World, Blind]) -> None:
    w, b = blind
    ok(w.cli("agreement", "close", "1"))
    for who in ("bob", "dave", "alice", "carol"):
        assert _listed(w, who)[0] == _all(b)
        assert _logged(w, who)[0] == _all(b)


def test_a_coders_filter_cannot_reach_round_codings(blind: tuple[World, Blind]) -> None:
    w, b = blind
    rows = ok(w.cli("--as", "bob", "codings", "--coder", "dave", "--source", w.sources["A"], "--json")).json()
    assert rows == []
    logged = ok(w.cli("--as", "bob", "log", "--actor", "dave", "--type", "Coding.", "--json")).json()
    assert {r["originator_id"].replace("-", "") for r in logged} == {b.dave_c}  # type: ignore[union-attr,index]


# --- agreement figures through the command line ------------------------------------------------------


def _round_codings(w: World, b: Blind) -> tuple[list[Coding], dict[str, int], dict[str, list[str]]]:
    """What round 1 should hold: bob's and dave's codings of A and B made while it was open, not withdrawn."""
    ids = {name: _full(w, short) for name, short in w.sources.items()}
    key = {name: f"1:{ids[name]}" for name in ("A", "B")}

    def at(name: str, text: str, quote: str) -> tuple[str, int, int]:
        start = text.index(quote)
        return key[name], start, start + len(quote)

    made = [
        ("bob", "early-help", at("A", A, "Early help was offered quickly")),
        ("bob", "child-seen", at("A", A, "saw the child alone")),
        ("dave", "early-help", at("A", A, "Early help was offered")),
        ("dave", "child-seen", at("B", B, "The child was not seen for six weeks")),
    ]
    codings = [Coding(coder=c, source=s, start=a, end=e, code=code) for c, code, (s, a, e) in made]
    lengths = {key["A"]: len(A), key["B"]: len(B)}
    return codings, lengths, {"bob": [key["A"], key["B"]], "dave": [key["A"], key["B"]]}


def _full(w: World, short: str) -> str:
    rows = ok(w.cli("source", "list", "--json")).json()
    return next(r["id"] for r in rows if r["id"].startswith(short))  # type: ignore[union-attr,index]


@pytest.mark.parametrize("unit", ["character", "segment", "source"])
@pytest.mark.parametrize("exclude", [False, True])
def test_agreement_figures_are_those_of_the_rounds_codings(blind: tuple[World, Blind], unit: str,
                                                          exclude: bool) -> None:
    w, b = blind
    ok(w.cli("agreement", "close", "1"))
    w.code("bob", "B", "child-seen", "The child was not seen")  # after the round: not part of it
    args = ["agreement", "codes", "--unit", unit, "--json"] + (["--exclude-uncoded"] if exclude else [])
    data = ok(w.cli(*args)).json()
    codings, lengths, read = _round_codings(w, b)
    expected = agreement_report(codings, lengths, ["bob", "dave"], ["early-help", "child-seen"], unit,  # type: ignore[arg-type]
                                exclude, also_read=read)
    plain = msgspec.to_builtins(expected)
    assert data["codes"] == plain["codes"]  # type: ignore[index]
    assert data["overall"] == plain["overall"]  # type: ignore[index]
    assert data["unit"] == unit and data["exclude_uncoded"] is exclude and data["rounds"] == [1]  # type: ignore[index]
    assert "Krippendorff's alpha, nominal" in data["coefficients"]["alpha"]  # type: ignore[index]
    assert "Cohen's kappa" in data["coefficients"]["kappa"]  # type: ignore[index]
    flat = [(d["code"], d["start"], d["end"], d["applied_by"], d["not_applied_by"]) for d in data["disagreements"]]  # type: ignore[index,union-attr]
    want = [(code, d.start, d.end, list(d.applied_by), list(d.not_applied_by))
            for code, found in expected.disagreements.items() for d in found]
    assert flat == want


def test_agreement_text_names_coefficients_units_and_quotes_disagreements(blind: tuple[World, Blind]) -> None:
    w, _ = blind
    ok(w.cli("agreement", "close", "1"))
    out = ok(w.cli("agreement", "codes", "--unit", "segment")).out
    assert "Unit: segment" in out
    assert "Cohen's kappa" in out and "Krippendorff's alpha, nominal" in out and "percent agreement" in out
    assert "segments" in out
    assert "all codes (pooled)" in out
    assert "“The child was not seen for six weeks”" in out
    assert "applied by dave; not by bob" in out
    assert "“saw the child alone”" in out


def test_agreement_for_one_code(blind: tuple[World, Blind]) -> None:
    w, _ = blind
    ok(w.cli("agreement", "close", "1"))
    data = ok(w.cli("agreement", "codes", "--code", "Early help", "--unit", "source", "--json")).json()
    assert [c["code"] for c in data["codes"]] == ["early-help"]  # type: ignore[index,union-attr]
    assert data["codes"][0]["percent_agreement"] == 1.0  # type: ignore[index]
    assert data["disagreements"] == []  # type: ignore[index]
    assert "No code 'nothing-like-it'" in w.refused("agreement", "codes", "--code", "nothing-like-it")


def test_agreement_is_not_shown_to_someone_coding_the_same_source_blind(blind: tuple[World, Blind]) -> None:
    w, _ = blind
    ok(w.cli("agreement", "close", "1"))
    ok(w.cli("agreement", "assign", "--sources", w.sources["A"], "--coders", "bob,alice"))
    for who in ("bob", "alice"):  # they code A blind in round 2: round 1's codings of A by others are hidden
        line = w.refused("--as", who, "agreement", "codes", "--round", "1")
        assert f"shares source {w.sources['A']}" in line and f"{who} codes blind" in line
    assert ok(w.cli("--as", "dave", "agreement", "codes", "--round", "1", "--json")).json()["rounds"] == [1]  # type: ignore[index]


def test_agreement_is_the_same_after_a_rebuild(blind: tuple[World, Blind]) -> None:
    w, _ = blind
    ok(w.cli("agreement", "close", "1"))
    before = ok(w.cli("agreement", "codes", "--json")).out, ok(w.cli("agreement", "list", "--json")).out
    ok(w.cli("projections", "rebuild"))
    assert (ok(w.cli("agreement", "codes", "--json")).out, ok(w.cli("agreement", "list", "--json")).out) == before


# --- the ledger and the read side, on both backends -----------------------------------------------


class Built(msgspec.Struct):
    ledger: Any
    sources: dict[str, uuid.UUID]

    def code(self, who: str, source: str, code: str, quote: str) -> uuid.UUID:
        inspection = load(self.ledger, "barnet-2017")
        state = self.ledger.get(Source, self.sources[source])
        event = prepare(self.ledger, who, inspection, state, load_codebook(self.ledger, inspection),
                        CodingRequest(code=code, valence="strength", quote=quote))
        self.ledger.append(event)
        return event.originator_id


@pytest.fixture
def built(ledger: Ledger) -> Iterator[Built]:
    from projections.engine import engine_for

    open_inspection(ledger, "alice", "barnet-2017", authority="Barnet", framework="sif-2013")
    for person in ("bob", "dave"):
        add_member(ledger, "alice", "barnet-2017", person, Role.INSPECTOR)
    add_member(ledger, "alice", "barnet-2017", "carol", Role.PANEL)
    inspection = load(ledger, "barnet-2017")
    added, _ = register(ledger, "alice", inspection, [
        NewSource(title=f"Case file {n}", text=t, kind=Kind.CASE_RECORD) for n, t in (("A", A), ("B", B), ("C", C))
    ])
    for label in ("Early help", "Child seen"):
        define(ledger, "alice", load(ledger, "barnet-2017"), label, parent=None, facet=None, description="",
               rationale="test")
    yield Built(ledger=ledger, sources=dict(zip("ABC", added)))
    engine_for(ledger.url).dispose()


def _visible(b: Built, who: str) -> set[uuid.UUID]:
    from projections import ready
    from projections.evidence import codings
    from projections.rounds import hidden_for

    inspection = load(b.ledger, "barnet-2017")
    with ready(b.ledger).connect() as conn:
        rows = codings(conn, inspection.id, include_withdrawn=True, hidden=hidden_for(conn, inspection.id, who))
    return {uuid.UUID(r["id"]) for r in rows}


def _events_visible(b: Built, who: str) -> set[uuid.UUID]:
    from projections import ready
    from projections.rounds import hidden_events_for

    hides = hidden_events_for(ready(b.ledger), who)
    return {e.originator_id for p, e in b.ledger.history() if e.TOPIC.startswith("Coding.") and not hides(e, p)}


def test_rounds_are_numbered_and_resolved(built: Built) -> None:
    ledger, src = built.ledger, built.sources
    inspection = load(ledger, "barnet-2017")
    first = assign(ledger, "alice", inspection, [src["A"].hex[:8]], ["bob", "dave"])
    second = assign(ledger, "alice", load(ledger, "barnet-2017"), [src["B"].hex], ["dave", "bob"])
    assert (first.number, second.number) == (1, 2)
    assert first.id == round_id(inspection.id, 1)
    assert [r.number for r in all_rounds(ledger, inspection)] == [1, 2]
    assert load_round(ledger, inspection, "2").coders == ("dave", "bob")
    assert load_round(ledger, inspection, second.id.hex[:6]).number == 2
    with pytest.raises(NotFound, match="no agreement round 3"):
        load_round(ledger, inspection, "3")
    close(ledger, "alice", inspection, load_round(ledger, inspection, "1"))
    state = ledger.get(AgreementRound, first.id)
    assert not state.is_open and state.sources == (src["A"],)
    with pytest.raises(BadInput, match="closed already"):
        close(ledger, "alice", inspection, state)
    with pytest.raises(PermissionDenied):
        assign(ledger, "bob", inspection, [src["C"].hex], ["bob", "dave"])


def test_hidden_for_and_hidden_events_for_agree(built: Built) -> None:
    ledger = built.ledger
    before = built.code("bob", "A", "early-help", "Early help was offered quickly")
    assign(ledger, "alice", load(ledger, "barnet-2017"), [built.sources["A"].hex], ["bob", "dave"])
    bob = built.code("bob", "A", "child-seen", "saw the child alone")
    dave = built.code("dave", "A", "early-help", "Early help was offered")
    outside = built.code("dave", "C", "child-seen", "every child missing")
    expected = {
        "bob": {before, bob, outside},
        "dave": {dave, outside},
        "alice": {before, outside},  # bob's coding before the round is not a round coding
        "carol": {before, outside},
    }
    for who, wanted in expected.items():
        assert _visible(built, who) == wanted, who
        assert _events_visible(built, who) == wanted, who
    inspection = load(ledger, "barnet-2017")
    close(ledger, "alice", inspection, load_round(ledger, inspection, "1"))
    for who in expected:
        assert _visible(built, who) == {before, bob, dave, outside}
        assert _events_visible(built, who) == {before, bob, dave, outside}


def test_a_superseding_version_joins_the_open_round(built: Built) -> None:
    ledger = built.ledger
    assign(ledger, "alice", load(ledger, "barnet-2017"), [built.sources["A"].hex], ["bob", "dave"])
    dave = built.code("dave", "A", "early-help", "Early help was offered")
    inspection = load(ledger, "barnet-2017")
    old = ledger.get(Source, built.sources["A"])
    new_text = A.replace("months", "three months")
    new_id, placed, _ = supersede(ledger, "alice", inspection, old,
                                  NewSource(title="Case file A v2", text=new_text, kind=Kind.CASE_RECORD),
                                  [load_coding(ledger, dave.hex, inspection)], "corrected by the authority")
    assert placed == 1
    assert dave not in _visible(built, "bob")
    assert dave not in _events_visible(built, "bob")  # neither its SegmentCoded nor its Remapped event
    built.sources["A2"] = new_id
    late = built.code("dave", "A2", "child-seen", "saw the child alone")
    assert late not in _visible(built, "bob") and late in _visible(built, "dave")


def test_withdrawn_and_memo_events_of_hidden_codings_are_hidden(built: Built) -> None:
    from ledger.memo import Amended, Memo, Written
    from projections import ready
    from projections.rounds import hidden_events_for

    ledger = built.ledger
    assign(ledger, "alice", load(ledger, "barnet-2017"), [built.sources["A"].hex], ["bob", "dave"])
    dave = built.code("dave", "A", "early-help", "Early help was offered")
    inspection = load(ledger, "barnet-2017")
    withdraw(ledger, "dave", inspection, load_coding(ledger, dave.hex, inspection), "wrong code")
    memo = uuid.uuid4()
    ledger.append(Written(originator_id=memo, originator_version=1, timestamp=ledger.clock(), actor="dave",
                          role=Role.INSPECTOR, inspection=inspection.id, target_kind="coding", target=dave.hex,
                          text="Is this early help or a referral?"))
    ledger.append(ledger.event(Amended, ledger.get(Memo, memo), "dave", Role.INSPECTOR, text="A referral."))
    hides = hidden_events_for(ready(ledger), "bob")
    shown = [(type(e).TOPIC, e.originator_id) for p, e in ledger.history() if not hides(e, p)]
    assert all(oid not in (dave, memo) for _, oid in shown)
    hides_dave = hidden_events_for(ready(ledger), "dave")
    mine = {e.originator_id for p, e in ledger.history() if not hides_dave(e, p)}
    assert {dave, memo} <= mine


def test_round_codings_keep_only_the_rounds_window_and_coders(built: Built) -> None:
    from projections import ready
    from projections.rounds import round_codings

    ledger = built.ledger
    built.code("bob", "A", "child-seen", "saw the child alone")  # before the round
    assign(ledger, "alice", load(ledger, "barnet-2017"), [built.sources["A"].hex, built.sources["B"].hex],
           ["bob", "dave"])
    built.code("bob", "A", "early-help", "Early help was offered quickly")
    built.code("dave", "B", "child-seen", "The child was not seen")
    built.code("alice", "A", "child-seen", "recorded her wishes")  # alice is not one of the round's coders
    built.code("dave", "C", "early-help", "Return interviews")  # C is not in the round
    inspection = load(ledger, "barnet-2017")
    close(ledger, "alice", inspection, load_round(ledger, inspection, "1"))
    built.code("dave", "A", "early-help", "Early help was offered")  # after the round
    with ready(ledger).connect() as conn:
        found = round_codings(conn, inspection.id, [1])
    a, b = f"1:{built.sources['A'].hex}", f"1:{built.sources['B'].hex}"
    assert [(c.coder, c.source, c.code) for c in found.codings] == [
        ("bob", a, "early-help"), ("dave", b, "child-seen"),
    ]
    assert found.codes == ["early-help", "child-seen"]
    assert found.coders == ["bob", "dave"]
    assert found.lengths == {a: len(A), b: len(B)}
    assert found.also_read == {"bob": [a, b], "dave": [a, b]}
    assert found.places[a]["title"] == "Case file A" and found.texts[built.sources["A"].hex] == A


def test_segment_coded_events_carry_no_round_stamp(built: Built) -> None:
    """Membership comes from positions, so codings made during a round are ordinary SegmentCoded events."""
    ledger = built.ledger
    assign(ledger, "alice", load(ledger, "barnet-2017"), [built.sources["A"].hex], ["bob", "dave"])
    coding = built.code("bob", "A", "early-help", "Early help was offered quickly")
    events = [e for _, e in ledger.history() if isinstance(e, SegmentCoded) and e.originator_id == coding]
    assert events and events[0].round is None
