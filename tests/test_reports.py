"""Reports: the draft report, the moderation record and the feedback comparison in every built-in format, a
third-party writer through ``register_report_writers``, byte-identical rebuilds, and refusals of bad input.

``populate`` builds a small synthetic inspection through the ledger's own commands (sources from Annex A items,
codings, proposals, a panel change with dissent, a moderation, a finalised grade, verbal feedback and Annex A
costs); the other report tests import it.
"""

from __future__ import annotations

import csv
import io
import re
import types
import zipfile
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ledger import pluginmanager
from ledger.application import Ledger
from ledger.hookspecs import hookimpl
from projections.report_data import DRAFT_COLUMNS, FEEDBACK_COLUMNS, MODERATION_COLUMNS

if TYPE_CHECKING:
    from conftest import CLI

FORMATS = ("terminal", "markdown", "html", "json", "csv", "docx")
KINDS = ("draft", "moderation", "feedback")

#: (title, kind, case, Annex A item, text) of the generated sources. Nothing here is real child data.
SOURCES = (
    ("Referral record C-10482", "case-record", "C-10482", 3,
     "The referral was screened within one working day. Management oversight was visible on the file and the "
     "decision to hold a strategy discussion was recorded with clear reasons."),
    ("Assessment audit C-22917", "audit", "C-22917", 4,
     "The assessment was completed late, after 61 working days. The analysis of risk was weak and the plan did "
     "not say who would do what."),
    ("Child protection plan C-31554", "case-record", "C-31554", 7,
     "The child was seen alone at every visit and her wishes were recorded in her own words. The plan is "
     "specific and reviewed on time."),
    ("Interview with a team manager", "interview", None, None,
     "Supervision happens monthly but is not reflective. Caseloads are high, at 28 children per worker."),
)

#: (source index, code, valence, quote, band, note) of the codings bob makes.
CODINGS = (
    (0, "help-protection/contacts-and-referrals", "strength", "The referral was screened within one working day",
     "good", "prompt screening"),
    (0, "leadership/management-oversight-supervision", "strength", "Management oversight was visible on the file",
     "good", ""),
    (1, "help-protection/assessment", "weakness", "The assessment was completed late, after 61 working days",
     "requires-improvement", "late"),
    (1, "help-protection/assessment", "weakness",
     "The analysis of risk was weak and the plan did not say who would do what", "inadequate", "weak analysis"),
    (2, "help-protection/child-seen-wishes-feelings", "strength",
     "The child was seen alone at every visit and her wishes were recorded in her own words", "good", "voice"),
    (2, "help-protection/cp-conferences-and-plans", "strength", "The plan is specific and reviewed on time", None, ""),
    (3, "leadership/management-oversight-supervision", "weakness", "Supervision happens monthly but is not reflective",
     "requires-improvement", "not reflective"),
    (3, "leadership/workforce", "weakness", "Caseloads are high, at 28 children per worker", None, ""),
)

NARRATIVE = "Close to good: direct work is strong, but assessments are late in too many cases."
DISSENT = "One member judged the direct work strong enough for good."


class Clock:
    """Two hours on at every event, from the first morning of fieldwork: the same times on every run."""

    def __init__(self) -> None:
        self.now = datetime(2017, 1, 9, 9, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(hours=2)
        return self.now


def populate(url: str, reference: str = "barnet-2017") -> dict[str, list[str]]:
    """Fill an open inspection (alice leads it) with the synthetic evidence, judgments, feedback and Annex A costs."""
    from ledger import annex_a, feedback, judgment, panel
    from ledger import codebook as codebooks
    from ledger import inspection as inspections
    from ledger import source as sources
    from ledger.coding import CodingRequest, prepare
    from ledger.events import Role
    from plugins.codebooks import load_codebook
    from plugins.frameworks import load_framework

    ledger = Ledger(url, clock=Clock())
    try:
        framework = load_framework("sif-2013")
        for person, role in (("bob", Role.INSPECTOR), ("carol", Role.PANEL), ("dave", Role.MODERATOR)):
            if inspections.load(ledger, reference).members.get(person) != role:
                inspections.add_member(ledger, "alice", reference, person, role)
        i = inspections.load(ledger, reference)
        codebooks.adopt(ledger, "alice", i, load_codebook("sif-2013"))
        ids, _ = sources.register(ledger, "bob", i, [
            sources.NewSource(title=t, text=x, kind=sources.Kind(k), case=c, annex_a=a) for t, k, c, a, x in SOURCES
        ])
        book = codebooks.load(ledger, i)
        made = []
        for index, code, valence, quote, band, note in CODINGS:
            state = ledger.get(sources.Source, ids[index])
            made.append(prepare(ledger, "bob", i, state, book,
                                CodingRequest(code=code, valence=valence, quote=quote, band=band, note=note)))
        ledger.append(*made)
        c = [event.originator_id for event in made]
        judgment.propose(ledger, "bob", i, framework, "help-protection", "good", "Strong screening and direct work.",
                         c[:6])
        judgment.propose(ledger, "bob", i, framework, "leadership", "good", "Oversight is visible.", [c[1], c[6], c[7]])
        judgment.revise(ledger, "bob", i, framework, "help-protection", "good", "The plans are specific.",
                        [c[0], c[2], c[4], c[5]])
        feedback.record(ledger, "alice", i, framework, area="help-protection", stage="feedback",
                        audience="director of children's services", message="Help and protection looks good.",
                        grade="good")
        feedback.record(ledger, "alice", i, framework, area="leadership", stage="fieldwork",
                        audience="director of children's services", message="Supervision needs attention.")
        panel.convene(ledger, "alice", i, ["carol"], "consistency check")
        judgment.panel_revise(ledger, "carol", i, framework, "help-protection", "requires-improvement",
                              "Assessment delays are widespread.", dissent=DISSENT)
        panel.decide(ledger, "carol", i, "Help and protection moves to requires improvement.")
        judgment.moderate(ledger, "dave", i, framework, "leadership", "requires-improvement",
                          "Supervision is not reflective.")
        judgment.finalise(ledger, "alice", i, framework, "help-protection", "good", NARRATIVE)
        annex_a.request(ledger, "alice", i, 3)
        annex_a.declare_cost(ledger, "alice", i, 3, "12.5", "1250.50")
        annex_a.declare_cost(ledger, "alice", i, 4, "8")
        annex_a.request(ledger, "alice", i, "early help")
        return {"codings": [x.hex for x in c], "sources": [x.hex for x in ids]}
    finally:
        ledger.close()


@pytest.fixture
def reported(team: CLI) -> tuple[CLI, dict[str, list[str]]]:
    """The ``team`` ledger with the synthetic inspection in it."""
    return team, populate(team.url)


def _state(cli: CLI) -> tuple[int, int]:
    ledger = Ledger(cli.url)
    try:
        return ledger.last_position(), ledger.verify()
    finally:
        ledger.close()


class _Outline(HTMLParser):
    """Collects the tags, attributes and text of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def outline(html: str) -> _Outline:
    parsed = _Outline()
    parsed.feed(html)
    return parsed


# --- the draft report in every format ----------------------------------------------------------------------


def test_the_draft_report_in_json_holds_grades_narrative_vignettes_and_recommendations(reported: Any) -> None:
    cli, made = reported
    data: Any = cli("report", "draft", "--format", "json").json()
    assert data["kind"] == "draft" and data["inspection"] == "barnet-2017"
    sections = {s["anchor"]: s for s in data["sections"]}
    area = sections["area-help-protection"]
    texts = [b.get("text", "") for b in area["blocks"] if b["type"] == "paragraph"]
    assert any(t.startswith("Grade: requires improvement (finalised).") for t in texts)
    assert f"The grade came nearest to good. {NARRATIVE}" in texts
    assert {"bars", "grade-path"} <= {b["type"] for b in area["blocks"]}
    path = next(b for b in area["blocks"] if b["type"] == "grade-path")
    assert [(p["step"], p["grade"]) for p in path["points"]] == [
        ("proposed", "good"), ("revised", "good"), ("panel-revised", "requires-improvement"),
        ("finalised", "requires-improvement"),
    ]
    strengths = [b for b in sections["area-help-protection-strength"]["blocks"] if b["type"] == "vignette"]
    weaknesses = [b for b in sections["area-help-protection-weakness"]["blocks"] if b["type"] == "vignette"]
    assert strengths and weaknesses
    first = next(v for v in strengths if v["provenance"]["coding"] == made["codings"][0])
    assert first["quote"] == "The referral was screened within one working day"
    assert first["cited"] is True
    assert first["provenance"] | {"coded_at": ""} == {
        "coding": made["codings"][0], "source": made["sources"][0], "source_title": "Referral record C-10482",
        "kind": "case-record", "case": "C-10482", "tier": "direct", "coder": "bob", "coded_at": "",
        "code": "help-protection/contacts-and-referrals", "label": "contacts and referrals (front door, MASH)",
        "start": 0, "end": 48,
    }
    assert all(v["valence"] == "weakness" for v in weaknesses)
    advice = sections["area-help-protection-recommendations"]["blocks"][0]["items"]
    assert advice[0].startswith("Improve assessment quality and timeliness, where 2 weakness(es) were found")
    assert "[coding " in advice[0]
    assert "area-looked-after-strength" not in sections  # nothing coded there: no empty strengths section


def test_the_draft_report_in_csv_markdown_terminal_and_docx(reported: Any, tmp_path: Path) -> None:
    cli, made = reported
    rows = list(csv.reader(io.StringIO(cli("report", "draft", "--format", "csv").out, newline="")))
    assert tuple(rows[0]) == DRAFT_COLUMNS
    quoted = {row[DRAFT_COLUMNS.index("quote")]: row for row in rows[1:]}
    row = quoted["The referral was screened within one working day"]
    assert (row[0], row[2], row[4], row[-2], row[-1]) == (
        "help-protection", "requires-improvement", "good", made["codings"][0], "yes"
    )
    assert any(r[0] == "looked-after" and r[5] == "" for r in rows[1:])  # an area with no evidence still has a row

    markdown = cli("report", "draft", "--format", "markdown").out
    assert markdown.startswith("# Draft report: London Borough of Barnet\n")
    assert "\n## Children who need help and protection\n" in markdown
    assert "\n### Key weaknesses: Children who need help and protection\n" in markdown
    assert "\n> The referral was screened within one working day\n" in markdown
    assert f"[coding {made['codings'][0][:8]}]; the grade cites it" in markdown
    assert NARRATIVE in markdown

    terminal = cli("report", "draft").out  # the default format, to standard output
    assert "Children who need help and protection" in terminal
    assert "“The referral was screened within one working day”" in terminal
    assert "\x1b[" not in terminal  # no styles when the output is not a terminal

    out = tmp_path / "draft.docx"
    done = cli("report", "draft", "--out", str(out))  # the format follows the extension
    assert done.code == 0 and done.out == f"Wrote the draft report (docx) to {out}.\n"
    import docx

    document = docx.Document(str(out))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert "Children who need help and protection" in headings
    assert "The referral was screened within one working day" in [
        p.text for p in document.paragraphs if p.style.name == "Quote"
    ]
    assert document.tables[0].rows[0].cells[0].text == "Judgment"
    assert document.core_properties.title == "Draft report: London Borough of Barnet"


def test_the_html_report_is_self_contained_accessible_and_printable(reported: Any) -> None:
    cli, _ = reported
    html = cli("report", "draft", "--format", "html").out
    page = outline(html)
    assert page.named("html") == [{"lang": "en-GB"}]
    assert len(page.named("h1")) == 1 and page.named("h2") and page.named("h3")
    assert not page.named("script") and not page.named("img") and not page.named("iframe")
    external = [a for tag, attrs in page.tags for name, a in attrs.items()
                if name in ("src", "href") and a and not a.startswith(("#", "data:"))]
    assert external == []
    charts = [a for a in page.named("svg") if a.get("role") == "img"]
    assert len(charts) >= 4
    for chart in charts:
        title, desc = (chart["aria-labelledby"] or "").split()
        assert f'<title id="{title}">' in html and f'<desc id="{desc}">' in html
    assert page.named("caption") and all(a.get("scope") == "col" for a in page.named("th"))
    assert "@media print" in html and "Content-Security-Policy" in html
    assert len(page.named("blockquote")) >= 4
    ids = [a["id"] for _, a in page.tags if a.get("id")]
    assert len(ids) == len(set(ids))


def test_no_grade_and_no_evidence_still_gives_a_report(team: CLI) -> None:
    data: Any = team("report", "draft", "--format", "json").json()
    texts = [b.get("text") for s in data["sections"] for b in s["blocks"]]
    assert "No grade has been proposed for this area yet." in texts
    assert team("report", "moderation").code == 0
    assert "No panel or moderator changed a grade." in team("report", "moderation", "--format", "markdown").out
    assert "0 feedback item(s) were recorded" in team("report", "feedback").out


# --- moderation and feedback ---------------------------------------------------------------------------------


def test_the_moderation_record_lists_every_change_with_rationale_and_dissent(reported: Any) -> None:
    cli, _ = reported
    data: Any = cli("report", "moderation", "--format", "json").json()
    assert tuple(data["columns"]) == MODERATION_COLUMNS
    changes = [dict(zip(MODERATION_COLUMNS, r, strict=True)) for r in data["records"]]
    assert [(c["area"], c["change"], c["panel"], c["by"], c["from"], c["to"], c["dissent"]) for c in changes] == [
        ("help-protection", "panel-revised", "1", "carol", "good", "requires-improvement", DISSENT),
        ("leadership", "moderated", "", "dave", "good", "requires-improvement", ""),
    ]
    assert changes[0]["rationale"] == "Assessment delays are widespread."
    markdown = cli("report", "moderation", "--format", "markdown").out
    assert "1 panel(s) sat; they changed 1 grade(s), and moderation changed 1." in markdown
    assert f"\nDissent: {DISSENT}\n" in markdown
    assert "| 1 | carol | consistency check | alice |" in markdown


def test_the_feedback_comparison_marks_where_feedback_differed(reported: Any) -> None:
    cli, _ = reported
    data: Any = cli("report", "feedback", "--format", "json").json()
    rows = [dict(zip(FEEDBACK_COLUMNS, r, strict=True)) for r in data["records"]]
    assert [(r["area"], r["indicated"], r["final"], r["agreement"]) for r in rows] == [
        ("help-protection", "good", "requires-improvement", "differs: one grade better than the final grade"),
        ("leadership", "", "requires-improvement", "no grade indicated"),
    ]
    text = cli("report", "feedback", "--format", "markdown").out
    assert "1 feedback item(s) were recorded; 1 indicated" not in text
    assert "2 feedback item(s) were recorded; 1 indicated a grade other than the final one." in text
    assert f"Report text: {NARRATIVE}" in text


# --- rebuilt byte for byte ---------------------------------------------------------------------------------


@pytest.fixture
def on_backend(cli: CLI, backend: str, monkeypatch: pytest.MonkeyPatch) -> CLI:
    """The synthetic inspection in a ledger at ``backend`` (SQLite, then PostgreSQL)."""
    for args in (("init", "--url", backend, "--user", "alice"),
                 ("inspection", "open", "barnet-2017", "--authority", "London Borough of Barnet")):
        assert cli(*args).code == 0
    monkeypatch.setenv("EVIDENCE_LEDGER_URL", backend)
    populate(backend)
    return cli


def _every_output(cli: CLI, folder: Path) -> dict[str, bytes]:
    out = {}
    for kind in KINDS:
        for name in FORMATS:
            path = folder / f"{kind}.{name}"
            assert cli("report", kind, "--format", name, "--out", str(path)).code == 0
            out[path.name] = path.read_bytes()
    for args in (("annex-a", "report"), ("annex-a", "report", "--json"), ("lint", "--report", "--json")):
        done = cli(*args)
        assert done.code == 0, done.err
        out[" ".join(args)] = done.out.encode()
    return out


def test_every_report_is_rebuilt_byte_identically(on_backend: CLI, tmp_path: Path) -> None:
    cli = on_backend
    (tmp_path / "before").mkdir()
    (tmp_path / "after").mkdir()
    before = _every_output(cli, tmp_path / "before")
    assert cli("projections", "rebuild").code == 0
    after = _every_output(cli, tmp_path / "after")
    assert sorted(before) == sorted(after) and len(before) == len(KINDS) * len(FORMATS) + 3
    for name, data in before.items():
        assert data, name
        assert after[name] == data, f"{name} changed after a rebuild"
    with zipfile.ZipFile(io.BytesIO(before["draft.docx"])) as package:
        assert {info.date_time for info in package.infolist()} == {(2000, 1, 1, 0, 0, 0)}


# --- a third-party writer ------------------------------------------------------------------------------------


class ShoutWriter:
    """A throwaway writer: the report's title in capitals."""

    name = "shout"
    format = "text"
    extension = "shout"

    def write(self, report: Any) -> bytes:
        return report.title.upper().encode() + b"\n"


@pytest.fixture
def shout_plugin(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A third-party plugin registering ``shout`` through register_report_writers, removed afterwards."""
    plugin = types.ModuleType("shout_reports")

    @hookimpl
    def register_report_writers(register: Any) -> None:
        register(ShoutWriter())

    plugin.register_report_writers = register_report_writers  # type: ignore[attr-defined]
    pm = pluginmanager.plugin_manager()
    monkeypatch.setattr(pluginmanager, "_CACHE", {})  # collect the hooks again, with the plugin in
    pm.register(plugin, name="shout_reports")
    try:
        yield plugin
    finally:
        pm.unregister(name="shout_reports")


def test_a_third_party_writer_is_listed_and_usable(reported: Any, shout_plugin: Any, tmp_path: Path) -> None:
    cli, _ = reported
    listed: Any = cli("plugins", "--all").json()
    mine = next(p for p in listed if p["name"] == "shout_reports")
    assert mine["builtin"] is False and mine["hooks"] == ["register_report_writers"]
    assert mine["registered"] == {"report_writers": ["shout"]}
    builtin = next(p for p in listed if p["name"] == "plugins.reports")
    assert builtin["registered"]["report_writers"] == list(FORMATS)
    assert cli("report", "draft", "--format", "shout").out == "DRAFT REPORT: LONDON BOROUGH OF BARNET\n"
    out = tmp_path / "moderation.shout"
    assert cli("report", "moderation", "--out", str(out)).code == 0
    assert out.read_text() == "MODERATION RECORD: LONDON BOROUGH OF BARNET\n"


# --- refusals ------------------------------------------------------------------------------------------------


def test_bad_report_options_are_one_line_and_change_nothing(reported: Any, tmp_path: Path) -> None:
    cli, _ = reported
    before = _state(cli)
    unknown = cli("report", "draft", "--format", "pdf")
    assert "no report writer is named 'pdf'" in unknown.err and unknown.code != 0
    assert "terminal, markdown, html, json, csv, docx" in unknown.err
    guess = cli("report", "draft", "--out", str(tmp_path / "report.xyz"))
    assert "cannot tell the format from 'report.xyz'" in guess.err and guess.code != 0
    folder = cli("report", "draft", "--out", str(tmp_path / "missing" / "report.html"))
    assert folder.one_line_error().startswith(f"error: Cannot write {tmp_path / 'missing' / 'report.html'}")
    assert not (tmp_path / "missing").exists()
    nobody = cli("report", "feedback", env={"EVIDENCE_INSPECTION": "nowhere-2020"})
    assert "No inspection 'nowhere-2020'" in nobody.one_line_error()
    assert _state(cli) == before


def test_every_builtin_writer_meets_the_contract_and_renders_an_empty_report() -> None:
    from ledger.contracts import ReportWriter
    from plugins.reports import WRITERS
    from projections.report_data import Report

    empty = Report(kind="draft", title="Nothing yet", subtitle="", inspection="x", authority="", framework="sif-2013",
                   as_at=0, sections=())
    assert [w.name for w in WRITERS] == list(FORMATS)
    for writer in WRITERS:
        assert isinstance(writer, ReportWriter)
        first = writer.write(empty)
        assert first and first == writer.write(empty), writer.name


def test_the_example_writer_in_the_docs_plugs_in(reported: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = (Path(__file__).resolve().parents[1] / "docs" / "reports.md").read_text(encoding="utf-8")
    section = docs.split("## Writing a report writer", 1)[1]
    source = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert source is not None
    plugin = types.ModuleType("evidence_outline")
    exec(compile(source.group(1), "docs/reports.md", "exec"), plugin.__dict__)  # noqa: S102 - our own docs
    pm = pluginmanager.plugin_manager()
    monkeypatch.setattr(pluginmanager, "_CACHE", {})
    pm.register(plugin, name="evidence_outline")
    try:
        cli, _ = reported
        done = cli("report", "moderation", "--format", "outline")
    finally:
        pm.unregister(name="evidence_outline")
    assert done.code == 0, done.err
    assert done.out.splitlines()[:3] == [
        "Moderation record: London Borough of Barnet", "  Panels", "  Children who need help and protection",
    ]
