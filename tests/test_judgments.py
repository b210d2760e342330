"""Judgments, the consistency panel, moderation and feedback: the commands, their refusals and the projection."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from typing import TYPE_CHECKING

import pytest

from ledger import coding, hypothesis, judgment
from ledger.application import Ledger
from ledger.codebook import adopt
from ledger.codebook import load as load_codebook_state
from ledger.errors import RuleViolation
from ledger.events import Role
from ledger.inspection import add_member, load, open_inspection
from ledger.source import Kind, NewSource, Source, register
from plugins.codebooks import load_codebook
from plugins.frameworks import load_framework
from projections import ready
from projections.base import rebuild
from projections.judgments import Judgments, feedback, judgments, panels

if TYPE_CHECKING:
    from conftest import CLI

#: (sentence, code, valence, band) of the generated source every test codes.
PASSAGES = (
    ("Supervision was regular and reflective.", "leadership/management-oversight-supervision", "strength", "good"),
    ("Child protection plans drifted for months.", "help-protection/cp-conferences-and-plans", "weakness",
     "requires-improvement"),
    ("Placements were stable.", "looked-after/placement-stability", "strength", "good"),
    ("Care leavers lived in unsuitable hostels.", "care-leavers/accommodation-staying-put", "weakness", "inadequate"),
    ("Audits overstated the quality of practice.", "leadership/quality-assurance-audit", "weakness",
     "requires-improvement"),
    ("Adopters were approved quickly.", "adoption/adopter-recruitment", "strength", "outstanding"),
)


def codings_for(url: str, reference: str = "barnet-2017", case: str = "C01") -> list[str]:
    """Code one generated case record in ``reference`` (bob codes; alice brings in the SIF codebook first)."""
    ledger = Ledger(url)
    try:
        inspection = load(ledger, reference)
        if not load_codebook_state(ledger, inspection).names:
            adopt(ledger, "alice", inspection, load_codebook("sif-2013"))
        text = f"Case {case} ({reference}). " + " ".join(p[0] for p in PASSAGES)
        ids, _ = register(ledger, "bob", inspection, [NewSource(title=f"Case record {case}", text=text,
                                                                kind=Kind.CASE_RECORD, case=case)])
        held = ledger.get(Source, ids[0])
        book = load_codebook_state(ledger, inspection)
        made = [
            coding.prepare(ledger, "bob", inspection, held, book,
                           coding.CodingRequest(code=code, valence=valence, quote=quote, band=band))
            for quote, code, valence, band in PASSAGES
        ]
        ledger.append(*made)
        return [event.originator_id.hex for event in made]
    finally:
        ledger.close()


def state(url: str) -> tuple[int, int]:
    """(last position, verified positions): equal before and after a refused command."""
    ledger = Ledger(url)
    try:
        return ledger.last_position(), ledger.verify()
    finally:
        ledger.close()


def ok(cli: CLI, *args: str) -> str:
    done = cli(*args)
    assert done.code == 0, (args, done.err)
    return done.out


@pytest.fixture
def judged(team: CLI) -> tuple[CLI, list[str]]:
    """bob has proposed leadership good, help-protection inadequate and overall good; dave moderates."""
    cited = codings_for(team.url)
    ok(team, "member", "add", "dave", "--role", "moderator")
    ok(team, "--as", "bob", "judge", "propose", "leadership", "good", "--because", "Supervision is strong",
       "--cite", f"{cited[0][:8]},{cited[4][:8]}")
    ok(team, "--as", "bob", "judge", "propose", "help-protection", "inadequate", "--because", "Plans drift",
       "--cite", cited[1][:8])
    ok(team, "--as", "bob", "judge", "propose", "overall", "good", "--because", "Early view", "--cite", cited[0])
    return team, cited


def listed(cli: CLI) -> dict[str, dict]:
    return {row["area"]: row for row in cli("judge", "list", "--json").json()}


# --- proposing -------------------------------------------------------------------------------


def test_a_proposal_records_grade_citations_and_who(judged: tuple[CLI, list[str]]) -> None:
    cli, cited = judged
    rows = listed(cli)
    assert [r for r in rows] == ["leadership", "help-protection", "overall"]
    leadership = rows["leadership"]
    assert (leadership["grade"], leadership["status"]) == ("good", "proposed")
    [proposal] = leadership["proposals"]
    assert proposal["codings"] == [cited[0], cited[4]]
    assert (proposal["actor"], proposal["role"], proposal["kind"]) == ("bob", "inspector", "proposed")
    assert proposal["rationale"] == "Supervision is strong" and proposal["at"].endswith("+00:00")
    text = cli("judge", "list").out
    assert "leadership       good                  proposed" in text


def test_revising_keeps_the_history_of_proposals(judged: tuple[CLI, list[str]]) -> None:
    cli, cited = judged
    ok(cli, "--as", "bob", "judge", "revise", "leadership", "Requires improvement", "--because", "Audits overstate",
       "--cite", cited[4])
    leadership = listed(cli)["leadership"]
    assert leadership["grade"] == "requires-improvement"
    assert [(p["kind"], p["from_grade"], p["grade"]) for p in leadership["proposals"]] == [
        ("proposed", None, "good"), ("revised", "good", "requires-improvement")
    ]
    assert leadership["proposals"][0]["position"] < leadership["proposals"][1]["position"]


BAD_INPUT = {
    "grade off the scale": (("--as", "bob", "judge", "propose", "looked-after", "great", "--because", "x", "--cite",
                             "{0}"), "'great' is not a grade looked-after can take in sif-2013"),
    "area not in the framework": (("--as", "bob", "judge", "propose", "finance", "good", "--because", "x", "--cite",
                                   "{0}"), "'finance' is not a judgment area of sif-2013"),
    "not judged where not allowed": (("--as", "bob", "judge", "propose", "lscb", "not-judged", "--because", "x",
                                      "--cite", "{0}"), "not a grade lscb can take"),
    "uncited proposal": (("--as", "bob", "judge", "propose", "looked-after", "good", "--because", "x"),
                         "A proposal must cite the evidence it rests on"),
    "proposal without a reason": (("--as", "bob", "judge", "propose", "looked-after", "good", "--cite", "{0}"),
                                  "Say why with --because TEXT"),
    "unknown coding": (("--as", "bob", "judge", "propose", "looked-after", "good", "--because", "x", "--cite",
                        "ffff0000"), "No coding has an id starting with ffff0000"),
    "a coding cited as a hypothesis": (("--as", "bob", "judge", "propose", "looked-after", "good", "--because", "x",
                                        "--cite", "{0}", "--cite-hypothesis", "{0}"), "No hypothesis has an id"),
    "proposing twice": (("--as", "bob", "judge", "propose", "leadership", "good", "--because", "x", "--cite", "{0}"),
                        "change it with 'evidence judge revise leadership"),
    "moderating without the moderator role": (("--as", "bob", "moderate", "leadership", "--to", "outstanding",
                                               "--because", "x"), "needs the role moderator"),
    "moderating to the same grade": (("--as", "dave", "moderate", "leadership", "--to", "good", "--because", "x"),
                                     "The leadership grade is good already"),
    "finalising without a narrative": (("judge", "finalise", "leadership", "--nearest", "outstanding"),
                                       "Finalising needs a narrative"),
    "finalising with a grade that is not adjacent": (("judge", "finalise", "leadership", "--nearest", "inadequate",
                                                      "--narrative", "x"), "is not next to good on the scale"),
    "finalising against a hard rule": (("judge", "finalise", "overall", "--nearest", "requires-improvement",
                                        "--narrative", "Close to RI"),
                                       "overall cannot be finalised as good: Overall is good but help-protection is "
                                       "inadequate"),
    "finalising by an inspector": (("--as", "bob", "judge", "finalise", "leadership", "--nearest", "outstanding",
                                    "--narrative", "x"), "needs the role lead-inspector"),
    "finalising what nobody proposed": (("judge", "finalise", "lscb", "--nearest", "good", "--narrative", "x"),
                                        "No grade has been proposed for lscb"),
    "publishing before finalising": (("judge", "publish", "leadership"), "is not finalised"),
    "publishing everything before finalising": (("judge", "publish", "--all"), "before publishing every judgment"),
    "a panel revision with no panel sitting": (("--as", "carol", "panel", "revise", "leadership", "--to", "outstanding",
                                                "--because", "x"), "No panel is sitting"),
    "feedback with a grade off the scale": (("--as", "bob", "feedback", "record", "--stage", "fieldwork", "--area",
                                             "leadership", "--grade", "brilliant", "Said it"),
                                            "'brilliant' is not a grade"),
    "feedback about an unknown area": (("--as", "bob", "feedback", "record", "--stage", "fieldwork", "--area",
                                        "finance", "Said it"), "'finance' is not a judgment area"),
}


@pytest.mark.parametrize(("args", "expected"), list(BAD_INPUT.values()), ids=list(BAD_INPUT))
def test_bad_input_is_one_clear_line_and_changes_nothing(
    judged: tuple[CLI, list[str]], args: tuple[str, ...], expected: str
) -> None:
    cli, cited = judged
    before = state(cli.url)
    line = cli(*(a.format(cited[2]) for a in args)).one_line_error()
    assert expected in line, line
    assert state(cli.url) == before


def test_hard_rule_refusal_exits_with_the_rule_code_and_in_the_api(judged: tuple[CLI, list[str]]) -> None:
    cli, _ = judged
    done = cli("judge", "finalise", "overall", "--nearest", "requires-improvement", "--narrative", "Close")
    assert done.code == RuleViolation.exit_code
    ledger = Ledger(cli.url)
    try:
        with pytest.raises(RuleViolation, match="key judgment is inadequate"):
            judgment.finalise(ledger, "alice", load(ledger, "barnet-2017"), load_framework("sif-2013"), "overall",
                              "requires-improvement", "Close")
    finally:
        ledger.close()


def test_a_proposal_must_cite_current_codings_of_the_same_inspection(judged: tuple[CLI, list[str]]) -> None:
    cli, cited = judged
    ledger = Ledger(cli.url)
    try:
        inspection = load(ledger, "barnet-2017")
        coding.withdraw(ledger, "bob", inspection, ledger.get(coding.Coding, uuid.UUID(cited[5])), "Miscoded")
        open_inspection(ledger, "alice", "camden-2016", authority="Camden", framework="sif-2013")
        add_member(ledger, "alice", "camden-2016", "bob", Role.INSPECTOR)
    finally:
        ledger.close()
    elsewhere = codings_for(cli.url, "camden-2016")
    before = state(cli.url)
    withdrawn = cli("--as", "bob", "judge", "propose", "adoption", "good", "--because", "x", "--cite", cited[5])
    assert "was withdrawn; cite evidence that still stands" in withdrawn.one_line_error()
    foreign = cli("--as", "bob", "judge", "propose", "adoption", "good", "--because", "x", "--cite", elsewhere[0])
    assert "belongs to another inspection than barnet-2017" in foreign.one_line_error()
    assert state(cli.url) == before


def test_a_proposal_can_cite_hypotheses(judged: tuple[CLI, list[str]]) -> None:
    cli, cited = judged
    ledger = Ledger(cli.url)
    try:
        inspection = load(ledger, "barnet-2017")
        hid = hypothesis.state(ledger, "bob", inspection, load_codebook_state(ledger, inspection),
                               "Placements are stable", area="looked-after", codes=["looked-after/placement-stability"],
                               expects="strength")
    finally:
        ledger.close()
    ok(cli, "--as", "bob", "judge", "propose", "looked-after", "good", "--because", "Stable", "--cite", cited[2],
       "--cite-hypothesis", hid.hex[:8])
    assert listed(cli)["looked-after"]["proposals"][0]["hypotheses"] == [hid.hex]


# --- panel, moderation, finalising and publishing -------------------------------------------------------


def test_the_panel_revises_with_dissent_then_rises(judged: tuple[CLI, list[str]]) -> None:
    cli, _ = judged
    assert "not a panel member" in cli("panel", "convene", "--members", "bob").one_line_error()
    ok(cli, "panel", "convene", "--members", "carol", "--purpose", "check consistency")
    assert "still sitting" in cli("panel", "convene", "--members", "carol").one_line_error()
    assert "needs the role panel-member" in cli(
        "--as", "bob", "panel", "revise", "leadership", "--to", "outstanding", "--because", "x"
    ).one_line_error()
    done = cli("--as", "carol", "panel", "revise", "overall", "--to", "inadequate", "--because",
               "A key judgment is inadequate", "--dissent", "One member thought requires improvement")
    assert done.code == 0, done.err
    step = listed(cli)["overall"]["steps"][-1]
    assert (step["kind"], step["from_grade"], step["grade"], step["actor"]) == (
        "panel-revised", "good", "inadequate", "carol"
    )
    assert step["dissent"] == "One member thought requires improvement"
    [sitting] = cli("panel", "list", "--json").json()
    assert step["panel"] == sitting["panel"] and sitting["members"] == ["carol"] and sitting["decision"] is None
    ok(cli, "--as", "carol", "panel", "decide", "--because", "Overall revised; the rest stand")
    assert cli("panel", "list", "--json").json()[0]["decision"] == "Overall revised; the rest stand"
    assert "No panel is sitting" in cli(
        "--as", "carol", "panel", "revise", "leadership", "--to", "outstanding", "--because", "x"
    ).one_line_error()
    ok(cli, "panel", "convene", "--members", "carol")
    assert [p["number"] for p in cli("panel", "list", "--json").json()] == [1, 2]


def test_moderation_records_moderator_from_to_and_why(judged: tuple[CLI, list[str]]) -> None:
    cli, _ = judged
    ok(cli, "--as", "dave", "moderate", "help-protection", "--to", "requires-improvement", "--because",
       "Failures were serious but not widespread")
    row = listed(cli)["help-protection"]
    assert (row["grade"], row["status"]) == ("requires-improvement", "moderated")
    step = row["steps"][-1]
    assert (step["kind"], step["actor"], step["role"], step["from_grade"], step["grade"]) == (
        "moderated", "dave", "moderator", "inadequate", "requires-improvement"
    )
    assert step["rationale"] == "Failures were serious but not widespread"


def test_finalising_records_norm_warnings_and_publishing_follows(judged: tuple[CLI, list[str]]) -> None:
    cli, cited = judged
    ok(cli, "--as", "bob", "judge", "revise", "help-protection", "good", "--because", "Acted quickly",
       "--cite", cited[0])
    ok(cli, "--as", "bob", "judge", "revise", "leadership", "requires-improvement", "--because", "Audits overstate",
       "--cite", cited[4])
    done = cli("judge", "finalise", "overall", "--nearest", "requires-improvement", "--narrative", "Only just good")
    assert done.code == 0, done.err
    assert "warning: [overall-not-better-than-leadership] Overall is good, better than leadership" in done.err
    overall = listed(cli)["overall"]
    assert (overall["status"], overall["nearest"], overall["narrative"]) == (
        "finalised", "requires-improvement", "Only just good"
    )
    assert [w["rule"] for w in overall["steps"][-1]["warnings"]] == ["overall-not-better-than-leadership"]
    assert "is finalised already" in cli(
        "judge", "finalise", "overall", "--nearest", "requires-improvement", "--narrative", "again"
    ).one_line_error()
    assert "only the panel or a moderator" in cli(
        "--as", "bob", "judge", "revise", "overall", "good", "--because", "x", "--cite", cited[0]
    ).one_line_error()
    assert "Finalise help-protection, leadership" in cli("judge", "publish", "--all").one_line_error()
    ok(cli, "judge", "publish", "overall")
    assert listed(cli)["overall"]["status"] == "published"
    assert "published already" in cli("--as", "dave", "moderate", "overall", "--to", "outstanding", "--because",
                                      "x").one_line_error()
    for area, nearest in (("help-protection", "outstanding"), ("leadership", "good")):
        ok(cli, "judge", "finalise", area, "--nearest", nearest, "--narrative", "Close call")
    assert "Published help-protection, leadership." in ok(cli, "judge", "publish", "--all")
    assert {row["status"] for row in listed(cli).values()} == {"published"}


def test_moderating_a_finalised_grade_reopens_it(judged: tuple[CLI, list[str]]) -> None:
    cli, _ = judged
    ok(cli, "judge", "finalise", "leadership", "--nearest", "outstanding", "--narrative", "Close to outstanding")
    ok(cli, "--as", "dave", "moderate", "leadership", "--to", "outstanding", "--because", "Evidence of impact")
    assert listed(cli)["leadership"]["status"] == "moderated"
    assert "is not finalised" in cli("judge", "publish", "leadership").one_line_error()
    ok(cli, "judge", "finalise", "leadership", "--nearest", "good", "--narrative", "Just outstanding")
    assert listed(cli)["leadership"]["nearest"] == "good"


def test_not_judged_is_allowed_where_the_framework_allows_it(judged: tuple[CLI, list[str]]) -> None:
    cli, cited = judged
    ok(cli, "--as", "bob", "judge", "propose", "adoption", "not judged", "--because", "Too few adoptions", "--cite",
       cited[5])
    assert "leave out --nearest" in cli("judge", "finalise", "adoption", "--nearest", "good", "--narrative",
                                        "x").one_line_error()
    ok(cli, "judge", "finalise", "adoption", "--narrative", "Not judged: two adoptions in the year")
    assert listed(cli)["adoption"]["grade"] == "not-judged"


# --- feedback --------------------------------------------------------------------------------------------


def test_feedback_is_recorded_with_stage_audience_and_grade(judged: tuple[CLI, list[str]]) -> None:
    cli, _ = judged
    ok(cli, "--as", "bob", "feedback", "record", "--stage", "fieldwork", "--area", "leadership", "--grade",
       "Requires improvement", "--audience", "the director", "Leaders do not yet know practice well")
    ok(cli, "--as", "bob", "feedback", "record", "--stage", "feedback", "--area", "overall", "We will say good")
    rows = cli("feedback", "list", "--json").json()
    assert [(r["area"], r["stage"], r["audience"], r["grade"], r["actor"]) for r in rows] == [
        ("leadership", "fieldwork", "the director", "requires-improvement", "bob"),
        ("overall", "feedback", "the local authority", None, "bob"),
    ]
    assert rows[0]["message"] == "Leaders do not yet know practice well"
    assert len(cli("feedback", "list", "--area", "overall", "--json").json()) == 1
    assert "not a member" in cli("--as", "zed", "feedback", "record", "--stage", "fieldwork", "--area", "overall",
                                 "x").one_line_error()


# --- the profile -------------------------------------------------------------------------------------


def test_the_profile_sets_strengths_and_weaknesses_against_the_adjacent_grades(judged: tuple[CLI, list[str]]) -> None:
    cli, _ = judged
    data = cli("judge", "profile", "leadership", "--json").json()
    assert (data["grade"], data["codings"], data["strengths"], data["weaknesses"]) == ("good", 2, 1, 1)
    assert [(t["theme"], t["strength"], t["weakness"]) for t in data["themes"]] == [
        ("leadership/management-oversight-supervision", 1, 0), ("leadership/quality-assurance-audit", 0, 1)
    ]
    assert [(a["grade"], a["direction"], a["pointing"]) for a in data["adjacent"]] == [
        ("outstanding", "better", 0), ("requires-improvement", "worse", 1)
    ]
    assert data["leans_to"] == "requires-improvement"
    assert "minimum requirements are met" in data["adjacent"][1]["meaning"]
    assert data["meaning"].startswith("Effective services")
    text = cli("judge", "profile", "leadership").out
    assert "leans towards requires-improvement" in text and "audit" in text
    whole = cli("judge", "profile", "overall", "--json").json()
    assert whole["codings"] == len(PASSAGES) and {t["theme"] for t in whole["themes"]} >= {"leadership", "adoption"}


# --- the projection on both backends ---------------------------------------------------------------------


def test_the_projection_on_each_backend_and_after_a_rebuild(ledger: Ledger) -> None:
    framework = load_framework("sif-2013")
    open_inspection(ledger, "alice", "barnet-2017", authority="Barnet", framework="sif-2013")
    for person, role in (("bob", Role.INSPECTOR), ("carol", Role.PANEL), ("dave", Role.MODERATOR)):
        add_member(ledger, "alice", "barnet-2017", person, role)
    cited = [uuid.UUID(c) for c in codings_for(ledger.url)]
    inspection = load(ledger, "barnet-2017")
    judgment.propose(ledger, "bob", inspection, framework, "overall", "good", "First view", cited[:2])
    from ledger import feedback as feedbacks
    from ledger import panel

    feedbacks.record(ledger, "bob", inspection, framework, area="overall", stage="fieldwork", audience="DCS",
                     message="Looks good", grade="good")
    panel.convene(ledger, "alice", inspection, ["carol"], "consistency")
    judgment.panel_revise(ledger, "carol", inspection, framework, "overall", "requires-improvement", "Drift",
                          "Dissent noted")
    judgment.moderate(ledger, "dave", inspection, framework, "overall", "good", "Not widespread")
    judgment.finalise(ledger, "alice", inspection, framework, "overall", "requires-improvement", "Close")
    engine = ready(ledger)
    with engine.connect() as conn:
        first = judgments(conn, inspection.id)
        said = feedback(conn, inspection.id)
        sat = panels(conn, inspection.id)
    [overall] = first
    assert [s["kind"] for s in overall["steps"]] == ["proposed", "panel-revised", "moderated", "finalised"]
    assert [s["grade"] for s in overall["steps"]] == ["good", "requires-improvement", "good", "good"]
    assert overall["steps"][0]["codings"] == [c.hex for c in cited[:2]]
    assert overall["steps"][1]["panel"] == sat[0]["panel"] and overall["steps"][1]["dissent"] == "Dissent noted"
    assert [(s["at"] or "")[-6:] for s in overall["steps"]] == ["+00:00"] * 4
    assert said[0]["grade"] == "good" and said[0]["at"].endswith("+00:00")
    assert judgments(engine, inspection.id.hex) == first and panels(engine, inspection.id) == sat
    rebuild(ledger, engine, [Judgments()])
    with engine.connect() as conn:
        assert judgments(conn, inspection.id) == first
        assert feedback(conn, inspection.id) == said
        assert panels(conn, inspection.id) == sat


def test_proposing_loads_no_sqlalchemy_or_rich(team: CLI) -> None:
    cited = codings_for(team.url)
    code = (
        "import sys\nfrom cli.main import main\n"
        f"main(['--as', 'bob', 'judge', 'propose', 'overall', 'good', '--because', 'x', '--cite', '{cited[0]}'])\n"
        "print('loaded', 'sqlalchemy' in sys.modules, 'rich' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVIDENCE_")}
    done = subprocess.run([sys.executable, "-c", code], cwd=team.cwd, env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["Proposed overall as good, citing 1 coding(s) and 0 hypothesis(es).",
                                        "loaded False False"]
