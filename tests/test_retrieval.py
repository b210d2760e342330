"""Retrieval: the sources, codings, code tree, memos, coverage and vignettes projections and their commands.

The ledgers are built through the ledger API (register, adopt, prepare + append, supersede, merge, memos) on
SQLite and PostgreSQL; the commands are run through the CLI, and a rebuild must give byte-identical output.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import msgspec
import pytest

from ledger import codebook, coding, memo, remap, source
from ledger.application import Ledger
from ledger.errors import NotFound
from ledger.events import Role
from ledger.inspection import add_member, load, open_inspection
from ledger.pluginmanager import registered
from projections import evidence, ready
from projections.engine import engine_for

if TYPE_CHECKING:
    from collections.abc import Iterator

    from conftest import CLI

CASE_RECORD = (
    "Chloé said she felt listened to 😊\r\n"
    "Her social worker, José, visited every week and saw her alone.\r\n"
    "Management oversight was visible on the file, with clear actions and timescales for the plan.\r\n"
)
OBSERVATION = (
    "The strategy discussion was timely and the chair summarised the risks clearly.\n"
    "No return interview was offered after Zoë went missing for two nights, and no one followed it up.\n"
)
INTERVIEW = "Supervision was infrequent and not reflective. Caseloads were high.\nWorkers felt supported."
INTERVIEW_V2 = "Transcript corrected.\n" + INTERVIEW
SELF_ASSESSMENT = "The local authority judges its early help offer to be good."

SEEN = "help-protection/child-seen-wishes-feelings"
MISSING = "help-protection/missing-from-home"
OVERSIGHT = "leadership/management-oversight-supervision"
STRATEGY = "help-protection/strategy-and-s47"


class Clock:
    """Event times one minute apart from 09:00 on the first day of fieldwork; ``next_day`` jumps a day."""

    def __init__(self) -> None:
        self.now = datetime(2017, 1, 9, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now

    def next_day(self) -> None:
        self.now = self.now.replace(hour=9, minute=0) + timedelta(days=1)


class World(msgspec.Struct, kw_only=True):
    ledger: Ledger
    clock: Clock
    inspection: uuid.UUID
    sources: dict[str, uuid.UUID]
    codings: dict[str, uuid.UUID]
    memo: uuid.UUID


def _code(w: Ledger, actor: str, sid: uuid.UUID, code: str, valence: str, quote: str, **more: Any) -> uuid.UUID:
    inspection = load(w, "barnet-2017")
    state = source.load(w, sid.hex, inspection)
    event = coding.prepare(w, actor, inspection, state, codebook.load(w, inspection),
                           coding.CodingRequest(code=code, valence=valence, quote=quote, **more))
    w.append(event)
    return event.originator_id


def build(url: str) -> World:
    """Four sources over two days, codings by two inspectors, a withdrawal, a merge, a supersession, a memo."""
    clock = Clock()
    ledger = Ledger(url, create=True, clock=clock)
    open_inspection(ledger, "alice", "barnet-2017", authority="Barnet", framework="sif-2013")
    add_member(ledger, "alice", "barnet-2017", "bob", Role.INSPECTOR)
    inspection = load(ledger, "barnet-2017")
    codebook.adopt(ledger, "alice", inspection, registered("register_codebooks")["sif-2013"])
    items = [
        source.NewSource(title="Case record: Chloé", text=CASE_RECORD, kind=source.Kind.CASE_RECORD, case="C-1"),
        source.NewSource(title="Strategy meeting", text=OBSERVATION, kind=source.Kind.OBSERVATION, case="C-2"),
        source.NewSource(title="Interview: team manager", text=INTERVIEW, kind=source.Kind.INTERVIEW, case="C-1"),
    ]
    added, _ = source.register(ledger, "bob", inspection, items)
    ids = dict(zip(("record", "observation", "interview"), added, strict=True))
    made = {
        "seen": _code(ledger, "bob", ids["record"], SEEN, "strength", "Chloé said she felt listened to 😊",
                      band="good", note="The child's own words, recorded."),
        "oversight": _code(ledger, "bob", ids["record"], OVERSIGHT, "strength",
                           "Management oversight was visible on the file"),
        "chair": _code(ledger, "bob", ids["observation"], STRATEGY, "strength", "the chair summarised the risks"),
    }
    clock.next_day()
    (self_assessment,), _ = source.register(ledger, "alice", load(ledger, "barnet-2017"), [
        source.NewSource(title="Self-assessment", text=SELF_ASSESSMENT, kind=source.Kind.SELF_ASSESSMENT)])
    ids["self"] = self_assessment
    made["missing"] = _code(ledger, "alice", ids["observation"], MISSING, "weakness",
                            "No return interview was offered after Zoë went missing for two nights",
                            band="requires-improvement", note="No follow-up at all.")
    emergent = codebook.define(ledger, "alice", load(ledger, "barnet-2017"), "Return interviews",
                               parent="help-protection", facet="process", description="", rationale="seen often")
    made["emergent"] = _code(ledger, "alice", ids["observation"], emergent, "weakness", "no one followed it up")
    codebook.merge(ledger, "alice", load(ledger, "barnet-2017"), [emergent], MISSING, "same theme")
    made["supervision"] = _code(ledger, "bob", ids["interview"], OVERSIGHT, "weakness",
                                "Supervision was infrequent and not reflective")
    inspection = load(ledger, "barnet-2017")
    coding.withdraw(ledger, "bob", inspection, coding.load(ledger, made["chair"].hex, inspection), "misread")
    old = source.load(ledger, ids["interview"].hex, inspection)
    new_id, placed, unplaced = remap.supersede(
        ledger, "bob", inspection, old,
        source.NewSource(title="Interview: team manager (corrected)", text=INTERVIEW_V2, kind=source.Kind.INTERVIEW,
                         case="C-1"),
        [ledger.get(coding.Coding, made["supervision"], what="coding")],
        "transcript corrected",
    )
    assert (placed, unplaced) == (1, 0)
    ids["interview_v2"] = new_id
    memo_id = memo.write(ledger, "alice", inspection, "code", MISSING, "Return interviews look weak.")
    memo.amend(ledger, "alice", inspection, memo.load(ledger, memo_id.hex, inspection),
               "Return interviews look weak across cases.")
    assert inspection.id is not None
    return World(ledger=ledger, clock=clock, inspection=inspection.id, sources=ids, codings=made, memo=memo_id)


@pytest.fixture
def world(url: str) -> Iterator[World]:
    built = build(url)
    yield built
    engine_for(url).dispose()
    built.ledger.close()


def _ids(rows: list[dict[str, Any]]) -> list[str]:
    return [r["id"] for r in rows]


# --- the query functions, on both backends --------------------------------------------------------


def test_quotes_are_exact_with_accents_emoji_and_crlf(world: World) -> None:
    with ready(world.ledger).connect() as conn:
        rows = evidence.codings(conn, world.inspection, source=world.sources["record"], context=20)
        text = evidence.source_text(conn, world.sources["record"])
    assert text == CASE_RECORD
    assert [r["quote"] for r in rows] == ["Chloé said she felt listened to 😊",
                                          "Management oversight was visible on the file"]
    first, second = rows
    assert (first["start"], first["end"]) == (0, len("Chloé said she felt listened to 😊"))
    assert first["after"] == "\r\nHer social worker,"[:20] and first["before"] == ""
    assert second["before"] == CASE_RECORD[second["start"] - 20 : second["start"]]
    assert "\r\n" in second["before"]
    assert first["title"] == "Case record: Chloé" and first["case"] == "C-1" and first["kind"] == "case-record"
    assert first["band"] == "good" and first["note"] == "The child's own words, recorded."
    assert first["coder"] == "bob" and first["coded_at"] == "2017-01-09T09:07:00+00:00"
    assert first["tier"] == "direct" and first["id"] == world.codings["seen"].hex


def test_code_with_and_without_children(world: World) -> None:
    with ready(world.ledger).connect() as conn:
        alone = evidence.codings(conn, world.inspection, code="help-protection")
        family = evidence.codings(conn, world.inspection, code="help-protection", with_children=True)
        leaf = evidence.codings(conn, world.inspection, code=SEEN, with_children=True)
    assert alone == []
    assert _ids(family) == [world.codings[k].hex for k in ("seen", "missing", "emergent")]
    assert _ids(leaf) == [world.codings["seen"].hex]


def test_merged_codes_count_under_their_target(world: World) -> None:
    with ready(world.ledger).connect() as conn:
        rows = evidence.codings(conn, world.inspection, code=MISSING)
        via_merged = evidence.codings(conn, world.inspection, code="help-protection/return-interviews")
        tree = {r["id"]: r for r in evidence.code_tree(conn, world.inspection)}
    assert _ids(rows) == [world.codings["missing"].hex, world.codings["emergent"].hex]
    assert _ids(via_merged) == _ids(rows)
    merged = rows[1]
    assert merged["code"] == MISSING and merged["original_code"] == "help-protection/return-interviews"
    assert tree[MISSING]["codings"] == 2 and tree[MISSING]["status"] == "active"
    gone = tree["help-protection/return-interviews"]
    assert gone["status"] == "merged" and gone["merged_into"] == MISSING and gone["codings"] == 0
    assert gone["origin"] == "emergent" and gone["facet"] == "process"
    assert tree["help-protection"]["codings"] == 0 and tree["help-protection"]["total"] == 3
    assert tree[STRATEGY]["codings"] == 0  # its only coding was withdrawn


def test_code_tree_is_in_tree_order(world: World) -> None:
    with ready(world.ledger).connect() as conn:
        tree = evidence.code_tree(conn, world.inspection)
    ids = [r["id"] for r in tree]
    spec = [c.id for c in registered("register_codebooks")["sif-2013"].codes]
    assert ids.index("help-protection/return-interviews") == ids.index("help-protection/pre-proceedings") + 1
    assert [i for i in ids if i != "help-protection/return-interviews"] == spec
    depth = {r["id"]: r["depth"] for r in tree}
    assert depth["help-protection"] == 0 and depth[SEEN] == 1


def test_withdrawn_codings_are_hidden_unless_asked(world: World) -> None:
    chair = world.codings["chair"].hex
    with ready(world.ledger).connect() as conn:
        shown = evidence.codings(conn, world.inspection)
        everything = evidence.codings(conn, world.inspection, include_withdrawn=True)
    assert chair not in _ids(shown)
    assert chair in _ids(everything)
    assert next(r for r in everything if r["id"] == chair)["withdrawn"] is True
    assert len(everything) == len(shown) + 1


def test_remapped_codings_point_at_the_new_source(world: World) -> None:
    with ready(world.ledger).connect() as conn:
        old = evidence.codings(conn, world.inspection, source=world.sources["interview"])
        new = evidence.codings(conn, world.inspection, source=world.sources["interview_v2"])
        listed = {s["id"]: s for s in evidence.sources(conn, world.inspection)}
    assert old == []
    (row,) = new
    assert row["id"] == world.codings["supervision"].hex
    assert row["quote"] == "Supervision was infrequent and not reflective"
    assert row["start"] == INTERVIEW_V2.index("Supervision") and row["coded_source"] == world.sources["interview"].hex
    assert row["title"] == "Interview: team manager (corrected)"
    assert listed[world.sources["interview"].hex]["superseded_by"] == world.sources["interview_v2"].hex
    assert listed[world.sources["interview"].hex]["status"] == "superseded"
    assert listed[world.sources["interview_v2"].hex]["supersedes"] == world.sources["interview"].hex


def test_filters_by_valence_case_coder_and_kind(world: World) -> None:
    c = world.codings
    with ready(world.ledger).connect() as conn:
        def ids(**filters: Any) -> list[str]:
            return _ids(evidence.codings(conn, world.inspection, **filters))

        assert ids(valence="weakness") == [c["missing"].hex, c["emergent"].hex, c["supervision"].hex]
        assert ids(case="C-1") == [c["seen"].hex, c["oversight"].hex, c["supervision"].hex]
        assert ids(coder="alice") == [c["missing"].hex, c["emergent"].hex]
        assert ids(kind="interview") == [c["supervision"].hex]
        assert ids(code=OVERSIGHT, valence="strength") == [c["oversight"].hex]
        assert ids(hidden=lambda row: row["coder"] == "bob") == [c["missing"].hex, c["emergent"].hex]
        with pytest.raises(NotFound, match="No code 'nope'"):
            evidence.codings(conn, world.inspection, code="nope")


def test_sources_list_provenance(world: World) -> None:
    with ready(world.ledger).connect() as conn:
        rows = evidence.sources(conn, world.inspection)
        current = evidence.sources(conn, world.inspection, current_only=True)
        records = evidence.sources(conn, world.inspection, kind="case-record")
        c1 = evidence.sources(conn, world.inspection, case="C-1")
    assert [r["title"] for r in rows] == ["Case record: Chloé", "Strategy meeting", "Interview: team manager",
                                          "Self-assessment", "Interview: team manager (corrected)"]
    assert [r["position"] for r in rows] == sorted(r["position"] for r in rows)
    assert world.sources["interview"].hex not in _ids(current) and len(current) == 4
    assert _ids(records) == [world.sources["record"].hex]
    assert len(c1) == 3
    record = rows[0]
    assert record["length"] == len(CASE_RECORD) and record["collector"] == "bob" and record["tier"] == "direct"
    assert record["registered_at"] == "2017-01-09T09:04:00+00:00" and record["withdrawn"] is False
    assert rows[3]["tier"] == "authority" and rows[3]["collector"] == "alice"


def test_coverage_per_inspector_and_day(world: World) -> None:
    with ready(world.ledger).connect() as conn:
        data = evidence.coverage(conn, world.inspection)
    assert data["sources"] == 4 and data["coded"] == 3 and data["codings"] == 5
    assert [(u["id"], u["title"]) for u in data["uncoded"]] == [(world.sources["self"].hex, "Self-assessment")]
    assert data["by_inspector"] == [
        {"person": "alice", "codings": 2, "sources_registered": 1, "sources_coded": 1},
        {"person": "bob", "codings": 3, "sources_registered": 4, "sources_coded": 2},
    ]
    assert data["by_day"] == [
        {"day": "2017-01-09", "codings": 2, "sources_registered": 3, "sources_coded": 1},
        {"day": "2017-01-10", "codings": 3, "sources_registered": 2, "sources_coded": 2},
    ]
    assert {(r["person"], r["day"]): r["codings"] for r in data["by_inspector_day"]} == {
        ("bob", "2017-01-09"): 2, ("alice", "2017-01-10"): 2, ("bob", "2017-01-10"): 1,
    }
    kinds = {r["kind"]: r for r in data["by_kind"]}
    assert kinds["self-assessment"] == {"kind": "self-assessment", "sources": 1, "coded": 0, "codings": 0,
                                        "uncoded": 1}
    assert kinds["observation"]["codings"] == 2 and kinds["interview"]["coded"] == 1


def test_vignettes_pick_strengths_and_weaknesses(world: World) -> None:
    with ready(world.ledger).connect() as conn:
        data = evidence.vignettes(conn, world.inspection, "help-protection", per_valence=2)
        lead = evidence.vignettes(conn, world.inspection, "leadership", per_valence=1)
    assert data["code"] == "help-protection" and "score" in data["scoring"]
    assert _ids(data["strength"]) == [world.codings["seen"].hex]
    assert data["strength"][0]["score"] == 3 + 1 + 1 + 1  # note, band, band matches, direct (quote too short)
    assert _ids(data["weakness"]) == [world.codings["missing"].hex, world.codings["emergent"].hex]
    top = data["weakness"][0]
    assert top["reasons"] == ["note", "band", "band matches valence", "readable length", "direct evidence"]
    assert top["title"] == "Strategy meeting" and top["coder"] == "alice"
    assert data["weakness_considered"] == 2 and data["strength_considered"] == 1
    assert _ids(lead["strength"]) == [world.codings["oversight"].hex]
    assert _ids(lead["weakness"]) == [world.codings["supervision"].hex]


def test_vignettes_prefer_distinct_cases(url: str) -> None:
    ledger = Ledger(url, create=True)
    try:
        open_inspection(ledger, "alice", "barnet-2017", authority="Barnet", framework="sif-2013")
        inspection = load(ledger, "barnet-2017")
        codebook.adopt(ledger, "alice", inspection, registered("register_codebooks")["sif-2013"])
        texts = {
            "C-1": "Plans were reviewed on time and the child's views shaped every review meeting held this year.",
            "C-2": "Plans were updated and shared with the family before each review meeting.",
        }
        (one, two), _ = source.register(ledger, "alice", inspection, [
            source.NewSource(title=case, text=text, kind=source.Kind.CASE_RECORD, case=case)
            for case, text in texts.items()])
        best = _code(ledger, "alice", one, SEEN, "strength", texts["C-1"], band="good", note="clear")
        _code(ledger, "alice", one, SEEN, "strength", "the child's views shaped every review meeting",
              band="good", note="clear")
        other = _code(ledger, "alice", two, SEEN, "strength", "Plans were updated")
        with ready(ledger).connect() as conn:
            data = evidence.vignettes(conn, inspection.id, SEEN, per_valence=2)
        assert _ids(data["strength"]) == [best.hex, other.hex]  # the second C-1 coding scores higher but repeats
        assert data["strength_considered"] == 3
    finally:
        engine_for(url).dispose()
        ledger.close()


def test_memos_with_amendments(world: World) -> None:
    with ready(world.ledger).connect() as conn:
        on_code = evidence.memos(conn, world.inspection, target_kind="code", target=MISSING)
        on_sources = evidence.memos(conn, world.inspection, target_kind="source")
    (row,) = on_code
    assert row["id"] == world.memo.hex and row["text"] == "Return interviews look weak across cases."
    assert row["amendments"] == 1 and row["author"] == "alice" and row["amended_at"] > row["written_at"]
    assert on_sources == []


def test_rebuild_gives_identical_results(world: World) -> None:
    from projections import all_projections
    from projections.base import rebuild

    def everything() -> bytes:
        with ready(world.ledger).connect() as conn:
            data = {
                "codings": evidence.codings(conn, world.inspection, include_withdrawn=True),
                "tree": evidence.code_tree(conn, world.inspection),
                "coverage": evidence.coverage(conn, world.inspection),
                "sources": evidence.sources(conn, world.inspection),
                "memos": evidence.memos(conn, world.inspection),
                "vignettes": evidence.vignettes(conn, world.inspection, "help-protection"),
                "search": evidence.search(conn, world.inspection, "return interview"),
            }
        return msgspec.json.encode(data)

    before = everything()
    rebuild(world.ledger, engine_for(world.ledger.url), all_projections())
    assert everything() == before


# --- the commands ---------------------------------------------------------------------------------


@pytest.fixture
def team_world(team: CLI) -> Iterator[tuple[CLI, World]]:
    """The team fixture's ledger (alice leads barnet-2017, bob inspects) with the same evidence added."""
    ledger = Ledger(team.url)
    inspection = load(ledger, "barnet-2017")
    added, _ = source.register(ledger, "bob", inspection, [
        source.NewSource(title="Case record: Chloé", text=CASE_RECORD, kind=source.Kind.CASE_RECORD, case="C-1"),
        source.NewSource(title="Strategy meeting", text=OBSERVATION, kind=source.Kind.OBSERVATION, case="C-2"),
    ])
    codebook.adopt(ledger, "alice", inspection, registered("register_codebooks")["sif-2013"])
    made = {
        "seen": _code(ledger, "bob", added[0], SEEN, "strength", "Chloé said she felt listened to 😊",
                      band="good", note="own words"),
        "missing": _code(ledger, "alice", added[1], MISSING, "weakness", "No return interview was offered"),
    }
    assert inspection.id is not None
    yield team, World(ledger=ledger, clock=Clock(), inspection=inspection.id,
                      sources=dict(zip(("record", "observation"), added, strict=True)), codings=made, memo=uuid.uuid4())
    engine_for(team.url).dispose()
    ledger.close()


def test_codings_command_prints_quotes_in_context_with_provenance(team_world: tuple[CLI, World]) -> None:
    cli, w = team_world
    result = cli("codings", "--code", "child-seen-wishes-feelings", "--context", "12")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith(f"{w.codings['seen'].hex[:8]}  strength (good)  {SEEN}")
    assert lines[1] == "    “Chloé said she felt listened to 😊 Her social…”"
    assert "Case record: Chloé · case-record · case C-1" in lines[2] and "coded by bob" in lines[2]
    assert lines[3] == "    note: own words" and lines[-1] == "1 coding(s)."
    rows = cli("codings", "--code", "help-protection", "--with-children", "--json").json()
    assert [r["id"] for r in rows] == [w.codings["seen"].hex, w.codings["missing"].hex]  # type: ignore[index,union-attr]
    assert cli("codings", "--coder", "alice", "--valence", "weakness", "--kind", "observation", "--json").json() == [
        rows[1]  # type: ignore[index]
    ]
    assert cli("codings", "--source", w.sources["record"].hex[:8], "--case", "C-1", "--json").json() == [
        rows[0]  # type: ignore[index]
    ]


@pytest.mark.parametrize(("args", "needle"), [
    (("codings", "--code", "no-such-code"), "No code 'no-such-code'"),
    (("codings", "--with-children"), "--with-children needs --code"),
    (("codings", "--kind", "gossip"), "'gossip' is not a source kind"),
    (("codings", "--source", "ffffffff"), "No source has an id starting with ffffffff"),
    (("vignettes", "--code", "no-such-code"), "No code 'no-such-code'"),
    (("search", "😊"), "holds no words"),
])
def test_bad_input_is_one_clear_line(team_world: tuple[CLI, World], args: tuple[str, ...], needle: str) -> None:
    cli, w = team_world
    before = (w.ledger.last_position(), w.ledger.verify())
    line = cli(*args).one_line_error()
    assert needle in line
    assert (w.ledger.last_position(), w.ledger.verify()) == before


def test_coverage_and_vignettes_commands(team_world: tuple[CLI, World]) -> None:
    cli, w = team_world
    data = cli("coverage", "--json").json()
    assert data["coded"] == 2 and data["uncoded"] == []  # type: ignore[index,call-overload]
    text = cli("coverage").out
    assert text.startswith("2 current source(s): 2 coded, 0 not yet coded; 2 coding(s).")
    assert "alice" in text and "bob" in text
    picked = cli("vignettes", "--code", "help-protection", "--json").json()
    assert [r["id"] for r in picked["strength"]] == [w.codings["seen"].hex]  # type: ignore[index,call-overload]
    assert [r["id"] for r in picked["weakness"]] == [w.codings["missing"].hex]  # type: ignore[index,call-overload]
    text = cli("vignettes", "--code", "help-protection").out
    assert "Strengths: 1 of 1 coding(s)" in text and "Weaknesses: 1 of 1 coding(s)" in text
    assert "Chloé said she felt listened to 😊" in text and "Scoring: score = " in text


def test_json_output_is_identical_after_a_rebuild(url: str, cli: CLI) -> None:
    assert cli("init", "--url", url, "--user", "alice").code == 0
    assert cli("inspection", "open", "barnet-2017", "--authority", "Barnet").code == 0
    world = build_into(url)
    try:
        commands = [("codings", "--json", "--include-withdrawn"), ("coverage", "--json"),
                    ("vignettes", "--code", "help-protection", "--json"), ("search", "return interview", "--json"),
                    ("codings", "--code", MISSING, "--json")]
        before = [cli(*args) for args in commands]
        assert all(r.code == 0 for r in before), [r.err for r in before]
        assert cli("projections", "rebuild").code == 0
        after = [cli(*args) for args in commands]
        assert [r.out for r in after] == [r.out for r in before]
        assert len(before[0].json()) == 6  # type: ignore[arg-type]
    finally:
        engine_for(url).dispose()
        world.close()


def build_into(url: str) -> Ledger:
    """Code the shared texts into the inspection the CLI opened (alice leads it)."""
    ledger = Ledger(url, clock=Clock())
    add_member(ledger, "alice", "barnet-2017", "bob", Role.INSPECTOR)
    inspection = load(ledger, "barnet-2017")
    codebook.adopt(ledger, "alice", inspection, registered("register_codebooks")["sif-2013"])
    added, _ = source.register(ledger, "bob", inspection, [
        source.NewSource(title="Case record: Chloé", text=CASE_RECORD, kind=source.Kind.CASE_RECORD, case="C-1"),
        source.NewSource(title="Strategy meeting", text=OBSERVATION, kind=source.Kind.OBSERVATION, case="C-2"),
    ])
    _code(ledger, "bob", added[0], SEEN, "strength", "Chloé said she felt listened to 😊", band="good", note="x")
    _code(ledger, "bob", added[0], OVERSIGHT, "strength", "Management oversight was visible")
    _code(ledger, "alice", added[1], MISSING, "weakness", "No return interview was offered")
    emergent = codebook.define(ledger, "alice", load(ledger, "barnet-2017"), "Return interviews",
                               parent="help-protection", facet=None, description="", rationale="often")
    _code(ledger, "alice", added[1], emergent, "weakness", "no one followed it up")
    codebook.merge(ledger, "alice", load(ledger, "barnet-2017"), [emergent], MISSING, "same theme")
    chair = _code(ledger, "bob", added[1], STRATEGY, "strength", "the chair summarised the risks clearly")
    _code(ledger, "bob", added[1], STRATEGY, "neutral", "The strategy discussion was timely")
    inspection = load(ledger, "barnet-2017")
    coding.withdraw(ledger, "bob", inspection, coding.load(ledger, chair.hex, inspection), "misread")
    return ledger


@pytest.mark.parametrize("moment", [
    datetime(2017, 1, 9, 8, 0, 2, tzinfo=UTC), datetime(2017, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(999, 1, 1, tzinfo=UTC),
])
def test_fast_sqlite_times_are_stored_as_sqlalchemy_stores_them(moment: datetime) -> None:
    from sqlalchemy import Date, DateTime
    from sqlalchemy.dialects import sqlite

    from projections.sources import date_writer, time_writer

    dialect = sqlite.dialect()
    slow_time = DateTime(timezone=True).dialect_impl(dialect).bind_processor(dialect)
    slow_date = Date().dialect_impl(dialect).bind_processor(dialect)
    assert slow_time is not None and slow_date is not None
    assert time_writer(dialect)(moment) == slow_time(moment)
    assert date_writer(dialect)(moment.date()) == slow_date(moment.date())
