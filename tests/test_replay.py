"""Replay: every step of a grade with its evidence, deterministic, equal to the projection, reading only by id."""

from __future__ import annotations

import json
import uuid
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

import pytest

from cli.demo_inspection import build
from cli.replay import RENDERERS
from ledger import bias_review, coding, hypothesis, judgment, panel, replay
from ledger import feedback as feedbacks
from ledger.application import Ledger
from ledger.codebook import load as load_codebook_state
from ledger.contracts import BiasFinding
from ledger.errors import NotFound
from ledger.inspection import load
from ledger.testing import backends
from plugins.codebooks import load_codebook
from plugins.frameworks import load_framework
from projections import ready
from projections.judgments import judgments
from test_judgments import PASSAGES, codings_for, ok

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import CLI

SIF = load_framework("sif-2013")
HOSTILE = "Leaders <script>alert('x')</script> & \"partners\" don't challenge"


def story(cli: CLI) -> list[str]:
    """Leadership from proposal to publication, with a hypothesis, feedback, a bias review, panel and moderation."""
    cited = codings_for(cli.url)
    ok(cli, "member", "add", "dave", "--role", "moderator")
    ledger = Ledger(cli.url)
    try:
        inspection = load(ledger, "barnet-2017")
        book = load_codebook_state(ledger, inspection)
        hid = hypothesis.state(ledger, "bob", inspection, book, "Leaders know practice well", area="leadership",
                               codes=["leadership"], expects="strength")
        held = ledger.get(coding.Coding, uuid.UUID(cited[0]))
        hypothesis.link(ledger, "bob", inspection, ledger.get(hypothesis.Hypothesis, hid), held, "supports", "C01")
        source = held.source
        candidates = [
            hypothesis.Candidate(coding=uuid.UUID(c), code=p[1], valence=coding.Valence(p[2]), source=source,
                                 coder="bob", case="C01")
            for c, p in zip(cited, PASSAGES, strict=True)
        ]
        hypothesis.check(ledger, "bob", inspection, ledger.get(hypothesis.Hypothesis, hid), book, candidates, ["C01"],
                         through=ledger.last_position())
        judgment.propose(ledger, "bob", inspection, SIF, "leadership", "good", "Supervision is strong",
                         [uuid.UUID(cited[0])], [hid])
        feedbacks.record(ledger, "bob", inspection, SIF, area="leadership", stage="fieldwork", audience="the director",
                         message="Leadership is a strength", grade="outstanding")
        bias_review.record(ledger, "alice", inspection, [BiasFinding(
            check="impact-blindness", severity="warning", title="No child feedback behind leadership",
            explanation="All cited evidence is from records.", advice="Ask children.", area="leadership",
            positions=(1,),
        )], through=ledger.last_position(), area=None, checks=("impact-blindness",))
        judgment.revise(ledger, "bob", inspection, SIF, "leadership", "requires-improvement", HOSTILE,
                        [uuid.UUID(cited[4])])
        coding.withdraw(ledger, "bob", inspection, ledger.get(coding.Coding, uuid.UUID(cited[0])), "Miscoded")
        panel.convene(ledger, "alice", inspection, ["carol"], "consistency")
        judgment.panel_revise(ledger, "carol", inspection, SIF, "leadership", "good", "Impact is visible",
                              "One member disagreed")
        panel.decide(ledger, "carol", inspection, "Leadership revised")
        judgment.moderate(ledger, "dave", inspection, SIF, "leadership", "requires-improvement", "Audits overstate")
        judgment.finalise(ledger, "alice", inspection, SIF, "leadership", "good", "Close to good")
        judgment.publish(ledger, "alice", inspection, SIF, ["leadership"])
    finally:
        ledger.close()
    return cited


@pytest.fixture
def told(team: CLI) -> tuple[CLI, list[str]]:
    return team, story(team)


def replayed(cli: CLI, *args: str) -> dict[str, Any]:
    return json.loads(ok(cli, "replay", "leadership", "--format", "json", *args))


def test_every_step_is_shown_with_who_when_why_and_the_grade_after(told: tuple[CLI, list[str]]) -> None:
    cli, _ = told
    data = replayed(cli)
    kinds = [(s["kind"], s["grade"], s["actor"], s["role"]) for s in data["steps"]]
    assert kinds == [
        ("proposed", "good", "bob", "inspector"),
        ("feedback", "good", "bob", "inspector"),
        ("bias-review", "good", "alice", "lead-inspector"),
        ("revised", "requires-improvement", "bob", "inspector"),
        ("panel-revised", "good", "carol", "panel-member"),
        ("moderated", "requires-improvement", "dave", "moderator"),
        ("finalised", "requires-improvement", "alice", "lead-inspector"),
        ("published", "requires-improvement", "alice", "lead-inspector"),
    ]
    positions = [s["position"] for s in data["steps"]]
    assert positions == sorted(positions) and data["through"] == positions[-1]
    panel_step = data["steps"][4]
    assert panel_step["dissent"] == "One member disagreed" and panel_step["panel"]["members"] == ["carol"]
    assert data["steps"][5]["rationale"] == "Audits overstate" and data["steps"][5]["from_grade"] == "good"
    assert data["steps"][6]["nearest"] == "good" and data["steps"][6]["rationale"] == "Close to good"
    assert (data["grade"], data["status"]) == ("requires-improvement", "published")


def test_evidence_is_quoted_exactly_and_verified(told: tuple[CLI, list[str]]) -> None:
    cli, cited = told
    data = replayed(cli)
    [first] = data["steps"][0]["evidence"]
    assert (first["coding"], first["text"], first["verified"]) == (cited[0], PASSAGES[0][0], True)
    assert (first["code"], first["valence"], first["band"], first["case"]) == (
        "leadership/management-oversight-supervision", "strength", "good", "C01"
    )
    assert first["withdrawn_at"] is not None and first["withdrawn_at"] > data["steps"][3]["position"]
    assert data["steps"][3]["evidence"][0]["text"] == PASSAGES[4][0]
    text = ok(cli, "replay", "leadership")
    assert f'"{PASSAGES[0][0]}"' in text and f"withdrawn at position {first['withdrawn_at']}" in text


def test_hypotheses_feedback_and_bias_findings_are_shown(told: tuple[CLI, list[str]]) -> None:
    cli, _ = told
    data = replayed(cli)
    [view] = data["steps"][0]["hypotheses"]
    assert view["text"] == "Leaders know practice well" and view["checks"] == 1
    assert [e["what"].split(" ")[0] for e in view["entries"]] == ["stated:", "linked", "disconfirming-evidence"]
    said = data["steps"][1]
    assert said["differs"] is True and said["feedback_grade"] == "outstanding"
    assert "differs from the recorded grade then, good" in said["what"]
    review = data["steps"][2]
    assert [n["title"] for n in review["bias"]] == ["No child feedback behind leadership"]
    assert data["steps"][3]["bias_review_at"] == review["position"]
    summary = " ".join(data["summary"])
    assert "Verbal feedback differed from the recorded grade 1 time" in summary
    assert "Panel 1 changed it from requires improvement to good" in summary
    assert "Moderator dave changed it from good to requires improvement" in summary
    assert summary.endswith("Result: requires improvement (published).")


def test_output_is_byte_identical_and_the_final_state_equals_the_projection(told: tuple[CLI, list[str]]) -> None:
    cli, _ = told
    for fmt in ("text", "markdown", "html", "json"):
        first, second = cli("replay", "leadership", "--format", fmt), cli("replay", "leadership", "--format", fmt)
        assert first.code == 0 and first.out == second.out and first.out.strip()
    [row] = [r for r in cli("judge", "list", "--json").json() if r["area"] == "leadership"]
    assert replayed(cli)["state"] == row


def test_at_a_position_or_time_shows_the_state_as_it_was(told: tuple[CLI, list[str]]) -> None:
    cli, _ = told
    full = replayed(cli)
    revised = full["steps"][3]
    then = replayed(cli, "--at", str(revised["position"]))
    assert [s["kind"] for s in then["steps"]] == ["proposed", "feedback", "bias-review", "revised"]
    assert (then["grade"], then["status"], then["cutoff"]) == (
        "requires-improvement", "proposed", f"position {revised['position']}"
    )
    assert then["steps"][0]["evidence"][0]["withdrawn_at"] is None
    assert then["state"]["steps"] == full["state"]["steps"][:2]
    at_time = replayed(cli, "--at", full["steps"][1]["at"])
    assert [s["kind"] for s in at_time["steps"]] == ["proposed", "feedback"] and at_time["grade"] == "good"
    first = full["steps"][0]["position"]
    assert "No grade had been proposed for leadership" in cli(
        "replay", "leadership", "--at", str(first - 1)
    ).one_line_error()


def test_replay_by_judgment_id_and_refusals(told: tuple[CLI, list[str]]) -> None:
    cli, _ = told
    jid = replayed(cli)["judgment"]
    assert ok(cli, "replay", jid[:8]) == ok(cli, "replay", "leadership")
    assert "'finance' is not a judgment area" in cli("replay", "finance").one_line_error()
    assert "No grade had been proposed for lscb" in cli("replay", "lscb").one_line_error()
    written = cli.cwd / "leadership.html"
    assert "Wrote the replay of leadership" in ok(cli, "replay", "leadership", "--format", "html", "-o", str(written))
    assert written.read_text(encoding="utf-8") == ok(cli, "replay", "leadership", "--format", "html")


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_self_contained_accessible_and_escaped(told: tuple[CLI, list[str]]) -> None:
    cli, _ = told
    page = ok(cli, "replay", "leadership", "--format", "html")
    parsed = _Page()
    parsed.feed(page)
    tags = [t for t, _ in parsed.tags]
    assert page.startswith("<!DOCTYPE html>\n") and ("html", {"lang": "en"}) in parsed.tags
    assert {"title", "main", "h1", "h2", "h3", "table", "caption", "th", "style"} <= set(tags)
    assert not {"script", "img", "iframe", "object"} & set(tags)
    links = [a.get("href") or a.get("src") or "" for _, a in parsed.tags]
    assert all(link.startswith(("#", "data:")) for link in links if link)
    assert all(a.get("scope") == "col" for t, a in parsed.tags if t == "th")
    assert HOSTILE in "".join(parsed.text)
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page


def test_replay_reads_by_id_and_never_scans_the_ledger(told: tuple[CLI, list[str]], monkeypatch) -> None:
    cli, _ = told

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("replay must not scan the ledger")

    ledger = Ledger(cli.url)
    try:
        for name in ("history", "ledger_rows"):
            monkeypatch.setattr(Ledger, name, refuse)
        monkeypatch.setattr(ledger.recorder, "select_ledger", refuse)
        monkeypatch.setattr(ledger.recorder, "select_event_rows", refuse)
        done = replay.replay(ledger, load(ledger, "barnet-2017"), "leadership", framework=SIF)
        assert len(done.steps) == 8
        with pytest.raises(NotFound, match="No grade had been proposed for adoption"):
            replay.replay(ledger, load(ledger, "barnet-2017"), "adoption", framework=SIF)
    finally:
        ledger.close()


def _demo_outputs(url: str) -> tuple[str, str, list[dict[str, Any]]]:
    build(url, SIF, load_codebook("sif-2013"), seed=7)
    ledger = Ledger(url)
    try:
        inspection = load(ledger, "northmoor-2017")
        done = replay.replay(ledger, inspection, "overall", framework=SIF)
        with ready(ledger).connect() as conn:
            rows = judgments(conn, inspection.id)
        return RENDERERS["text"](done), RENDERERS["json"](done), rows
    finally:
        ledger.close()


def test_the_same_log_replays_identically_on_sqlite_and_postgresql(tmp_path: Path) -> None:
    urls = [backends.fresh_url("sqlite", tmp_path), backends.fresh_url("postgres", tmp_path)]
    try:
        on_sqlite, on_postgres = (_demo_outputs(url) for url in urls)
    finally:
        backends.discard(urls[1])
    assert on_sqlite == on_postgres
    text, data, rows = on_sqlite
    assert json.loads(data)["state"] == next(r for r in rows if r["area"] == "overall")
    assert "Panel 1 changed it" in text and "Moderator Helen Moore changed it" in text
