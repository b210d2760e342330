"""Acceptance: an inspection's evidence, end to end through the command line, on SQLite and on PostgreSQL.

The generated corpus (interview and observation notes, a case record with CRLF, accents and an emoji, a
performance CSV, a Word document and a PDF) is imported with ``evidence source add``, the SIF codebook is
brought in, passages are coded by span, by quote and in a batch, and ``evidence codings --json`` must give back
exactly the quoted text: each quote equal to the slice of the stored source text it points at.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from corpus import MARKERS, write_corpus

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import CLI

#: Source key -> the passages coded in it (accents, an emoji, and a passage running over a CRLF line end).
QUOTES: dict[str, tuple[str, ...]] = {
    "interview": (MARKERS["interview"],),
    "observation": (MARKERS["observation"],),
    "case_record": (MARKERS["case_record"], "café meeting with mum; naïve plan", "Coventry.\r\n19/01/2024"),
    "docx": (MARKERS["docx"],),
    "pdf": (MARKERS["pdf"],),
}


@pytest.fixture
def inspection(cli: CLI, backend: str, monkeypatch: pytest.MonkeyPatch) -> CLI:
    """A ledger at ``backend`` (through EVIDENCE_LEDGER_URL) with barnet-2017 open and bob on the team."""
    for args in (
        ("init", "--url", backend, "--user", "alice"),
        ("inspection", "open", "barnet-2017", "--authority", "London Borough of Barnet"),
        ("member", "add", "bob", "--role", "inspector"),
    ):
        result = cli(*args)
        assert result.code == 0, (args, result.err)
    monkeypatch.setenv("EVIDENCE_LEDGER_URL", backend)
    return cli


def _texts(cli: CLI) -> dict[str, str]:
    """Source id -> the exact stored text, as ``source show --json`` gives it."""
    rows = cli("source", "list", "--json").json()
    return {row["id"]: cli("source", "show", row["id"][:8], "--json").json()["text"]  # type: ignore[index]
            for row in rows}  # type: ignore[union-attr]


def test_import_code_and_read_back_exact_quotes(inspection: CLI, backend: str, tmp_path: Path) -> None:
    cli = inspection
    corpus = write_corpus(tmp_path / "corpus")
    files = [str(corpus[key]) for key in sorted(corpus)]

    before = cli.count(backend)
    added = cli("source", "add", *files, "--kind", "interview", "--json")
    rows = added.json()
    assert [row["added"] for row in rows] == [True] * len(files)  # type: ignore[union-attr,index]
    assert cli.count(backend) == before + len(files)
    by_file = {row["file"]: row["id"] for row in rows}  # type: ignore[union-attr,index]
    ids = {key: by_file[corpus[key].name] for key in corpus}

    again = cli("source", "add", *files, "--kind", "interview")
    assert again.code == 0 and again.out.count("— nothing added") == len(files)
    assert cli.count(backend) == before + len(files)

    texts = _texts(cli)
    case_record = texts[ids["case_record"]]
    assert "\r\n" in case_record and "Zoë" in case_record and "😊" in case_record
    assert cli("source", "show", ids["observation"][:8], "--json").json()["kind"] == "observation"  # type: ignore[index]

    assert cli("codebook", "use", "sif-2013").code == 0
    expected: dict[str, str] = {}
    for key, quotes in QUOTES.items():
        for quote in quotes:
            made = cli("code", "apply", ids[key][:8], "help-protection", "--quote", quote, "--valence", "strength",
                       "--json").json()
            assert made["quote"] == quote  # type: ignore[index]
            expected[made["id"]] = quote  # type: ignore[index]

    csv_text = texts[ids["performance_csv"]]
    start = csv_text.index("2023-03")
    end = csv_text.index("\n", start)
    by_span = cli("--as", "bob", "code", "apply", ids["performance_csv"][:8], "leadership", "--span",
                  f"{start}:{end}", "--valence", "weakness", "--band", "requires-improvement", "--json").json()
    expected[by_span["id"]] = csv_text[start:end]  # type: ignore[index]

    emoji = case_record.index("😊")
    batch = tmp_path / "batch.jsonl"
    lines = [
        {"source": ids["case_record"][:8], "code": "help-protection/child-seen-wishes-feelings",
         "start": emoji - 10, "end": emoji + 1, "valence": "strength"},
        {"source": ids["observation"][:8], "code": "help-protection/strategy-and-s47",
         "quote": "Information was shared promptly", "valence": "strength", "note": "all agencies"},
    ]
    batch.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n", encoding="utf-8")
    assert cli("--as", "bob", "code", "batch", str(batch)).code == 0

    codings = cli("codings", "--json").json()
    assert len(codings) == len(expected) + 2  # type: ignore[arg-type]
    for row in codings:  # type: ignore[union-attr]
        assert row["quote"] == texts[row["source"]][row["start"]:row["end"]]  # type: ignore[index]
        if row["id"] in expected:  # type: ignore[index]
            assert row["quote"] == expected[row["id"]]  # type: ignore[index]
    quotes = {row["quote"] for row in codings}  # type: ignore[union-attr,index]
    assert case_record[emoji - 10:emoji + 1] in quotes and "Information was shared promptly" in quotes
    assert {row["coder"] for row in codings} == {"alice", "bob"}  # type: ignore[union-attr,index]

    assert cli("verify").code == 0
