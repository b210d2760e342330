"""``evidence source|note``: registering files and notes all-or-none, idempotently; listing, showing, withdrawing
and superseding sources. Hostile and unreadable files are refused in one line with the ledger unchanged.
"""

from __future__ import annotations

import io
import subprocess
import sys
import uuid
import zipfile
from typing import TYPE_CHECKING

import docx
import pytest
from corpus import MARKERS, pdf_document

from ledger.application import Ledger
from ledger.coding import Coding
from ledger.inspection import inspection_id
from ledger.source import Source, source_id

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import CLI

HEAVY = ("sqlalchemy", "rich", "plugins", "projections")
NOTE = "Front door visit.\nThe MASH manager explained thresholds clearly.\nSome delays at weekends.\n"


def _state(cli: CLI) -> tuple[int, int]:
    ledger = Ledger(cli.url)
    try:
        return ledger.last_position(), ledger.verify()
    finally:
        ledger.close()


def _source(cli: CLI, text: str) -> Source:
    ledger = Ledger(cli.url)
    try:
        return ledger.get(Source, source_id(inspection_id("barnet-2017"), text))
    finally:
        ledger.close()


def _docx(*paragraphs: str, title: str = "") -> bytes:
    document = docx.Document()
    document.core_properties.title = title
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _replace_member(data: bytes, name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as old, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info.filename, content if info.filename == name else old.read(info))
    return out.getvalue()


def _note_file(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


# --- adding files ------------------------------------------------------------------------------------


def test_add_registers_each_file_and_prints_id_and_title(team: CLI, corpus_files: dict[str, Path]) -> None:
    files = [corpus_files[key] for key in ("interview", "docx", "pdf", "performance_csv")]
    before, _ = _state(team)
    result = team("source", "add", *map(str, files), "--kind", "interview", "--case", "C-1")
    assert result.code == 0, result.err
    assert _state(team)[0] == before + 4
    lines = result.out.splitlines()
    assert any(line.endswith("Practice audit summary") for line in lines)
    assert any(line.endswith("Self-evaluation summary") for line in lines)
    assert "4 source(s) registered, 0 already there." in result.out
    short = next(line for line in lines if line.endswith("Practice audit summary")).split()[0]
    shown = team("source", "show", short, "--json").json()
    assert shown["kind"] == "interview" and shown["case"] == "C-1" and shown["format"] == "docx"  # type: ignore[index]
    assert MARKERS["docx"] in shown["text"]  # type: ignore[index]


def test_add_is_one_append_all_or_none(team: CLI, corpus_files: dict[str, Path], tmp_path: Path) -> None:
    unsupported = tmp_path / "scan.xyz"
    unsupported.write_bytes(b"\x89\x00\x01 not a known format")
    before = _state(team)
    error = team("source", "add", str(corpus_files["interview"]), str(unsupported), "--kind", "interview")
    assert "scan.xyz cannot be imported" in error.one_line_error()
    assert _state(team) == before


def test_adding_the_same_file_twice_changes_nothing(team: CLI, corpus_files: dict[str, Path]) -> None:
    path = str(corpus_files["interview"])
    first = team("source", "add", path, "--kind", "interview")
    assert first.code == 0
    short = first.out.split()[0]
    before = _state(team)
    again = team("source", "add", path, "--kind", "interview")
    assert again.code == 0
    assert f"already registered as {short} — nothing added" in again.out
    assert _state(team) == before


def test_json_output_says_what_was_added(team: CLI, corpus_files: dict[str, Path]) -> None:
    path = str(corpus_files["interview"])
    rows = team("source", "add", path, path, "--kind", "interview", "--json").json()
    assert [row["added"] for row in rows] == [True, False]  # type: ignore[index,union-attr]
    assert rows[0]["id"] == rows[1]["id"]  # type: ignore[index]


def test_many_files_are_read_then_registered_together(team: CLI, tmp_path: Path) -> None:
    files = [_note_file(tmp_path, f"note-{i:02d}.txt", f"Note {i}: the duty manager reviewed contact {i}.\n")
             for i in range(25)]
    before, _ = _state(team)
    result = team("source", "add", *map(str, files), "--kind", "notebook", "--tier", "practitioner")
    assert result.code == 0, result.err
    assert _state(team)[0] == before + 25
    assert "25 source(s) registered" in result.out
    assert _source(team, "Note 7: the duty manager reviewed contact 7.\n").tier == "practitioner"


def test_options_fill_what_the_file_does_not_say(team: CLI, tmp_path: Path) -> None:
    path = _note_file(tmp_path, "visit.md", "---\nkind: observation\ncase: C-9\n---\nHome visit, child seen.\n")
    result = team("source", "add", str(path), "--kind", "interview", "--case", "C-1", "--annex-a", "7",
                  "--collected-at", "2017-01-10T14:30")
    assert result.code == 0, result.err
    shown = team("source", "show", result.out.split()[0], "--json").json()
    assert shown["kind"] == "observation" and shown["case"] == "C-9" and shown["annex_a"] == 7  # type: ignore[index]
    assert shown["collected_at"].startswith("2017-01-10T14:30:00")  # type: ignore[index]


def _entity_bomb() -> bytes:
    levels = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    ]
    xml = f'<?xml version="1.0"?><!DOCTYPE w:document [{"".join(levels)}]>' + (
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"
    )
    return _replace_member(_docx("Ordinary text."), "word/document.xml", xml.encode())


def _external_entity(target: Path) -> bytes:
    xml = f'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY xxe SYSTEM "{target.as_uri()}">]>' + (
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:body></w:document>"
    )
    return _replace_member(_docx("Ordinary text."), "word/document.xml", xml.encode())


def _archive_bomb() -> bytes:
    return _replace_member(_docx("Ordinary text."), "word/document.xml", b"\x00" * 20_000_000)


@pytest.mark.parametrize(
    ("name", "make", "needle"),
    [
        ("missing.txt", None, "does not exist"),
        ("folder.txt", "folder", "is a folder"),
        ("latin1.txt", lambda _: "café".encode("latin-1"), "is not UTF-8 text"),
        ("empty.txt", lambda _: b"   \n", "has no text to import"),
        ("unknown.bin", lambda _: b"\x00\x01\x02\x03", "its format is not recognised"),
        ("laughs.docx", lambda _: _entity_bomb(), "declares XML entities"),
        ("xxe.docx", _external_entity, "declares XML entities"),
        ("bomb.docx", lambda _: _archive_bomb(), "expands"),
        ("broken.pdf", lambda _: pdf_document()[:200], "broken.pdf"),
    ],
)
def test_unreadable_unsupported_and_hostile_files_are_refused(
    team: CLI, tmp_path: Path, name: str, make: object, needle: str
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("CANARY-4471", encoding="utf-8")
    path = tmp_path / name
    if make == "folder":
        path.mkdir()
    elif make is not None:
        path.write_bytes(make(secret))  # type: ignore[operator]
    before = _state(team)
    result = team("source", "add", str(path), "--kind", "audit")
    error = result.one_line_error()
    assert needle in error and name in error
    assert "CANARY" not in result.out + result.err
    assert _state(team) == before


def test_a_hostile_file_gets_one_line_from_a_real_process(team: CLI, tmp_path: Path) -> None:
    """What a person sees in a terminal: one sentence on stderr, no traceback, a non-zero exit."""
    path = tmp_path / "laughs.docx"
    path.write_bytes(_entity_bomb())
    before = _state(team)
    result = team.subprocess("source", "add", str(path), "--kind", "audit")
    assert result.one_line_error().startswith("error: laughs.docx") and result.code == 2
    assert _state(team) == before


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--kind", "gossip"), "'gossip' is not a source kind"),
        (("--kind", "interview", "--tier", "hearsay"), "'hearsay' is not a reliability tier"),
        (("--kind", "interview", "--annex-a", "12"), "Annex A item 12 does not exist"),
        ((), "say what kind of source it is with --kind"),
        (("--kind", "interview", "--format", "spreadsheet"), "no importer named 'spreadsheet'"),
        (("--kind", "interview", "--supersedes", "abcd"), "Say why the source is replaced"),
    ],
)
def test_bad_options_are_refused(team: CLI, tmp_path: Path, args: tuple[str, ...], needle: str) -> None:
    path = _note_file(tmp_path, "plain.txt", "Plain note without front matter.\n")
    before = _state(team)
    assert needle in team("source", "add", str(path), *args).one_line_error()
    assert _state(team) == before


def test_panel_member_cannot_add_sources(team: CLI, tmp_path: Path) -> None:
    path = _note_file(tmp_path, "plain.txt", "Plain note.\n")
    before = _state(team)
    result = team("--as", "carol", "source", "add", str(path), "--kind", "interview")
    assert result.code == 3 and "needs the role" in result.one_line_error()
    assert _state(team) == before


# --- notes -------------------------------------------------------------------------------------------


def test_note_from_argument_and_from_stdin(team: CLI, monkeypatch: pytest.MonkeyPatch) -> None:
    result = team("note", NOTE, "--case", "C-3")
    assert result.code == 0, result.err
    assert result.out.split(maxsplit=1)[1].strip() == "Front door visit."
    stored = _source(team, NOTE)
    assert stored.kind == "notebook" and stored.case == "C-3" and stored.text == NOTE
    monkeypatch.setattr("sys.stdin", io.StringIO("Café meeting with mum 😊\r\nplan agreed.\r\n"))
    piped = team("note", "-", "--kind", "meeting", "--title", "Core group")
    assert piped.code == 0 and piped.out.rstrip().endswith("Core group")
    assert _source(team, "Café meeting with mum 😊\r\nplan agreed.\r\n").kind == "meeting"


def test_the_same_note_twice_is_registered_once(team: CLI) -> None:
    first = team("note", NOTE)
    before = _state(team)
    again = team("note", NOTE)
    assert again.code == 0 and f"already registered as {first.out.split()[0]} — nothing added" in again.out
    assert _state(team) == before


@pytest.mark.parametrize(
    ("args", "needle"),
    [(("  ",), "The note is empty"), ((NOTE, "--kind", "rumour"), "'rumour' is not a source kind")],
)
def test_bad_notes_are_refused(team: CLI, args: tuple[str, ...], needle: str) -> None:
    before = _state(team)
    assert needle in team("note", *args).one_line_error()
    assert _state(team) == before


def test_note_loads_no_heavy_modules(team: CLI) -> None:
    """A note is an append: SQLAlchemy, rich, plugins and projections stay unloaded (checked in a fresh process)."""
    script = (
        "import sys\nfrom cli.main import main\n"
        f"main(['note', {NOTE!r}])\n"
        f"print('HEAVY', sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=team.cwd, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "Front door visit." in done.stdout and "HEAVY []" in done.stdout


# --- listing, showing, withdrawing -------------------------------------------------------------------


def test_list_filters_by_kind_and_case(team: CLI) -> None:
    assert team("note", "First note.\n", "--kind", "interview", "--case", "C-1").code == 0
    assert team("note", "Second note.\n", "--kind", "observation", "--case", "C-2").code == 0
    everything = team("source", "list", "--json").json()
    assert [row["title"] for row in everything] == ["First note.", "Second note."]  # type: ignore[index,union-attr]
    interviews = team("source", "list", "--kind", "interview", "--json").json()
    assert [row["title"] for row in interviews] == ["First note."]  # type: ignore[index,union-attr]
    case_two = team("source", "list", "--case", "C-2", "--json").json()
    assert [row["title"] for row in case_two] == ["Second note."]  # type: ignore[index,union-attr]
    text = team("source", "list").out
    assert "First note." in text and "observation" in text
    assert "'x' is not a source kind" in team("source", "list", "--kind", "x").one_line_error()


def test_show_numbers_lines_with_their_offsets_and_marks_pages(team: CLI, tmp_path: Path) -> None:
    added = team("note", NOTE)
    text = team("source", "show", added.out.split()[0]).out
    second = NOTE.index("The MASH")
    assert f"    2 {second:>7}  The MASH manager explained thresholds clearly." in text
    pdf = tmp_path / "two-pages.pdf"
    pdf.write_bytes(pdf_document())
    result = team("source", "add", str(pdf), "--kind", "self-assessment")
    shown = team("source", "show", result.out.split()[0])
    assert "pages start at: 0, " in shown.out and "--- page 2 ---" in shown.out


def test_withdraw_keeps_the_source_in_the_history(team: CLI) -> None:
    short = team("note", NOTE).out.split()[0]
    before = _state(team)
    assert "Say why" in team("source", "withdraw", short, "--because", " ").one_line_error()
    assert _state(team) == before
    done = team("source", "withdraw", short, "--because", "wrong family")
    assert done.code == 0 and short in done.out
    assert team("source", "show", short, "--json").json()["withdrawn"] is True  # type: ignore[index]
    assert "withdrawn already" in team("source", "withdraw", short, "--because", "again").one_line_error()
    assert "No source has an id starting with 0000" in team("source", "withdraw", "0000", "--because",
                                                              "x").one_line_error()


# --- superseding -------------------------------------------------------------------------------------

OLD = "Visit one. Zoë was seen alone.\nThe plan was reviewed on time.\nThe manager signed the plan.\n"
NEW = "Visit one. Zoë was seen alone.\nThe plan was reviewed late, after the conference.\nThe manager signed the plan.\n"


def test_supersede_moves_codings_on_unchanged_passages_and_flags_the_rest(team: CLI, tmp_path: Path) -> None:
    assert team("codebook", "use", "sif-2013").code == 0
    old_short = team("note", OLD).out.split()[0]
    kept = team("code", "apply", old_short, "help-protection", "--quote", "Zoë was seen alone",
                "--valence", "strength", "--json").json()
    signed = team("code", "apply", old_short, "leadership", "--quote", "The manager signed the plan.",
                  "--valence", "strength", "--json").json()
    lost = team("code", "apply", old_short, "help-protection", "--quote", "reviewed on time",
                "--valence", "strength", "--json").json()
    path = _note_file(tmp_path, "visit-v2.txt", NEW)
    before, _ = _state(team)
    result = team("source", "add", str(path), "--kind", "notebook", "--supersedes", old_short,
                  "--because", "corrected the review date", "--json")
    data = result.json()
    assert (data["placed"], data["unplaced"]) == (2, 1)  # type: ignore[index]
    assert data["supersedes"].startswith(old_short)  # type: ignore[index]
    assert _state(team)[0] == before + 2 + 3
    ledger = Ledger(team.url)
    try:
        moved = [ledger.get(Coding, uuid.UUID(c["id"])) for c in (kept, signed)]  # type: ignore[index]
        flagged = ledger.get(Coding, uuid.UUID(lost["id"]))  # type: ignore[index]
        old = ledger.get(Source, uuid.UUID(data["supersedes"]))  # type: ignore[index]
    finally:
        ledger.close()
    for coding, quote in zip(moved, ("Zoë was seen alone", "The manager signed the plan."), strict=True):
        assert coding.source == uuid.UUID(data["id"]) and NEW[coding.start:coding.end] == quote  # type: ignore[index]
    assert flagged.unplaced and flagged.source == old.id
    assert old.superseded_by == uuid.UUID(data["id"])  # type: ignore[index]
    text = team("code", "apply", old_short, "help-protection", "--span", "0:5", "--valence", "neutral")
    assert "superseded" in text.one_line_error()


def test_supersede_refusals_change_nothing(team: CLI, tmp_path: Path) -> None:
    old_short = team("note", OLD).out.split()[0]
    same = _note_file(tmp_path, "same.txt", OLD)
    other = _note_file(tmp_path, "other.txt", NEW)
    before = _state(team)
    assert "registered already" in team("source", "add", str(same), "--kind", "notebook", "--supersedes", old_short,
                                         "--because", "x").one_line_error()
    assert "exactly one file" in team("source", "add", str(same), str(other), "--kind", "notebook",
                                      "--supersedes", old_short, "--because", "x").one_line_error()
    assert "No source has an id starting with 0000" in team("source", "add", str(other), "--kind", "notebook",
                                                              "--supersedes", "0000", "--because",
                                                              "x").one_line_error()
    assert _state(team) == before


@pytest.fixture
def corpus_files(tmp_path: Path) -> dict[str, Path]:
    from corpus import write_corpus

    return write_corpus(tmp_path / "corpus")
