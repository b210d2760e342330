"""``evidence framework list|show|check``: the frameworks, and their rules over published outcomes and a ledger."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.application import Ledger

if TYPE_CHECKING:
    from conftest import CLI

SIF_CSV = Path(__file__).parent / "data" / "sif_outcomes_2013_2018.csv"


def test_list_shows_both_builtin_frameworks(cli: CLI) -> None:
    listed = cli("framework", "list", "--json").json()
    assert {(f["name"], f["supplier"]) for f in listed} >= {
        ("sif-2013", "plugins.frameworks"), ("ilacs-2018", "plugins.frameworks")
    }
    text = cli("framework", "list")
    assert text.code == 0 and "sif-2013" in text.out


def test_show_gives_areas_grades_meanings_and_rules(cli: CLI) -> None:
    shown = cli("framework", "show", "sif-2013", "--json").json()
    assert [a["id"] for a in shown["areas"]][:2] == ["overall", "help-protection"]
    assert shown["grades"] == ["outstanding", "good", "requires-improvement", "inadequate"]
    assert {r["name"]: r["severity"] for r in shown["rules"]}["key-inadequate-forces-overall"] == "error"
    text = cli("framework", "show", "sif-2013").out
    assert "hard rule" in text and "observed norm" in text and "harmed or at risk" in text


def test_show_unknown_framework_is_one_line(cli: CLI) -> None:
    line = cli("framework", "show", "ofsted-1066").one_line_error()
    assert "ofsted-1066" in line and "sif-2013" in line


def test_all_167_published_sif_reports_break_no_hard_rule(cli: CLI) -> None:
    done = cli("framework", "check", "--csv", str(SIF_CSV), "--json")
    assert done.code == 0, done.err
    data = done.json()
    assert data["summary"] == {
        "framework": "sif-2013", "rows": 167, "rows_with_errors": 0, "rows_with_warnings": 0, "errors": 0,
        "warnings": 0,
    }
    assert data["rows"][1]["label"] == "barnet (2017-07-07)"
    assert data["rows"][1]["grades"]["overall"] == "inadequate"
    text = cli("framework", "check", "--csv", str(SIF_CSV))
    assert text.code == 0
    assert text.out.splitlines()[-1] == (
        "167 row(s) checked against sif-2013: 0 hard-rule violation(s) in 0 row(s), 0 norm warning(s) in 0 row(s)."
    )
    assert len(text.out.splitlines()) == 168


def test_a_hard_rule_violation_prints_the_row_and_exits_1(cli: CLI, tmp_path: Path) -> None:
    table = tmp_path / "outcomes.csv"
    table.write_text(
        "label,overall,help_protection,looked_after,leadership\n"
        "fine,Good,Good,Good,Good\n"
        "broken,Good,Inadequate,Good,Good\n"
        "norm,Good,Good,Good,Requires improvement\n",
        encoding="utf-8",
    )
    done = cli("framework", "check", "--csv", str(table), "--quiet")
    assert done.code == 1
    lines = done.out.splitlines()
    assert not any(line.startswith("fine:") for line in lines)
    assert "  error: [key-inadequate-forces-overall] Overall is good but help-protection is inadequate;" in done.out
    assert "  warning: [overall-not-better-than-leadership]" in done.out
    assert lines[-1].startswith("3 row(s) checked against sif-2013: 1 hard-rule violation(s) in 1 row(s)")
    data = cli("framework", "check", "--csv", str(table), "--json")
    assert data.code == 1


def test_only_norm_warnings_exit_0(cli: CLI, tmp_path: Path) -> None:
    table = tmp_path / "outcomes.csv"
    table.write_text("la,overall,leadership\nsomewhere,Good,Requires improvement\n", encoding="utf-8")
    done = cli("framework", "check", "--csv", str(table), "--json")
    assert done.code == 0
    assert done.json()["summary"]["warnings"] == 1


def test_a_csv_with_an_unknown_column_or_missing_file_is_one_line(cli: CLI, tmp_path: Path) -> None:
    table = tmp_path / "outcomes.csv"
    table.write_text("la,overall,finance\nx,Good,Good\n", encoding="utf-8")
    assert "finance" in cli("framework", "check", "--csv", str(table)).one_line_error()
    assert "Cannot read" in cli("framework", "check", "--csv", str(tmp_path / "absent.csv")).one_line_error()


def test_check_reads_the_inspections_judgments_from_the_ledger(team: CLI) -> None:
    from test_judgments import codings_for

    cited = codings_for(team.url)
    assert "No grade has been proposed" in team("framework", "check").one_line_error()
    for area, grade in (("help-protection", "inadequate"), ("overall", "good"), ("leadership", "good")):
        done = team("--as", "bob", "judge", "propose", area, grade, "--because", "the evidence", "--cite", cited[0])
        assert done.code == 0, done.err
    ledger = Ledger(team.url)
    try:
        before = ledger.last_position()
    finally:
        ledger.close()
    done = team("framework", "check", "--json")
    assert done.code == 1
    row = json.loads(done.out)["rows"][0]
    assert row["label"] == "barnet-2017"
    assert row["grades"] == {"overall": "good", "help-protection": "inadequate", "leadership": "good"}
    assert [f["rule"] for f in row["findings"]] == ["key-inadequate-forces-overall", "overall-within-one-of-worst-key"]
    assert team.count() == before
