"""``evidence codebook|code``: codebooks, the code tree, and coding passages by span, quote and in batches.

Every refused command must print one line on stderr, exit non-zero and leave the ledger exactly as it was.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from typing import TYPE_CHECKING

import pytest

from ledger.application import Ledger
from ledger.coding import Coding

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import CLI

#: A note with CRLF line ends, accents, an emoji, and a phrase that occurs twice.
TEXT = (
    "Visit 12/01: Zoë seen alone in her bedroom.\r\n"
    "She said she felt listened to 😊 at the café meeting.\r\n"
    "The plan was reviewed. The plan was not updated after the visit.\r\n"
)
HEAVY = ("sqlalchemy", "rich", "plugins", "projections")


@pytest.fixture
def coded(team: CLI) -> tuple[CLI, str]:
    """The team's inspection with the SIF codebook brought in and one note registered; returns its short id."""
    assert team("codebook", "use", "sif-2013").code == 0
    added = team("note", TEXT, "--kind", "case-record")
    assert added.code == 0, added.err
    return team, added.out.split()[0]


def _ledger_state(cli: CLI) -> tuple[int, int]:
    ledger = Ledger(cli.url)
    try:
        return ledger.last_position(), ledger.verify()
    finally:
        ledger.close()


def _coding(cli: CLI, coding_id: str) -> Coding:
    ledger = Ledger(cli.url)
    try:
        return ledger.get(Coding, uuid.UUID(coding_id))
    finally:
        ledger.close()


# --- codebooks ---------------------------------------------------------------------------------------


def test_codebook_list_shows_the_built_in_codebooks(cli: CLI) -> None:
    rows = {row["name"]: row for row in cli("codebook", "list", "--json").json()}  # type: ignore[union-attr]
    assert {"sif-2013", "ilacs-2018"} <= set(rows)
    assert rows["sif-2013"]["framework"] == "sif-2013"
    assert rows["sif-2013"]["codes"] > 20
    text = cli("codebook", "list").out
    assert "sif-2013" in text and "codes" in text


def test_codebook_show_lists_the_codes(cli: CLI) -> None:
    book = cli("codebook", "show", "sif-2013", "--json").json()
    ids = [code["id"] for code in book["codes"]]  # type: ignore[index]
    assert "help-protection" in ids and "help-protection/early-help" in ids
    assert "  help-protection/early-help" in cli("codebook", "show", "sif-2013").out


def test_codebook_use_brings_in_the_codes_once(team: CLI) -> None:
    result = team("codebook", "use", "sif-2013")
    assert result.code == 0 and "Brought" in result.out
    tree = team("code", "tree", "--json").json()
    assert {"help-protection", "leadership"} <= {row["id"] for row in tree}  # type: ignore[union-attr]
    before = _ledger_state(team)
    assert "in use" in team("codebook", "use", "sif-2013").one_line_error()
    assert _ledger_state(team) == before


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("codebook", "use", "nope-2099"), "No codebook is named 'nope-2099'"),
        (("--as", "bob", "codebook", "use", "sif-2013"), "needs the role lead-inspector"),
    ],
)
def test_codebook_use_refusals_change_nothing(team: CLI, args: tuple[str, ...], needle: str) -> None:
    before = _ledger_state(team)
    assert needle in team(*args).one_line_error()
    assert _ledger_state(team) == before


# --- the code tree -----------------------------------------------------------------------------------


def test_define_rename_move_merge_retire_show_in_the_tree(coded: tuple[CLI, str]) -> None:
    cli, _ = coded
    steps = [
        ("code", "define", "Drift in plans", "--parent", "help-protection", "--facet", "practice",
         "--description", "Plans not updated after events", "--because", "seen in three cases"),
        ("code", "define", "Plan drift", "--parent", "help-protection", "--because", "duplicate"),
        ("code", "define", "Sibling contact", "--because", "emergent theme"),
        ("code", "rename", "help-protection/drift-in-plans", "Drift in child protection plans", "--because", "clearer"),
        ("code", "move", "sibling-contact", "--parent", "looked-after", "--because", "belongs with care"),
        ("code", "merge", "help-protection/plan-drift", "--into", "help-protection/drift-in-plans", "--because", "same"),
        ("code", "retire", "help-protection/early-help", "--because", "out of scope"),
    ]
    for args in steps:
        result = cli(*args)
        assert result.code == 0, (args, result.err)
    rows = {row["id"]: row for row in cli("code", "tree", "--json").json()}  # type: ignore[union-attr]
    drift = rows["help-protection/drift-in-plans"]
    assert drift["label"] == "Drift in child protection plans"
    assert drift["facet"] == "practice" and drift["origin"] == "emergent" and drift["status"] == "active"
    assert rows["help-protection/plan-drift"]["status"] == "merged into help-protection/drift-in-plans"
    assert rows["help-protection/early-help"]["status"] == "retired"
    assert rows["sibling-contact"]["parent"] == "looked-after"
    assert rows["sibling-contact"]["depth"] == 1
    text = cli("code", "tree").out
    assert "  help-protection/drift-in-plans  Drift in child protection plans [practice]" in text
    assert "(retired)" in text
    moved = cli("code", "move", "sibling-contact", "--top", "--because", "its own area")
    assert moved.code == 0
    rows = {row["id"]: row for row in cli("code", "tree", "--json").json()}  # type: ignore[union-attr]
    assert rows["sibling-contact"]["parent"] is None and rows["sibling-contact"]["depth"] == 0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("code", "define", "Drift", "--parent", "no-such-code", "--because", "x"), "No code 'no-such-code'"),
        (("code", "define", "Early help", "--parent", "help-protection", "--because", "x"), "exists already"),
        (("code", "define", "Drift", "--because", " "), "Say why"),
        (("code", "rename", "no-such-code", "New", "--because", "x"), "No code 'no-such-code'"),
        (("code", "move", "help-protection", "--parent", "help-protection/early-help", "--because", "x"),
         "cannot move under itself"),
        (("code", "merge", "help-protection", "--into", "help-protection", "--because", "x"), "different code"),
        (("code", "retire", "nothing-here", "--because", "x"), "No code 'nothing-here'"),
        (("--as", "carol", "code", "define", "Drift", "--because", "x"), "needs the role"),
    ],
)
def test_code_tree_refusals_change_nothing(coded: tuple[CLI, str], args: tuple[str, ...], needle: str) -> None:
    cli, _ = coded
    before = _ledger_state(cli)
    assert needle in cli(*args).one_line_error()
    assert _ledger_state(cli) == before


def test_move_needs_exactly_one_destination(coded: tuple[CLI, str]) -> None:
    cli, _ = coded
    before = _ledger_state(cli)
    result = cli("code", "move", "help-protection", "--because", "x")
    assert result.code != 0 and "--parent CODE or --top" in result.err
    assert _ledger_state(cli) == before


# --- applying codes ----------------------------------------------------------------------------------


def test_apply_by_span_prints_the_id_and_the_exact_quote(coded: tuple[CLI, str]) -> None:
    cli, source = coded
    start = TEXT.index("Zoë seen alone")
    end = start + len("Zoë seen alone")
    before, _ = _ledger_state(cli)
    result = cli("code", "apply", source, "help-protection/child-seen-wishes-feelings", "--span", f"{start}:{end}",
                 "--valence", "strength", "--band", "good", "--note", "seen alone")
    assert result.code == 0, result.err
    short_id = result.out.split()[0]
    assert "“Zoë seen alone”" in result.out
    assert _ledger_state(cli)[0] == before + 1
    ledger = Ledger(cli.url)
    try:
        coding = ledger.get(Coding, ledger.resolve(short_id, ["Coding.SegmentCoded"], "coding"))
    finally:
        ledger.close()
    assert (coding.start, coding.end, coding.band, coding.coder) == (start, end, "good", "alice")


@pytest.mark.parametrize(
    ("quote", "occurrence"),
    [
        ("felt listened to 😊 at the café", None),
        ("bedroom.\r\nShe said", None),
        ("The plan was", 2),
    ],
)
def test_apply_by_quote_finds_the_exact_passage(coded: tuple[CLI, str], quote: str, occurrence: int | None) -> None:
    cli, source = coded
    args = ["code", "apply", source, "help-protection/cp-conferences-and-plans", "--quote", quote,
            "--valence", "weakness", "--json"]
    if occurrence:
        args += ["--occurrence", str(occurrence)]
    data = cli(*args).json()
    expected = [i for i in range(len(TEXT)) if TEXT.startswith(quote, i)][(occurrence or 1) - 1]
    assert (data["start"], data["end"]) == (expected, expected + len(quote))  # type: ignore[index]
    assert data["quote"] == quote == TEXT[data["start"]:data["end"]]  # type: ignore[index]
    assert _coding(cli, data["id"]).valence == "weakness"  # type: ignore[index]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("no-such-code", "--span", "0:5"), "No code 'no-such-code'"),
        (("help-protection", "--span", "0:9999"), "outside the source"),
        (("help-protection", "--span", "40:10"), "outside the source"),
        (("help-protection", "--quote", "nowhere in the text"), "is not in the source"),
        (("help-protection", "--quote", "ZOË SEEN"), "near matches"),
        (("help-protection", "--quote", "The plan was"), "occurs 2 times"),
        (("help-protection", "--quote", "The plan was", "--occurrence", "3"), "out of range"),
        (("help-protection", "--quote", "Zoë", "--span", "0:3"), "not both"),
        (("help-protection",), "--span START:END or --quote TEXT"),
        (("help-protection", "--span", "0:5", "--band", "brilliant"), "not a grade band"),
    ],
)
def test_apply_refusals_change_nothing(coded: tuple[CLI, str], args: tuple[str, ...], needle: str) -> None:
    cli, source = coded
    before = _ledger_state(cli)
    error = cli("code", "apply", source, *args, "--valence", "neutral").one_line_error()
    assert needle in error
    assert _ledger_state(cli) == before


def test_ambiguous_quote_lists_the_candidates_with_context(coded: tuple[CLI, str]) -> None:
    cli, source = coded
    error = cli("code", "apply", source, "help-protection", "--quote", "The plan was",
                "--valence", "neutral").one_line_error()
    first = TEXT.index("The plan was")
    second = TEXT.index("The plan was", first + 1)
    assert f"#1 at {first}:{first + 12}" in error and f"#2 at {second}:{second + 12}" in error
    assert "[The plan was] reviewed" in error and "[The plan was] not updated" in error


@pytest.mark.parametrize(
    ("source", "needle"),
    [("0000", "No source has an id starting with 0000"), ("zz", "is not a source id")],
)
def test_apply_to_an_unknown_source_is_refused(coded: tuple[CLI, str], source: str, needle: str) -> None:
    cli, _ = coded
    before = _ledger_state(cli)
    assert needle in cli("code", "apply", source, "help-protection", "--span", "0:4",
                         "--valence", "neutral").one_line_error()
    assert _ledger_state(cli) == before


def test_retired_code_and_panel_member_are_refused(coded: tuple[CLI, str]) -> None:
    cli, source = coded
    assert cli("code", "retire", "help-protection/early-help", "--because", "unused").code == 0
    before = _ledger_state(cli)
    assert "retired" in cli("code", "apply", source, "help-protection/early-help", "--span", "0:4",
                            "--valence", "neutral").one_line_error()
    denied = cli("--as", "carol", "code", "apply", source, "help-protection", "--span", "0:4", "--valence", "neutral")
    assert denied.code == 3 and "needs the role" in denied.one_line_error()
    assert _ledger_state(cli) == before


def test_bad_span_syntax_is_an_option_error(coded: tuple[CLI, str]) -> None:
    cli, source = coded
    before = _ledger_state(cli)
    result = cli("code", "apply", source, "help-protection", "--span", "ten:twenty", "--valence", "neutral")
    assert result.code == 2 and "is not a span" in result.err and "Traceback" not in result.err
    assert _ledger_state(cli) == before


def test_withdraw_a_coding(coded: tuple[CLI, str]) -> None:
    cli, source = coded
    made = cli("code", "apply", source, "help-protection", "--span", "0:5", "--valence", "neutral", "--json").json()
    coding_id = made["id"]  # type: ignore[index]
    before = _ledger_state(cli)
    assert cli("--as", "bob", "code", "withdraw", coding_id[:8], "--because", "mine?").code != 0
    assert _ledger_state(cli) == before
    done = cli("code", "withdraw", coding_id[:8], "--because", "coded the wrong passage")
    assert done.code == 0 and coding_id[:8] in done.out
    assert _coding(cli, coding_id).withdrawn
    again = _ledger_state(cli)
    assert "withdrawn already" in cli("code", "withdraw", coding_id[:8], "--because", "again").one_line_error()
    assert _ledger_state(cli) == again


def test_apply_loads_no_heavy_modules(coded: tuple[CLI, str]) -> None:
    """The append path must not import SQLAlchemy, rich, plugins or projections (checked in a fresh process)."""
    cli, source = coded
    args = ["code", "apply", source, "help-protection", "--quote", "Zoë seen alone", "--valence", "strength"]
    script = (
        "import sys\nfrom cli.main import main\n"
        f"main({args!r})\n"
        f"print('HEAVY', sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=cli.cwd, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "“Zoë seen alone”" in done.stdout
    assert "HEAVY []" in done.stdout


# --- batches -----------------------------------------------------------------------------------------


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


def test_batch_csv_codes_every_row_in_one_append(coded: tuple[CLI, str], tmp_path: Path) -> None:
    cli, source = coded
    start = TEXT.index("Zoë")
    rows = [
        "source,code,start,end,quote,occurrence,valence,band,note",
        f"{source},help-protection/child-seen-wishes-feelings,{start},{start + 3},,,strength,good,",
        f'{source},help-protection/cp-conferences-and-plans,,,The plan was,2,weakness,,"drift, again"',
        f'{source},help-protection,,,"bedroom.\r\nShe said",,neutral,,',
    ]
    before, _ = _ledger_state(cli)
    result = cli("code", "batch", str(_write(tmp_path / "codings.csv", "\r\n".join(rows) + "\r\n")))
    assert result.code == 0, result.err
    assert "Coded 3 passage(s)" in result.out
    assert _ledger_state(cli)[0] == before + 3


def test_batch_jsonl(coded: tuple[CLI, str], tmp_path: Path) -> None:
    cli, source = coded
    lines = [
        {"source": source, "code": "help-protection", "start": 0, "end": 5, "valence": "neutral"},
        {"source": source, "code": "leadership", "quote": "😊 at the café", "valence": "strength", "band": "good"},
    ]
    path = _write(tmp_path / "codings.jsonl", "\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n")
    before, _ = _ledger_state(cli)
    result = cli("code", "batch", str(path))
    assert result.code == 0 and "Coded 2 passage(s)" in result.out, result.err
    assert _ledger_state(cli)[0] == before + 2


@pytest.mark.parametrize(
    ("rows", "needle"),
    [
        (["{s},help-protection,0,5,strength", "{s},no-such-code,0,5,strength"], "line 3: No code 'no-such-code'"),
        (["{s},help-protection,0,5,strength", "{s},help-protection,0,99999,strength"], "line 3: The span 0:99999"),
        (["0000,help-protection,0,5,strength"], "line 2: No source has an id starting with 0000"),
        (["{s},help-protection,0,5,"], "line 2: the row has no valence"),
        (["{s},help-protection,zero,5,strength"], "line 2: start 'zero' is not a whole number"),
        (["{s},help-protection,0,,strength"], "line 2: give both start and end"),
        (["{s},help-protection,0,5,strength,extra"], "line 2: the row has more cells than the header"),
        (["{s},help-protection,0,5,bright"], "line 2: 'bright' is not a valence"),
    ],
)
def test_batch_reports_the_first_bad_row_and_appends_nothing(
    coded: tuple[CLI, str], tmp_path: Path, rows: list[str], needle: str
) -> None:
    cli, source = coded
    text = "\n".join(["source,code,start,end,valence", *(row.format(s=source) for row in rows)]) + "\n"
    before = _ledger_state(cli)
    error = cli("code", "batch", str(_write(tmp_path / "bad.csv", text))).one_line_error()
    assert needle in error and "Nothing was coded" in error
    assert _ledger_state(cli) == before


@pytest.mark.parametrize(
    ("name", "text", "needle"),
    [
        ("header.csv", "source,code,colour\n", "'colour' is not one of them"),
        ("empty.csv", "source,code,start,end,valence\n", "holds no codings"),
        ("broken.jsonl", '{"source": "x"\n', "line 1: not a JSON object"),
        ("list.jsonl", '{"source": "x"}\n[1, 2]\n', "line 2: not a JSON object"),
        ("fields.jsonl", '{"source": "x", "code": "y", "valence": "neutral", "colour": 1}\n', "colour is not a field"),
    ],
)
def test_batch_refuses_malformed_files(coded: tuple[CLI, str], tmp_path: Path, name: str, text: str,
                                       needle: str) -> None:
    cli, _ = coded
    before = _ledger_state(cli)
    assert needle in cli("code", "batch", str(_write(tmp_path / name, text))).one_line_error()
    assert _ledger_state(cli) == before


def test_batch_refuses_a_missing_or_binary_file(coded: tuple[CLI, str], tmp_path: Path) -> None:
    cli, _ = coded
    before = _ledger_state(cli)
    assert "cannot be read" in cli("code", "batch", str(tmp_path / "absent.csv")).one_line_error()
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x01source")
    assert "cannot be read as UTF-8" in cli("code", "batch", str(binary)).one_line_error()
    assert _ledger_state(cli) == before


def test_tree_with_counts_counts_current_codings(coded: tuple[CLI, str]) -> None:
    cli, source = coded
    for span in ("0:5", "6:12"):
        assert cli("code", "apply", source, "help-protection/early-help", "--span", span, "--valence", "neutral").code == 0
    withdrawn = cli("code", "apply", source, "help-protection/early-help", "--span", "13:20", "--valence", "neutral",
                    "--json").json()
    assert cli("code", "withdraw", withdrawn["id"][:8], "--because", "mistake").code == 0  # type: ignore[index]
    rows = {row["id"]: row for row in cli("code", "tree", "--with-counts", "--json").json()}  # type: ignore[union-attr]
    assert rows["help-protection/early-help"]["codings"] == 2
    assert rows["help-protection"]["codings"] == 0 and rows["help-protection"]["total"] == 2
    assert "help-protection/early-help" in cli("code", "tree", "--with-counts").out
