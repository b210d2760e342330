"""The built-in frameworks: structure, rules, and the observed norms re-checked on all 167 SIF reports."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.contracts import GRADES, NOT_JUDGED, Framework
from ledger.errors import BadInput, NotFound
from ledger.pluginmanager import collect, new_plugin_manager
from plugins.frameworks import (
    decode_framework,
    grade_from_label,
    load_framework,
    norm_statistics,
    read_outcomes_csv,
)

SIF_CSV = Path(__file__).parent / "data" / "sif_outcomes_2013_2018.csv"
RI = "requires-improvement"


@pytest.fixture(scope="module")
def sif() -> Framework:
    return load_framework("sif-2013")


@pytest.fixture(scope="module")
def ilacs() -> Framework:
    return load_framework("ilacs-2018")


@pytest.fixture(scope="module")
def sif_rows(sif: Framework) -> list[tuple[str, dict[str, str]]]:
    return read_outcomes_csv(SIF_CSV.read_text(encoding="utf-8"), sif)


def rules_of(findings: list) -> list[tuple[str, str]]:
    return [(finding.rule, finding.severity) for finding in findings]


# --- structure -------------------------------------------------------------------------------


def test_plugin_manager_registers_both_frameworks() -> None:
    frameworks = collect(new_plugin_manager(load_entry_points=False), "register_frameworks")
    assert {"sif-2013", "ilacs-2018"} <= set(frameworks.items)
    assert frameworks.suppliers["sif-2013"] == "plugins.frameworks"
    for framework in frameworks:
        assert isinstance(framework, Framework)


def test_sif_areas_match_the_domain(sif: Framework) -> None:
    shape = {area.id: (area.kind, area.parent) for area in sif.areas}
    assert shape == {
        "overall": ("overall", None),
        "help-protection": ("key", None),
        "looked-after": ("key", None),
        "adoption": ("sub", "looked-after"),
        "care-leavers": ("sub", "looked-after"),
        "leadership": ("key", None),
        "lscb": ("separate", None),
    }
    assert sif.grades == GRADES
    assert set(sif.grade_meanings) == set(GRADES)
    assert "harmed or at risk" in sif.grade_meanings["inadequate"]


def test_ilacs_areas_match_the_domain(ilacs: Framework) -> None:
    assert [area.id for area in ilacs.areas] == ["overall", "leaders", "help-protection", "in-care", "care-leavers"]
    assert ilacs.grades == GRADES


def test_unknown_framework_name_is_not_found() -> None:
    with pytest.raises(NotFound, match="sif-2013"):
        load_framework("ofsted-1066")


# --- the published SIF outcomes ----------------------------------------------------------------


def test_all_167_reports_read_with_labels(sif_rows: list[tuple[str, dict[str, str]]]) -> None:
    assert len(sif_rows) == 167
    label, grades = sif_rows[1]
    assert label == "barnet (2017-07-07)"
    assert grades["overall"] == "inadequate" and grades["adoption"] == RI


def test_published_reports_break_no_rule_or_norm(sif: Framework, sif_rows: list) -> None:
    findings = {label: sif.check(grades) for label, grades in sif_rows}
    assert {label: f for label, f in findings.items() if f} == {}


def test_published_reports_bear_out_the_observed_norms(sif_rows: list) -> None:
    stats = norm_statistics(sif_rows)
    assert stats["reports"] == 167
    # DOMAIN.md says 145 equal; the 167 rows of the data file give 146 (146 + 21 = 167).
    assert stats["overall-equal-to-leadership"] == 146
    assert stats["overall-one-worse-than-leadership"] == 21
    assert stats["overall-better-than-leadership"] == 0
    assert stats["overall-more-than-one-worse-than-leadership"] == 0
    assert stats["overall-more-than-one-better-than-worst-key"] == 0
    assert stats["overall-equal-to-worst-key"] + stats["overall-one-better-than-worst-key"] == 167
    assert stats["key-inadequate-overall-not-inadequate"] == 0
    assert stats["looked-after-when-adoption-or-care-leavers-inadequate"] == {"inadequate": 12, RI: 12}
    assert stats["exceptions"] == {}


def test_not_judged_in_published_reports(sif_rows: list) -> None:
    scilly = dict(sif_rows)["isles of scilly (2016-06-27)"]
    assert scilly["looked-after"] == scilly["adoption"] == scilly["care-leavers"] == NOT_JUDGED


def test_norm_statistics_lists_rows_that_break_a_norm() -> None:
    rows = [("a", {"overall": "good", "leadership": RI, "help-protection": "inadequate"})]
    stats = norm_statistics(rows)
    assert stats["overall-better-than-leadership"] == 1
    assert stats["overall-more-than-one-better-than-worst-key"] == 1
    assert stats["exceptions"] == {
        "overall-better-than-leadership": ["a"],
        "overall-more-than-one-better-than-worst-key": ["a"],
        "key-inadequate-overall-not-inadequate": ["a"],
    }


# --- SIF rules ---------------------------------------------------------------------------------

ALL_RI = {"overall": RI, "help-protection": RI, "looked-after": RI, "leadership": RI}


def test_key_inadequate_with_better_overall_is_an_error(sif: Framework) -> None:
    findings = sif.check(ALL_RI | {"help-protection": "inadequate"})
    assert ("key-inadequate-forces-overall", "error") in rules_of(findings)
    hard = next(f for f in findings if f.rule == "key-inadequate-forces-overall")
    assert hard.areas == ("overall", "help-protection")
    assert "help-protection is inadequate" in hard.message and "requires improvement" in hard.message


def test_key_inadequate_with_inadequate_overall_is_fine(sif: Framework) -> None:
    assert sif.check(ALL_RI | {"overall": "inadequate", "looked-after": "inadequate"}) == []


def test_overall_better_than_leadership_is_a_warning(sif: Framework) -> None:
    findings = sif.check(ALL_RI | {"overall": "good", "help-protection": "good", "looked-after": "good"})
    assert rules_of(findings) == [("overall-not-better-than-leadership", "warning")]
    assert "leadership (requires improvement)" in findings[0].message


def test_overall_one_worse_than_leadership_is_fine(sif: Framework) -> None:
    assert sif.check(ALL_RI | {"leadership": "good"}) == []


def test_overall_two_better_than_worst_key_is_a_warning(sif: Framework) -> None:
    grades = {"overall": "good", "help-protection": "good", "looked-after": "inadequate", "leadership": "good"}
    findings = sif.check(grades)
    assert ("overall-within-one-of-worst-key", "warning") in rules_of(findings)
    norm = next(f for f in findings if f.rule == "overall-within-one-of-worst-key")
    assert norm.areas == ("overall", "looked-after")
    assert "two grades better than looked-after (inadequate)" in norm.message


def test_overall_two_better_than_worst_key_without_an_inadequate(sif: Framework) -> None:
    grades = {"overall": "outstanding", "help-protection": RI, "looked-after": "good", "leadership": "outstanding"}
    assert rules_of(sif.check(grades)) == [("overall-within-one-of-worst-key", "warning")]


def test_inadequate_sub_judgments_do_not_force_looked_after(sif: Framework) -> None:
    assert sif.check(ALL_RI | {"adoption": "inadequate", "care-leavers": "inadequate"}) == []


def test_lscb_is_not_part_of_overall(sif: Framework) -> None:
    assert sif.check(ALL_RI | {"lscb": "inadequate"}) == []


def test_rules_skip_missing_areas(sif: Framework) -> None:
    assert sif.check({"help-protection": "inadequate", "leadership": "inadequate"}) == []
    assert sif.check({"overall": "outstanding"}) == []


# --- ILACS rules -------------------------------------------------------------------------------

ILACS_RI = {"overall": RI, "leaders": RI, "help-protection": RI, "in-care": RI}


@pytest.mark.parametrize("area", ["help-protection", "in-care", "care-leavers"])
def test_ilacs_practice_inadequate_with_better_overall_is_a_warning(ilacs: Framework, area: str) -> None:
    findings = ilacs.check(ILACS_RI | {area: "inadequate"})
    assert rules_of(findings) == [("practice-inadequate-forces-overall", "warning")]
    assert f"{area} is inadequate" in findings[0].message


def test_ilacs_leaders_inadequate_is_judged_by_the_leaders_norm(ilacs: Framework) -> None:
    findings = ilacs.check(ILACS_RI | {"overall": "good", "leaders": "inadequate"})
    assert rules_of(findings) == [("overall-within-one-of-leaders", "warning")]
    assert "two grades better than leaders (inadequate)" in findings[0].message


def test_ilacs_without_care_leavers_and_consistent_grades_is_fine(ilacs: Framework) -> None:
    assert ilacs.check(ILACS_RI | {"overall": "good", "leaders": "good"}) == []


# --- unknown areas, off-scale grades, not judged -----------------------------------------------


def test_unknown_area_is_an_error(sif: Framework) -> None:
    findings = sif.check(ALL_RI | {"in-care": RI})
    assert rules_of(findings) == [("unknown-area", "error")]
    assert "'in-care'" in findings[0].message and "sif-2013" in findings[0].message


@pytest.mark.parametrize("grade", ["very good", "Good", "2", ""])
def test_off_scale_grade_is_an_error(sif: Framework, grade: str) -> None:
    findings = sif.check(ALL_RI | {"leadership": grade})
    assert rules_of(findings) == [("grade-off-scale", "error")]
    assert findings[0].areas == ("leadership",)
    assert "leadership" in findings[0].message and repr(grade) in findings[0].message


@pytest.mark.parametrize("area", ["looked-after", "adoption", "care-leavers"])
def test_not_judged_is_allowed_where_the_area_allows_it(sif: Framework, area: str) -> None:
    assert sif.check(ALL_RI | {area: NOT_JUDGED}) == []


@pytest.mark.parametrize("area", ["overall", "help-protection", "leadership", "lscb"])
def test_not_judged_is_refused_elsewhere(sif: Framework, area: str) -> None:
    findings = sif.check(ALL_RI | {area: NOT_JUDGED})
    assert rules_of(findings) == [("grade-off-scale", "error")]
    assert NOT_JUDGED not in findings[0].message.split("use one of")[1]


def test_not_judged_is_refused_in_ilacs(ilacs: Framework) -> None:
    assert rules_of(ilacs.check(ILACS_RI | {"in-care": NOT_JUDGED})) == [("grade-off-scale", "error")]


SIF_AREAS = ("overall", "help-protection", "looked-after", "adoption", "care-leavers", "leadership", "lscb")


@given(st.dictionaries(st.sampled_from(SIF_AREAS), st.sampled_from(GRADES)))
def test_hard_rule_fires_exactly_when_a_key_is_inadequate_and_overall_is_not(grades: dict[str, str]) -> None:
    sif = load_framework("sif-2013")
    findings = sif.check(grades)
    keys = [grades.get(area) for area in ("help-protection", "looked-after", "leadership")]
    broken = "overall" in grades and grades["overall"] != "inadequate" and "inadequate" in keys
    assert [f.severity for f in findings if f.severity == "error"] == (["error"] if broken else [])
    for finding in findings:
        assert all(area in finding.message for area in finding.areas)


# --- labels and outcome files ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "grade"),
    [
        ("Outstanding", "outstanding"),
        ("Good", "good"),
        ("Requires improvement", RI),
        ("Requires improvement to be good", RI),
        (" requires  improvement ", RI),
        ("Inadequate", "inadequate"),
        ("Not judged", NOT_JUDGED),
        ("1", "outstanding"),
        ("2", "good"),
        ("3", RI),
        ("4", "inadequate"),
        ("5", NOT_JUDGED),
        ("requires-improvement", RI),
        ("not reviewed in this report", None),
        ("", None),
    ],
)
def test_grade_from_label(label: str, grade: str | None) -> None:
    assert grade_from_label(label) == grade


@pytest.mark.parametrize("label", ["6", "Very good", "RI"])
def test_grade_from_label_refuses_unknown_labels(label: str) -> None:
    with pytest.raises(BadInput, match="is not a grade label"):
        grade_from_label(label)


def test_read_generic_outcomes_csv(ilacs: Framework) -> None:
    text = "label,overall,leaders,help_protection,in-care\nA,Good,Good,2,Requires improvement\n\n,3,3,3,\n"
    assert read_outcomes_csv(text, ilacs) == [
        ("A", {"overall": "good", "leaders": "good", "help-protection": "good", "in-care": RI}),
        ("line 4", {"overall": RI, "leaders": RI, "help-protection": RI}),
    ]


def test_read_outcomes_csv_refuses_an_unknown_column(ilacs: Framework) -> None:
    with pytest.raises(BadInput, match="Column 'looked_after' is not a judgment area of ilacs-2018"):
        read_outcomes_csv("la,overall,looked_after\nX,Good,Good\n", ilacs)


def test_read_outcomes_csv_refuses_an_unknown_grade(sif: Framework) -> None:
    with pytest.raises(BadInput, match=r"Line 3 \(Y\), column leadership: 'Excellent' is not a grade"):
        read_outcomes_csv("la,overall,leadership\nX,Good,Good\nY,Good,Excellent\n", sif)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "empty"),
        ("la,urn\nX,1\n", "no judgment-area columns"),
        ("overall,Overall\nGood,Good\n", "two columns for overall"),
        ("la,overall\nX,Good,Good\n", "Line 2 .* 3 fields"),
    ],
)
def test_read_outcomes_csv_refuses_malformed_files(sif: Framework, text: str, match: str) -> None:
    with pytest.raises(BadInput, match=match):
        read_outcomes_csv(text, sif)


# --- framework files ---------------------------------------------------------------------------


def sif_file() -> dict:
    return json.loads((resources.files("plugins.data") / "sif-2013.framework.json").read_text(encoding="utf-8"))


def test_framework_files_decode_to_their_builtins() -> None:
    data = json.dumps(sif_file()).encode()
    assert decode_framework(data, "copy") == load_framework("sif-2013")


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda f: f["areas"][1].update(weight=2), "unknown field `weight`"),
        (lambda f: f.update(extra=1), "unknown field `extra`"),
        (lambda f: f["rules"][0].update(check="coin-toss"), "unknown check 'coin-toss'"),
        (lambda f: f["rules"][0].update(areas=["help-protection", "in-care"]), "must name known areas, not in-care"),
        (lambda f: f["areas"].insert(1, f["areas"].pop(3)), "parent 'looked-after', which is not defined"),
        (lambda f: f["areas"][3].update(parent="nowhere"), "parent 'nowhere'"),
        (lambda f: f.update(grades=["good", "outstanding"]), "best first"),
        (lambda f: f["grade_meanings"].pop("good"), "no meaning for good"),
        (lambda f: f["areas"].pop(0), "exactly one area of kind 'overall'"),
        (lambda f: f["rules"][0].update(severity="fatal"), "Expected `str` matching|Invalid enum"),
    ],
)
def test_broken_framework_files_are_refused(change, match: str) -> None:  # noqa: ANN001 - a lambda
    broken = sif_file()
    change(broken)
    with pytest.raises(BadInput, match=match):
        decode_framework(json.dumps(broken).encode(), "broken.framework.json")
