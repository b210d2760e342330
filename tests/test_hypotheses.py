"""Hypotheses: stating, linking, the logged disconfirming-evidence search, acceptance rules, the matrix."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from ledger.application import Ledger

if TYPE_CHECKING:
    from tests.conftest import CLI

HP = "help-protection"
ASSESS = "help-protection/assessment"
SEEN = "help-protection/child-seen-wishes-feelings"


class Team:
    """The ``team`` ledger with a codebook, four sources by two inspectors, and their codings."""

    def __init__(self, cli: CLI) -> None:
        self.cli = cli
        assert cli("codebook", "use", "sif-2013").code == 0
        self.sources = {
            "a1": self.source("alice", "case-record", "C1", "Assessment was timely and thorough for the child."),
            "a2": self.source("alice", "observation", "C2", "The worker saw the child alone; the assessment was good."),
            "b1": self.source("bob", "case-record", "C3", "The assessment was late and missed the risk from the uncle."),
            "b2": self.source("bob", "interview", None, "Managers said assessments drift when staff are off sick."),
        }
        self.codings = {
            "a1": self.code("alice", "a1", ASSESS, "Assessment was timely and thorough", "strength"),
            "a2": self.code("alice", "a2", SEEN, "The worker saw the child alone", "strength"),
            "b1": self.code("bob", "b1", ASSESS, "The assessment was late", "weakness"),
            "b2": self.code("bob", "b2", ASSESS, "assessments drift", "weakness"),
        }

    def run(self, *args: str, user: str = "alice") -> Any:
        return self.cli(*args, env={"EVIDENCE_USER": user})

    def ok(self, *args: str, user: str = "alice") -> Any:
        result = self.run(*args, user=user)
        assert result.code == 0, (args, result.err)
        return result

    def source(self, user: str, kind: str, case: str | None, text: str) -> str:
        name = f"s{len(list(self.cli.cwd.glob('s*.txt')))}.txt"
        (self.cli.cwd / name).write_text(text, encoding="utf-8")
        extra = ("--case", case) if case else ()
        return self.ok("source", "add", name, "--kind", kind, *extra, "--json", user=user).json()[0]["id"]

    def code(self, user: str, source: str, code: str, quote: str, valence: str) -> str:
        result = self.ok("code", "apply", self.sources[source][:8], code, "--quote", quote, "--valence", valence,
                         "--json", user=user)
        return result.json()["id"]

    def state(self, text: str, *options: str) -> str:
        return self.ok("hypothesis", "state", text, *options, "--json").json()["short"]

    def link(self, hypothesis: str, coding: str, stance: str) -> None:
        self.ok("hypothesis", "link", hypothesis, self.codings[coding][:8], f"--{stance}")

    def unchanged(self, *args: str, user: str = "alice") -> str:
        """Run a command that must be refused; return its one error line after checking nothing was written."""
        ledger = Ledger(self.cli.url)
        try:
            before = (ledger.last_position(), ledger.verify())
            line = self.run(*args, user=user).one_line_error()
            assert (ledger.last_position(), ledger.verify()) == before
        finally:
            ledger.close()
        return line


@pytest.fixture
def work(team: CLI) -> Team:
    return Team(team)


def test_check_finds_contrary_codings_by_other_inspectors_in_other_sources_and_is_logged(work: Team) -> None:
    h = work.state("Assessments are timely", "--area", HP, "--codes", HP, "--provisional-grade", "good")
    work.link(h, "a1", "supports")
    checked = work.ok("hypothesis", "check", h, "--json").json()
    contrary = {c.replace("-", "") for c in checked["contrary"]}
    assert contrary == {work.codings["b1"], work.codings["b2"]}  # bob's, in his two sources
    assert {c.replace("-", "") for c in checked["contrary_unlinked"]} == contrary
    assert checked["query"]["against"] == "weakness"
    assert ASSESS in checked["query"]["codes"] and SEEN in checked["query"]["codes"]  # children of the code
    counts = checked["counts"]
    assert (counts["searched"], counts["consistent"], counts["contrary"], counts["coders"], counts["sources"]) == (
        4, 2, 2, 2, 4)
    assert checked["cases_not_considered"] == ["C2", "C3"]  # C1 is considered through the linked coding
    log = work.ok("log", "--type", "Hypothesis.Checked", "--json").json()
    assert len(log) == 1 and log[0]["originator_id"].replace("-", "").startswith(h)
    assert log[0]["counts"] == counts
    text = work.ok("hypothesis", "check", h).out
    assert "NOT LINKED" in text and "by bob" in text and "cases not yet considered: C2, C3" in text


def test_accept_needs_a_check_made_after_the_last_new_link(work: Team) -> None:
    h = work.state("Assessments are timely", "--area", HP, "--codes", ASSESS, "--expects", "strength")
    line = work.unchanged("hypothesis", "accept", h, "--because", "obvious")
    assert "no disconfirming-evidence check" in line and f"evidence hypothesis check {h}" in line
    work.ok("hypothesis", "check", h)
    work.link(h, "a1", "supports")
    assert "no disconfirming-evidence check" in work.unchanged("hypothesis", "accept", h, "--because", "x")
    work.ok("hypothesis", "check", h)
    work.ok("hypothesis", "accept", h, "--because", "the contrary codings are isolated")
    shown = work.ok("hypothesis", "show", h, "--json").json()
    assert shown["status"] == "accepted" and [s["step"] for s in shown["steps"]] == ["stated", "accepted"]
    assert "accepted already" in work.unchanged("hypothesis", "accept", h, "--because", "again")
    # New evidence may still come in; renewing the acceptance needs a new check, and rejection is final.
    work.link(h, "b1", "contradicts")
    assert "no disconfirming-evidence check" in work.unchanged("hypothesis", "accept", h, "--because", "x")
    work.ok("hypothesis", "check", h)
    work.ok("hypothesis", "accept", h, "--because", "one late assessment does not change it")
    work.ok("hypothesis", "reject", h, "--because", "bob's later cases show drift")
    assert "rejected already" in work.unchanged("hypothesis", "link", h, work.codings["b2"][:8], "--contradicts")
    assert work.ok("hypothesis", "show", h, "--json").json()["status"] == "rejected"


def test_a_new_provisional_grade_needs_a_new_check(work: Team) -> None:
    h = work.state("Assessments are timely", "--area", HP, "--codes", ASSESS, "--provisional-grade", "good")
    work.ok("hypothesis", "check", h)
    work.ok("hypothesis", "revise", h, "Assessments are mostly late", "--provisional-grade", "requires-improvement",
            "--because", "bob's cases")
    shown = work.ok("hypothesis", "show", h, "--json").json()
    assert (shown["expects"], shown["provisional_grade"], shown["checked_since_change"]) == (
        "weakness", "requires-improvement", False)
    work.unchanged("hypothesis", "accept", h, "--because", "x")
    work.ok("hypothesis", "check", h)
    work.ok("hypothesis", "revise", h, "Assessments are often late", "--because", "wording")
    work.ok("hypothesis", "accept", h, "--because", "a rewording needs no new check")


def test_expects_comes_from_the_grade_or_must_be_given(work: Team) -> None:
    weak = work.state("Drift", "--area", HP, "--codes", ASSESS, "--provisional-grade", "inadequate")
    assert work.ok("hypothesis", "show", weak, "--json").json()["expects"] == "weakness"
    assert "--expects" in work.unchanged("hypothesis", "state", "No grade", "--area", HP, "--codes", ASSESS)
    assert "does not go with" in work.unchanged(
        "hypothesis", "state", "Mixed", "--area", HP, "--codes", ASSESS, "--provisional-grade", "good",
        "--expects", "weakness")
    assert "not a judgment area" in work.unchanged(
        "hypothesis", "state", "Where", "--area", "nowhere", "--codes", ASSESS, "--expects", "weakness")
    assert "No code" in work.unchanged(
        "hypothesis", "state", "What", "--area", HP, "--codes", "no-such-code", "--expects", "weakness")


def test_bad_input_is_one_line_and_leaves_the_ledger_unchanged(work: Team) -> None:
    h = work.state("Assessments are timely", "--area", HP, "--codes", ASSESS, "--provisional-grade", "good")
    for command in (("check", "abcd1234"), ("show", "abcd1234"), ("accept", "abcd1234", "--because", "x")):
        assert "No hypothesis has an id starting with abcd1234" in work.unchanged("hypothesis", *command)
    work.ok("code", "withdraw", work.codings["b1"][:8], "--because", "wrong child", user="bob")
    line = work.unchanged("hypothesis", "link", h, work.codings["b1"][:8], "--contradicts")
    assert "was withdrawn" in line
    work.link(h, "a1", "supports")
    assert "as supports already" in work.unchanged("hypothesis", "link", h, work.codings["a1"][:8], "--supports")
    assert "--because" in work.unchanged("hypothesis", "reject", h, "--because", "  ")
    assert "panel-member" in work.unchanged("hypothesis", "check", h, user="carol")
    assert "changes nothing" in work.unchanged("hypothesis", "revise", h, "Assessments are timely", "--because", "x")


def test_withdrawn_evidence_leaves_links_and_is_not_searched(work: Team) -> None:
    h = work.state("Assessments drift", "--area", HP, "--codes", ASSESS, "--provisional-grade", "inadequate")
    work.link(h, "b1", "supports")
    work.ok("code", "withdraw", work.codings["b1"][:8], "--because", "wrong child", user="bob")
    listed = work.ok("hypothesis", "list", "--json").json()[0]
    assert listed["supports"] == 0 and listed["links"][0]["current"] is False
    checked = work.ok("hypothesis", "check", h, "--json").json()
    assert checked["counts"]["searched"] == 2  # a1 and b2 under the assessment code; b1 is gone


def test_matrix_marks_evidence_consistent_with_every_hypothesis_non_diagnostic(work: Team) -> None:
    good = work.state("Help is good", "--area", HP, "--codes", HP, "--provisional-grade", "good")
    ri = work.state("Help requires improvement", "--area", HP, "--codes", HP, "--provisional-grade",
                    "requires-improvement")
    work.link(good, "a1", "supports")
    work.link(ri, "a1", "supports")  # "timely, but only sometimes": consistent with both
    work.link(good, "b1", "contradicts")
    work.link(ri, "b1", "supports")
    work.link(good, "a2", "supports")  # not linked to ri: read from its valence (a strength: inconsistent)
    data = work.ok("hypothesis", "matrix", "--area", HP, "--json").json()
    assert [h["short"] for h in data["hypotheses"]] == [good, ri]
    rows = {row["short"]: row for row in data["evidence"]}
    a1, b1, a2 = (rows[work.codings[k][:8]] for k in ("a1", "b1", "a2"))
    assert [c["cell"] for c in a1["cells"]] == ["consistent", "consistent"] and a1["diagnostic"] is False
    assert [c["cell"] for c in b1["cells"]] == ["inconsistent", "consistent"] and b1["diagnostic"] is True
    assert [(c["cell"], c["linked"]) for c in a2["cells"]] == [("consistent", True), ("inconsistent", False)]
    summary = {s["hypothesis"][:8]: s for s in data["diagnostic_summary"]}
    assert (summary[good]["inconsistent"], summary[ri]["inconsistent"]) == (1, 1)
    text = work.ok("hypothesis", "matrix", "--area", HP).out
    assert "diagnostic" in text and " i " not in text.splitlines()[0]


def test_list_and_show_survive_a_rebuild_byte_for_byte(work: Team) -> None:
    h = work.state("Assessments are timely", "--area", HP, "--codes", HP, "--provisional-grade", "good")
    work.link(h, "a1", "supports")
    work.link(h, "b1", "contradicts")
    work.ok("hypothesis", "check", h)
    before = [work.ok(*args).out for args in (("hypothesis", "list", "--json"), ("hypothesis", "show", h, "--json"),
                                              ("hypothesis", "matrix", "--area", HP, "--json"))]
    work.ok("projections", "rebuild")
    after = [work.ok(*args).out for args in (("hypothesis", "list", "--json"), ("hypothesis", "show", h, "--json"),
                                             ("hypothesis", "matrix", "--area", HP, "--json"))]
    assert before == after
    text = work.ok("hypothesis", "list").out
    assert f"{h}  open" in text and "+1 -1 ~0  checked" in text


def test_links_follow_their_codings_when_withdrawn_or_remapped(url: str, tmp_path: Any) -> None:
    """On each backend: a remapped coding's link follows it to the new source; a withdrawn one stops counting."""
    from ledger import codebook, hypothesis
    from ledger.coding import Coding, CodingRequest, prepare
    from ledger.coding import withdraw as withdraw_coding
    from ledger.events import Role
    from ledger.inspection import add_member, load, open_inspection
    from ledger.remap import supersede
    from ledger.source import Kind, NewSource, Source, register
    from plugins.codebooks import load_codebook
    from projections import ready
    from projections.hypotheses import hypotheses, matrix

    ledger = Ledger(url, create=True)
    try:
        open_inspection(ledger, "alice", "barnet-2017", authority="Barnet", framework="sif-2013")
        add_member(ledger, "alice", "barnet-2017", "bob", Role.INSPECTOR)
        inspection = load(ledger, "barnet-2017")
        codebook.adopt(ledger, "alice", inspection, load_codebook("sif-2013"))
        text = "Plans were reviewed on time. Visits were late."
        (sid,), _ = register(ledger, "alice", inspection, [NewSource(title="r", text=text, kind=Kind.CASE_RECORD,
                                                                     case="C1")])
        book = codebook.load(ledger, inspection)
        events = [prepare(ledger, "alice", inspection, ledger.get(Source, sid), book,
                          CodingRequest(code=ASSESS, valence=v, quote=q))
                  for v, q in (("strength", "Plans were reviewed on time."), ("weakness", "Visits were late."))]
        ledger.append(*events)
        strong, weak = (e.originator_id for e in events)
        hid = hypothesis.state(ledger, "alice", inspection, book, "Plans are timely", area=HP, codes=[ASSESS],
                               provisional_grade="good")
        for coding, stance in ((strong, "supports"), (weak, "contradicts")):
            hypothesis.link(ledger, "alice", inspection, ledger.get(hypothesis.Hypothesis, hid),
                            ledger.get(Coding, coding), stance, "C1")
        new_id, placed, _ = supersede(
            ledger, "alice", inspection, ledger.get(Source, sid),
            NewSource(title="r2", text="Summary first. " + text, kind=Kind.CASE_RECORD, case="C1"),
            [ledger.get(Coding, strong), ledger.get(Coding, weak)], "corrected record",
        )
        withdraw_coding(ledger, "alice", inspection, ledger.get(Coding, weak), "misread")
        with ready(ledger).connect() as conn:
            (found,) = hypotheses(conn, inspection.id)
            grid = matrix(conn, inspection.id, HP)
    finally:
        ledger.close()
    assert placed == 2
    links = {link["coding_id"]: link for link in found["links"]}
    assert links[strong.hex]["source_id"] == new_id.hex and links[strong.hex]["current"] is True
    assert links[weak.hex]["current"] is False
    assert (found["supports"], found["contradicts"]) == (1, 0)
    assert [row["coding"] for row in grid["evidence"]] == [strong.hex]
