"""``evidence lint``: every planted phrase found at its line and column in text, Word and PDF files, none in a
clean control text; ``--json``; the ``--fail-on`` threshold; third-party rules; ``--report``; bad files.

The test texts are generated from a fixed seed: clean sentences, with phrases to use with care planted at
known places (lines and columns are 1-based and count code points).
"""

from __future__ import annotations

import io
import random
import types
from typing import TYPE_CHECKING, Any

import msgspec
import pytest
from corpus import pdf_document, write_corpus
from test_reports import populate

from ledger import pluginmanager
from ledger.application import Ledger
from ledger.hookspecs import hookimpl
from plugins.language import Phrase, PhraseRule

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import CLI

CLEAN = (
    "The team manager reviewed the plan with the social worker.",
    "Most children seen had an up-to-date assessment.",
    "Return home interviews were offered in the cases sampled.",
    "Leaders know where practice is strongest.",
    "Supervision records showed reflective discussion in eight of ten cases.",
    "Café staff said Zoë’s worker visited weekly 🙂.",
)

#: (phrase as planted, rule that must flag it).
PLANTED = (
    ("ensure", "ensure"),
    ("Ensure", "ensure"),
    ("all children", "absolute"),
    ("always", "absolute"),
    ("kept safe", "safety-guarantee"),
    ("are safe", "safety-guarantee"),
    ("as a result", "causal-claim"),
    ("led to", "causal-claim"),
)


def generated(seed: int, *, plant: bool) -> tuple[list[str], list[tuple[int, int, str, str]]]:
    """Lines of clean sentences, with each planted phrase put into its own line when ``plant``.

    Returns the lines and (line, column, phrase, rule) for every planted occurrence.
    """
    rng = random.Random(seed)
    lines, expected = [], []
    for number in range(1, 41):
        sentence = rng.choice(CLEAN)
        if plant and number % 5 == 0:
            phrase, rule = PLANTED[(number // 5 - 1) % len(PLANTED)]
            lead = rng.choice(CLEAN[:3])
            sentence = f"{lead} Leaders {phrase} the work."
            expected.append((number, len(lead) + len(" Leaders ") + 1, phrase, rule))
        lines.append(sentence)
    return lines, expected


def _found(result: Any) -> list[tuple[int, int, str, str]]:
    data = msgspec.json.decode(result.out)
    return [(f["line"], f["column"], f["phrase"], f["rule"]) for f in data["findings"]]


def test_every_planted_phrase_is_found_at_its_line_and_column(cli: CLI, tmp_path: Path) -> None:
    lines, expected = generated(7, plant=True)
    path = tmp_path / "draft.txt"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    done = cli("lint", str(path), "--json", "--fail-on", "error")
    assert done.code == 1  # 'kept safe' and the unsupported causal claims are errors
    assert _found(done) == expected


def test_a_clean_control_text_gives_no_findings(cli: CLI, tmp_path: Path) -> None:
    lines, expected = generated(7, plant=False)
    assert expected == []
    path = tmp_path / "clean.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = cli("lint", str(path), "--fail-on", "info")
    assert done.code == 0, done.out
    assert done.out.startswith("0 finding(s) in ")
    data: Any = cli("lint", str(path), "--json").json()
    assert data["findings"] == [] and data["failed"] is False
    assert set(data["counts"]) >= {"ensure", "absolute", "safety-guarantee", "causal-claim"}


def test_front_matter_does_not_shift_the_line_numbers(cli: CLI, tmp_path: Path) -> None:
    path = tmp_path / "note.md"
    path.write_text("---\nkind: interview\ncase: C-1\n---\nFirst line.\nWe always visit.\n", encoding="utf-8")
    done = cli("lint", str(path), "--fail-on", "error")
    assert done.code == 0
    assert done.out.splitlines()[0].startswith(f"{path}:6:4: warning [absolute] 'always'")
    assert "Try: " in done.out.splitlines()[0]


def _docx(paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_word_and_pdf_files_are_read_with_the_importers(cli: CLI, tmp_path: Path) -> None:
    lines, expected = generated(11, plant=True)
    word = tmp_path / "draft.docx"
    word.write_bytes(_docx(lines))
    assert [(p, r) for _, _, p, r in _found(cli("lint", str(word), "--json", "--fail-on", "error"))] == [
        (p, r) for _, _, p, r in expected
    ]
    pdf = tmp_path / "draft.pdf"
    winansi = [line.replace(" 🙂", "") for line in lines]  # the minimal PDF writes WinAnsi text only
    pages = (tuple(winansi[:20]), tuple(winansi[20:]))
    pdf.write_bytes(pdf_document(pages, title="Draft"))
    found = _found(cli("lint", str(pdf), "--json", "--fail-on", "error"))
    assert [(p, r) for _, _, p, r in found] == [(p, r) for _, _, p, r in expected]
    corpus = write_corpus(tmp_path / "corpus")
    for key in ("docx", "pdf"):
        clean = cli("lint", str(corpus[key]), "--fail-on", "warning")
        assert clean.code == 0 and clean.out.startswith("0 finding(s)"), (key, clean.out)


@pytest.mark.parametrize(("threshold", "code"), [("info", 1), ("warning", 1), ("error", 0)])
def test_the_exit_status_follows_the_threshold(cli: CLI, tmp_path: Path, threshold: str, code: int) -> None:
    path = tmp_path / "warnings-only.txt"
    path.write_text("We ensure that all children are seen.\n", encoding="utf-8")  # two warnings, no error
    done = cli("lint", str(path), "--fail-on", threshold)
    assert done.code == code
    assert ("At least one finding is" in done.out) == bool(code)


class Prediction(PhraseRule):
    """A throwaway third-party rule."""

    name = "prediction"
    description = "Claims about the future."
    severity = "error"
    message = "'{phrase}' predicts the future."
    phrases = (Phrase("will certainly", "Say what is planned, not what will happen."),)


@pytest.fixture
def prediction_plugin(monkeypatch: pytest.MonkeyPatch) -> Any:
    plugin = types.ModuleType("prediction_rules")

    @hookimpl
    def register_language_rules(register: Any) -> None:
        register(Prediction())

    plugin.register_language_rules = register_language_rules  # type: ignore[attr-defined]
    pm = pluginmanager.plugin_manager()
    monkeypatch.setattr(pluginmanager, "_CACHE", {})
    pm.register(plugin, name="prediction_rules")
    try:
        yield plugin
    finally:
        pm.unregister(name="prediction_rules")


def test_third_party_rules_run_too(cli: CLI, tmp_path: Path, prediction_plugin: Any) -> None:
    path = tmp_path / "plan.txt"
    path.write_text("Practice\nwill certainly improve.\n", encoding="utf-8")
    done = cli("lint", str(path), "--json")
    assert done.code == 1
    assert _found(done) == [(2, 1, "will certainly", "prediction")]


def test_the_draft_report_is_linted_where_the_markdown_writer_puts_it(team: CLI) -> None:
    populate(team.url)
    from ledger import judgment
    from ledger.inspection import load
    from plugins.frameworks import load_framework

    ledger = Ledger(team.url)
    try:
        judgment.finalise(ledger, "alice", load(ledger, "barnet-2017"), load_framework("sif-2013"), "leadership",
                          "good", "Leaders ensure that children are kept safe.")
    finally:
        ledger.close()
    markdown = team("report", "draft", "--format", "markdown").out.splitlines()
    done = team("lint", "--report", "--json")
    assert done.code == 1
    data: Any = msgspec.json.decode(done.out)
    assert data["file"] == "draft report (Markdown)"
    found = [(f["rule"], f["phrase"]) for f in data["findings"]]
    assert ("ensure", "ensure") in found and ("safety-guarantee", "kept safe") in found
    for finding in data["findings"]:
        line = markdown[finding["line"] - 1]
        assert line[finding["column"] - 1:].startswith(finding["phrase"])


def test_unreadable_input_is_one_line_and_changes_nothing(team: CLI, tmp_path: Path) -> None:
    before = team.count()
    binary = tmp_path / "notes.txt"
    binary.write_bytes(b"\xff\xfe\x00broken")
    folder = tmp_path / "folder"
    folder.mkdir()
    for args, message in (
        ((str(tmp_path / "missing.txt"),), "does not exist or is not a regular file"),
        ((str(folder),), "is a folder"),
        ((str(binary),), "is not UTF-8 text"),
        ((str(tmp_path / "notes.xyz"),), "does not exist"),
        ((), "Give either a FILE to lint or --report"),
        ((str(binary), "--report"), "Give either a FILE to lint or --report"),
    ):
        done = team("lint", *args)
        assert message in done.one_line_error(), args
        assert done.code == 2
    assert team.count() == before
