"""Grade calibration: vignette files, rating rounds, the report, and refusals that leave the ledger unchanged.

The report's ordinal alpha is checked against the ``krippendorff`` package called directly on the ranks, and
leniency and the confusion of grades against figures worked out by hand in the comments.
"""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING, Any

import krippendorff
import pytest

from ledger.application import Ledger
from ledger.calibration import Vignette, create, parse_grade, rate, read_vignettes
from ledger.errors import AlreadyExists, BadInput, NotFound, PermissionDenied
from ledger.events import Role
from ledger.inspection import add_member, load, open_inspection

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from conftest import CLI, Result

GRADES = ("outstanding", "good", "requires-improvement", "inadequate")
EXPECTED = (
    Vignette(id="v1", title="Front door delays", text="Contacts wait five days for a decision;\nmanagers know."),
    Vignette(id="v2", title="Strong permanence", text="Children achieve permanence quickly — “plans” reviewed."),
    Vignette(id="v3", title="v3", text="Care leavers have pathway plans; few are in suitable accommodation."),
)
CSV = (
    "id,title,text\r\n"
    'v1,Front door delays,"Contacts wait five days for a decision;\nmanagers know."\r\n'
    "v2,Strong permanence,Children achieve permanence quickly — “plans” reviewed.\r\n"
    "v3,,Care leavers have pathway plans; few are in suitable accommodation.\r\n"
)
JSONL = (
    '{"id": "v1", "title": "Front door delays", "text": "Contacts wait five days for a decision;\\nmanagers know."}\n'
    '{"id": "v2", "title": "Strong permanence", "text": "Children achieve permanence quickly — “plans” reviewed."}\n'
    "\n"
    '{"id": "v3", "text": "Care leavers have pathway plans; few are in suitable accommodation."}\n'
)
MARKDOWN = (
    "# Calibration vignettes\n\nRead each and grade it.\n\n"
    "## v1: Front door delays\n\nContacts wait five days for a decision;\nmanagers know.\n\n"
    "## v2: Strong permanence\nChildren achieve permanence quickly — “plans” reviewed.\n"
    "## v3\n\nCare leavers have pathway plans; few are in suitable accommodation.\n"
)
HEAVY = ("sqlalchemy", "rich", "plugins", "projections")


def ok(result: Result) -> Result:
    assert result.code == 0, result.err
    return result


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# --- vignette files ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "text"), [("v.csv", CSV), ("v.jsonl", JSONL), ("v.md", MARKDOWN),
                                            ("v.markdown", MARKDOWN.replace("\n", "\r\n")), ("v.ndjson", JSONL)])
def test_every_format_reads_the_same_vignettes(tmp_path: Path, name: str, text: str) -> None:
    found = read_vignettes(_write(tmp_path / name, text))
    assert [(v.id, v.title, v.text.replace("\r\n", "\n")) for v in found] == [
        (v.id, v.title, v.text) for v in EXPECTED
    ]


def test_a_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    assert read_vignettes(_write(tmp_path / "v.csv", CSV, "utf-8-sig")) == EXPECTED


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("v.csv", "id,text\r\n", "holds no vignettes"),
        ("v.csv", "id,body\r\nv1,x\r\n", "'body' is not one of them"),
        ("v.csv", "title,text\r\nA,x\r\n", "must name the columns"),
        ("v.csv", "id,text\r\nv1,x,extra\r\n", "line 2: the row has more cells"),
        ("v.csv", "id,text\r\nv 1,x\r\n", "'v 1' is not a vignette id"),
        ("v.csv", "id,text\r\nv1,x\r\nV1,y\r\n", "line 3: vignette id 'V1' is used twice"),
        ("v.csv", "id,text\r\nv1,  \r\n", "vignette v1 has no text"),
        ("v.jsonl", '{"id": "v1", "text": "x"}\n[1]\n', "line 2: not a JSON object"),
        ("v.jsonl", '{"id": "v1", "text": "x", "grade": "good"}\n', "'grade' is not a field"),
        ("v.jsonl", '{"id": 7, "text": "x"}\n', "must be text"),
        ("v.jsonl", '{"id": "v1", "text": "x"\n', "not a JSON object"),
        ("v.md", "# Only a title\n\nNo vignette headings here.\n", "holds no vignettes"),
        ("v.txt", "v1 x\n", "give vignettes as a .csv, .jsonl or .md file"),
    ],
)
def test_bad_vignette_files_are_refused_in_one_sentence(tmp_path: Path, name: str, text: str, expected: str) -> None:
    with pytest.raises(BadInput, match=expected) as caught:
        read_vignettes(_write(tmp_path / name, text))
    assert "\n" not in str(caught.value)


def test_non_utf8_and_missing_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="not UTF-8"):
        read_vignettes(_write(tmp_path / "v.csv", "id,text\r\nv1,café\r\n", "latin-1"))
    with pytest.raises(BadInput, match="cannot be read"):
        read_vignettes(tmp_path / "absent.csv")


@pytest.mark.parametrize(
    ("typed", "grade"),
    [("good", "good"), ("GOOD", "good"), ("Requires improvement", "requires-improvement"),
     ("requires improvement to be good", "requires-improvement"), ("1", "outstanding"), ("4", "inadequate"),
     (" inadequate ", "inadequate")],
)
def test_grades_are_read_as_people_type_them(typed: str, grade: str) -> None:
    assert parse_grade(typed) == grade


@pytest.mark.parametrize("typed", ["excellent", "5", "not-judged", "0", ""])
def test_grades_off_the_scale_are_refused(typed: str) -> None:
    with pytest.raises(BadInput, match="not a grade on the scale"):
        parse_grade(typed)


# --- the command line --------------------------------------------------------------------------------


@pytest.fixture
def exercise(team: CLI, tmp_path: Path) -> CLI:
    """The team (alice lead, bob inspector, carol panel) plus dave, inspector; the exercise made from Markdown."""
    ok(team("member", "add", "dave", "--role", "inspector"))
    ok(team("member", "add", "erin", "--role", "auditor"))
    created = ok(team("calibration", "create", "--vignettes", str(_write(tmp_path / "v.md", MARKDOWN))))
    assert "with 3 vignette(s): v1, v2, v3" in created.out
    return team


def _state(cli: CLI) -> tuple[int, int]:
    ledger = Ledger(cli.url)
    try:
        return ledger.last_position(), ledger.verify()
    finally:
        ledger.close()


def refused(cli: CLI, *args: str) -> str:
    before = _state(cli)
    line = cli(*args).one_line_error()
    assert _state(cli) == before
    return line


#: (rater, vignette, grade, round) — ranks: outstanding 0, good 1, requires-improvement 2, inadequate 3.
RATINGS = (
    ("alice", "v1", "requires-improvement", 1), ("bob", "v1", "requires-improvement", 1),
    ("dave", "v1", "inadequate", 1),
    ("alice", "v2", "outstanding", 1), ("bob", "v2", "good", 1), ("dave", "v2", "good", 1),
    ("alice", "v3", "requires-improvement", 1), ("bob", "v3", "good", 1),
    ("alice", "v1", "requires-improvement", 2), ("bob", "v1", "requires-improvement", 2),
    ("dave", "v1", "requires-improvement", 2),
    ("alice", "v2", "good", 2), ("bob", "v2", "good", 2), ("dave", "v2", "good", 2),
)


def _rate_all(cli: CLI) -> None:
    for rater, vignette, grade, number in RATINGS:
        ok(cli("--as", rater, "calibration", "rate", vignette, grade, "--round", str(number)))


def test_the_report_measures_ordinal_agreement(exercise: CLI) -> None:
    _rate_all(exercise)
    data: Any = ok(exercise("calibration", "report", "--json")).json()
    units = sorted({(n, v) for _, v, _, n in RATINGS})
    raters = ["alice", "bob", "dave"]
    grid = {(r, n, v): GRADES.index(g) for r, v, g, n in RATINGS}

    def alpha(keep: list[tuple[int, str]]) -> float:
        matrix = [[grid.get((r, n, v), float("nan")) for n, v in keep] for r in raters]
        return float(krippendorff.alpha(reliability_data=matrix, level_of_measurement="ordinal",
                                        value_domain=[0, 1, 2, 3]))

    assert data["coefficient"].startswith("Krippendorff's alpha, ordinal")
    assert data["ratings"] == len(RATINGS) and data["raters"] == raters
    assert data["alpha"] == pytest.approx(alpha(units))
    first = alpha([u for u in units if u[0] == 1])
    assert [r["round"] for r in data["rounds"]] == [1, 2]
    assert data["rounds"][0]["alpha"] == pytest.approx(first)
    assert data["rounds"][1]["alpha"] == pytest.approx(1.0)  # everyone agreed in round 2
    assert data["trend"] == "rising" and data["alpha_change"] == pytest.approx(1.0 - first)
    # Leniency = mean of (median of the others' ranks - own rank). alice: +.5 +1 -1 0 0 over 5 units;
    # bob: +.5 -.5 +1 0 0 over 5; dave: -1 -.5 0 0 over 4.
    leniency = {row["rater"]: (row["leniency"], row["compared"]) for row in data["leniency"]}
    assert leniency["alice"] == (pytest.approx(0.1), 5)
    assert leniency["bob"] == (pytest.approx(0.2), 5)
    assert leniency["dave"] == (pytest.approx(-0.375), 4)
    pair = next(c for c in data["confusion"] if (c["rater_a"], c["rater_b"]) == ("alice", "bob"))
    expected = [[0] * 4 for _ in range(4)]
    for i, j in ((2, 2), (0, 1), (2, 1), (2, 2), (1, 1)):
        expected[i][j] += 1
    assert pair["counts"] == expected and pair["compared"] == 5 and pair["exact_agreement"] == pytest.approx(0.6)


def test_the_text_report_names_the_coefficient_trend_leniency_and_confusion(exercise: CLI) -> None:
    _rate_all(exercise)
    out = ok(exercise("calibration", "report")).out
    assert "Krippendorff's alpha, ordinal" in out
    assert "round 2: α 1.000 (reliable)" in out
    assert "trend: rising" in out
    assert "dave" in out and "-0.38 over 4 vignette(s)" in out
    assert "alice × bob: exact agreement 0.60 over 5 vignette(s)" in out
    assert "1 outstanding, 2 good, 3 requires-improvement, 4 inadequate" in out


def test_a_report_without_two_raters_says_so(exercise: CLI) -> None:
    ok(exercise("calibration", "rate", "v1", "good"))
    assert "not measurable yet" in ok(exercise("calibration", "report")).out
    data: Any = ok(exercise("calibration", "report", "--json")).json()
    assert data["alpha"] is None and data["rounds"][0]["alpha"] is None


def test_rating_defaults_to_the_latest_round(exercise: CLI) -> None:
    assert "in round 1" in ok(exercise("calibration", "rate", "v1", "Requires improvement")).out
    assert "bob graded vignette v2 good in round 2" in ok(
        exercise("--as", "bob", "calibration", "rate", "V2", "2", "--round", "2")).out
    assert "in round 2" in ok(exercise("calibration", "rate", "v1", "good")).out
    assert "carol graded vignette v3 inadequate in round 2" in ok(
        exercise("--as", "carol", "calibration", "rate", "v3", "4")).out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("rate", "v1", "excellent"), "'excellent' is not a grade on the scale"),
        (("rate", "v1", "not-judged"), "calibration grades every vignette"),
        (("rate", "v9", "good"), "No vignette 'v9'"),
        (("rate", "v1", "good", "--round", "3"), "use --round between 1 and 2"),
        (("rate", "v1", "good", "--round", "0"), "Round 0 cannot be rated"),
    ],
)
def test_bad_ratings_are_refused(exercise: CLI, args: tuple[str, ...], expected: str) -> None:
    ok(exercise("calibration", "rate", "v2", "good"))
    assert expected in refused(exercise, "calibration", *args)


def test_rating_a_vignette_twice_in_a_round_is_refused(exercise: CLI) -> None:
    ok(exercise("calibration", "rate", "v1", "good"))
    line = refused(exercise, "calibration", "rate", "v1", "inadequate")
    assert "graded vignette v1 good in round 1 already" in line and "--round 2" in line
    ok(exercise("calibration", "rate", "v1", "inadequate", "--round", "2"))


def test_who_may_create_and_rate(exercise: CLI, tmp_path: Path) -> None:
    assert "auditor" in refused(exercise, "--as", "erin", "calibration", "rate", "v1", "good")
    assert "not a member" in refused(exercise, "--as", "zed", "calibration", "rate", "v1", "good")
    ok(exercise("--as", "carol", "calibration", "rate", "v1", "good"))
    path = str(_write(tmp_path / "other.csv", CSV))
    assert "has its calibration exercise already" in refused(exercise, "calibration", "create", "--vignettes", path)
    ok(exercise("inspection", "open", "other-2018", "--authority", "Other"))
    ok(exercise("member", "add", "bob", "--role", "inspector"))
    assert "'calibration.create' needs" in refused(exercise, "--as", "bob", "calibration", "create", "--vignettes",
                                                     path)


def test_bad_files_and_missing_exercise_leave_the_ledger_unchanged(team: CLI, tmp_path: Path) -> None:
    assert "no calibration exercise yet" in refused(team, "calibration", "rate", "v1", "good")
    assert "no calibration exercise yet" in refused(team, "calibration", "report")
    bad = str(_write(tmp_path / "bad.csv", "id,text\r\nv1,x\r\nv1,y\r\n"))
    assert "used twice" in refused(team, "calibration", "create", "--vignettes", bad)


def test_show_prints_the_vignettes_to_grade(exercise: CLI) -> None:
    shown: Any = ok(exercise("calibration", "show", "--json")).json()
    assert [(v["id"], v["title"], v["text"]) for v in shown] == [(v.id, v.title, v.text) for v in EXPECTED]
    assert "## v2: Strong permanence" in ok(exercise("calibration", "show", "v2")).out
    assert "No vignette 'v7'" in exercise("calibration", "show", "v7").one_line_error()


def test_the_report_is_the_same_after_a_rebuild(exercise: CLI) -> None:
    _rate_all(exercise)
    before = ok(exercise("calibration", "report", "--json")).out
    ok(exercise("projections", "rebuild"))
    assert ok(exercise("calibration", "report", "--json")).out == before


def test_rating_does_not_import_the_read_side(exercise: CLI) -> None:
    script = (
        "import sys\nfrom cli.main import main\n"
        "main(['calibration', 'rate', 'v1', 'good'])\n"
        f"print('HEAVY', sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=exercise.cwd, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "alice graded vignette v1 good in round 1" in done.stdout
    assert "HEAVY []" in done.stdout


# --- the ledger and the read side, on both backends -----------------------------------------------


@pytest.fixture
def rated(ledger: Ledger) -> Iterator[Ledger]:
    from projections.engine import engine_for

    open_inspection(ledger, "alice", "barnet-2017", authority="Barnet", framework="sif-2013")
    for person in ("bob", "dave"):
        add_member(ledger, "alice", "barnet-2017", person, Role.INSPECTOR)
    create(ledger, "alice", load(ledger, "barnet-2017"), EXPECTED)
    for rater, vignette, grade, number in RATINGS:
        rate(ledger, rater, load(ledger, "barnet-2017"), vignette, grade, number)
    yield ledger
    engine_for(ledger.url).dispose()


def test_ratings_reach_the_read_side_in_ledger_order(rated: Ledger) -> None:
    from projections import ready
    from projections.rounds import calibration_of, rating_list, vignette_list

    inspection = load(rated, "barnet-2017")
    with ready(rated).connect() as conn:
        exercise = calibration_of(conn, inspection.id)
        assert exercise is not None and exercise["created_by"] == "alice"
        assert rating_list(conn, exercise["id"]) == list(RATINGS)
        assert [v["id"] for v in vignette_list(conn, exercise["id"])] == ["v1", "v2", "v3"]


def test_commands_refuse_what_they_cannot_record(rated: Ledger) -> None:
    inspection = load(rated, "barnet-2017")
    before = rated.last_position()
    with pytest.raises(AlreadyExists, match="already"):
        rate(rated, "bob", inspection, "v1", "good", 2)
    with pytest.raises(NotFound, match="No vignette"):
        rate(rated, "bob", inspection, "v4", "good")
    with pytest.raises(BadInput, match="between 1 and 3"):
        rate(rated, "bob", inspection, "v3", "good", 4)
    with pytest.raises(AlreadyExists, match="already"):
        create(rated, "alice", inspection, EXPECTED)
    with pytest.raises(PermissionDenied):
        create(rated, "bob", inspection, EXPECTED)
    assert rated.last_position() == before
    assert rate(rated, "bob", inspection, "v3", "good", 3).round == 3
