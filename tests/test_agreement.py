"""Agreement statistics: coefficients against published and independent figures, unitization by hand."""

from __future__ import annotations

import math

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.inter_rater import cohens_kappa as statsmodels_kappa

from ledger.agreement import (
    agreement_report,
    alpha_reading,
    calibration_report,
    cohen_kappa,
    krippendorff_alpha,
    landis_koch_band,
    percent_agreement,
)
from ledger.errors import BadInput
from ledger.units import Coding, unit_table, unitize

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the worked example with missing values.
_ = None
K2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, _, _, _],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _, 3],
    [_, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _],
]


# --- Krippendorff's alpha ----------------------------------------------------------------------


@pytest.mark.parametrize(("level", "expected"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)])
def test_alpha_reproduces_krippendorff_2011_worked_example(level, expected):
    assert round(krippendorff_alpha(K2011, level), 3) == expected


def test_alpha_takes_labels_for_nominal_and_ranks_ordinal_labels_by_the_domain():
    names = {1: "outstanding", 2: "good", 3: "ri", 4: "inadequate", 5: "not judged"}
    labelled = [[None if v is None else names[v] for v in row] for row in K2011]
    assert round(krippendorff_alpha(labelled, "nominal"), 3) == 0.743
    assert round(krippendorff_alpha(labelled, "ordinal", value_domain=list(names.values())), 3) == 0.815
    # The order matters for ordinal: reversing the scale keeps alpha, scrambling it changes it.
    assert round(krippendorff_alpha(labelled, "ordinal", value_domain=list(names.values())[::-1]), 3) == 0.815
    scrambled = ["good", "inadequate", "outstanding", "not judged", "ri"]
    assert round(krippendorff_alpha(labelled, "ordinal", value_domain=scrambled), 3) != 0.815


def test_alpha_ordinal_domain_may_hold_values_nobody_used():
    with_unused = krippendorff_alpha(K2011, "ordinal", value_domain=[0, 1, 2, 3, 4, 5, 6])
    assert round(with_unused, 3) == 0.815


@pytest.mark.parametrize(
    ("data", "level", "domain", "words"),
    [
        ([[1, 2, 3]], "nominal", None, "at least two coders"),
        ([[1, None], [None, 2]], "nominal", None, "No unit has values from two coders"),
        ([[1, 2], [1]], "nominal", None, "same units"),
        ([["a", "b"], ["a", "a"]], "ordinal", None, "give their order"),
        ([["a", "b"], ["a", "a"]], "interval", None, "needs numbers"),
        ([["a", "b"], ["a", "c"]], "ordinal", ["a", "b"], "not in the value domain"),
        ([[1, 2], [1, 1]], "ratio", None, "Unknown level"),
        ([[1, 2], [1, 1]], "ordinal", [1, 2, 1], "lists a value twice"),
        ([[1.5, 2], [1.5, 2]], "interval", [1.5], "not in the value domain"),
    ],
)
def test_alpha_rejects_unusable_data_with_one_sentence(data, level, domain, words):
    with pytest.raises(BadInput, match=words):
        krippendorff_alpha(data, level, value_domain=domain)


def test_alpha_is_one_when_every_pairable_value_is_the_same():
    assert krippendorff_alpha([[1, 1, 2], [1, 1, None]], "nominal") == 1.0


# --- percent agreement and Cohen's kappa -------------------------------------------------------


def test_kappa_hand_computed():
    # 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no: p_o = .70, p_e = .5*.6 + .5*.4 = .50, kappa = .40.
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert percent_agreement(a, b) == pytest.approx(0.70)
    assert cohen_kappa(a, b) == pytest.approx(0.40)


def test_kappa_skips_units_either_coder_left_out():
    assert cohen_kappa([1, 2, None, 1], [1, 2, 2, None]) == 1.0
    assert percent_agreement([1, 2, None, 2], [1, 1, 2, None]) == 0.5


def test_kappa_when_both_coders_used_one_label_is_one():
    assert cohen_kappa(["x"] * 5, ["x"] * 5) == 1.0


def test_kappa_rejects_mismatched_or_disjoint_units():
    with pytest.raises(BadInput, match="same units"):
        cohen_kappa([1, 2], [1])
    with pytest.raises(BadInput, match="No unit was labelled by both"):
        percent_agreement([1, None], [None, 2])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=80))
def test_kappa_matches_statsmodels(pairs):
    a = [x for x, _ in pairs]
    b = [y for _, y in pairs]
    categories = sorted(set(a) | set(b))
    table = np.zeros((len(categories), len(categories)))
    for x, y in pairs:
        table[categories.index(x), categories.index(y)] += 1
    assert percent_agreement(a, b) == pytest.approx(np.trace(table) / len(pairs))
    if len(categories) == 1:  # statsmodels gives 0/0 here; we define kappa as 1
        assert cohen_kappa(a, b) == 1.0
    else:
        assert cohen_kappa(a, b) == pytest.approx(statsmodels_kappa(table, return_results=False), abs=1e-12)


# --- readings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kappa", "band"),
    [
        (-0.01, "poor"), (0.0, "slight"), (0.20, "slight"), (0.21, "fair"), (0.40, "fair"),
        (0.41, "moderate"), (0.60, "moderate"), (0.61, "substantial"), (0.80, "substantial"),
        (0.81, "almost perfect"), (1.0, "almost perfect"), (0.1 + 0.1, "slight"),
    ],
)
def test_landis_koch_bands(kappa, band):
    assert landis_koch_band(kappa) == band


@pytest.mark.parametrize(
    ("alpha", "reading"),
    [(1.0, "reliable"), (0.800, "reliable"), (0.7999, "tentative"), (0.667, "tentative"),
     (0.6669, "unreliable"), (-0.2, "unreliable")],
)
def test_alpha_readings(alpha, reading):
    assert alpha_reading(alpha) == reading


def test_readings_reject_nan():
    with pytest.raises(BadInput, match="not a finite number"):
        landis_koch_band(math.nan)
    with pytest.raises(BadInput, match="not a finite number"):
        alpha_reading(math.nan)


# --- unitization -------------------------------------------------------------------------------

LENGTHS = {"s1": 10, "s2": 5}
# A codes X on s1[2:6), B on s1[4:8); B codes Y on s2 (so B read s2); A never touched s2 (missing there).
CODINGS = [
    Coding(coder="A", source="s1", start=2, end=6, code="X"),
    Coding(coder="B", source="s1", start=4, end=8, code="X"),
    Coding(coder="B", source="s2", start=0, end=3, code="Y"),
]


def _unitize(unit, exclude, codings=CODINGS, lengths=LENGTHS, coders=("A", "B"), **kw):
    return unitize(codings, lengths, list(coders), "X", unit, exclude, **kw)


def test_unitize_character():
    assert _unitize("character", False) == [
        [0, 0, 1, 1, 1, 1, 0, 0, 0, 0] + [None] * 5,
        [0, 0, 0, 0, 1, 1, 1, 1, 0, 0] + [0] * 5,
    ]
    assert _unitize("character", True) == [[1, 1, 1, 1, 0, 0], [0, 0, 1, 1, 1, 1]]


def test_unitize_segment_merges_overlaps_and_keeps_uncoded_stretches_unless_excluded():
    # s1: [0,2) uncoded, [2,8) the merged cluster, [8,10) uncoded; s2: one uncoded stretch, A missing.
    assert _unitize("segment", False) == [[0, 1, 0, None], [0, 1, 0, 0]]
    assert _unitize("segment", True) == [[1], [1]]
    spans = unit_table(CODINGS, LENGTHS, ["A", "B"], "X", "segment", False).spans
    assert [(s.source, s.start, s.end) for s in spans] == [("s1", 0, 2), ("s1", 2, 8), ("s1", 8, 10), ("s2", 0, 5)]


def test_unitize_segment_chains_overlaps_but_keeps_touching_segments_apart():
    chained = [
        Coding(coder="A", source="s1", start=0, end=4, code="X"),
        Coding(coder="B", source="s1", start=3, end=7, code="X"),
        Coding(coder="C", source="s1", start=6, end=9, code="X"),
    ]
    assert _unitize("segment", True, chained, {"s1": 10}, ("A", "B", "C")) == [[1], [1], [1]]
    touching = [
        Coding(coder="A", source="s1", start=0, end=5, code="X"),
        Coding(coder="B", source="s1", start=5, end=10, code="X"),
    ]
    assert _unitize("segment", False, touching, {"s1": 10}) == [[1, 0], [0, 1]]


def test_unitize_source():
    assert _unitize("source", False) == [[1, None], [1, 0]]
    assert _unitize("source", True) == [[1], [1]]


def test_unitize_also_read_turns_missing_into_not_applied():
    assert _unitize("source", False, also_read={"A": ["s2"]}) == [[1, 0], [1, 0]]


def test_unitize_ignores_other_coders_and_checks_spans():
    extra = [*CODINGS, Coding(coder="Z", source="s2", start=0, end=5, code="X")]
    assert _unitize("source", False, extra) == [[1, None], [1, 0]]
    with pytest.raises(BadInput, match="outside the source"):
        _unitize("source", False, [Coding(coder="A", source="s1", start=5, end=11, code="X")])
    with pytest.raises(BadInput, match="no length given"):
        _unitize("source", False, [Coding(coder="A", source="s9", start=0, end=1, code="X")])
    with pytest.raises(BadInput, match="Unknown unit"):
        _unitize("word", False)
    with pytest.raises(BadInput, match="listed twice"):
        _unitize("source", False, coders=("A", "A"))


def test_character_units_are_runs_not_characters():
    huge = {"s1": 10**9}
    codings = [Coding(coder=c, source="s1", start=10**6, end=2 * 10**6, code="X") for c in ("A", "B")]
    table = unit_table(codings, huge, ["A", "B"], "X", "character", False)
    assert len(table.spans) == 3
    assert table.size == 10**9
    report = agreement_report(codings, huge, ["A", "B"], ["X"], "character", False)
    assert report.codes[0].units == 10**9
    assert report.codes[0].alpha == 1.0


# --- agreement report --------------------------------------------------------------------------


@pytest.mark.parametrize("unit", ["character", "segment", "source"])
@pytest.mark.parametrize("exclude", [False, True])
def test_identical_codings_agree_perfectly(unit, exclude):
    codings = [
        Coding(coder=coder, source=source, start=start, end=end, code=code)
        for coder in ("A", "B", "C")
        for source, start, end, code in [("s1", 0, 4, "X"), ("s1", 6, 9, "Y"), ("s2", 1, 3, "X")]
    ]
    lengths = {"s1": 10, "s2": 5, "s3": 4}  # s3 was read by everyone and coded by no one
    also_read = {c: ["s3"] for c in ("A", "B", "C")}
    report = agreement_report(codings, lengths, ["A", "B", "C"], ["X", "Y"], unit, exclude, also_read=also_read)
    for figures in [*report.codes, report.overall]:
        assert figures.alpha == 1.0
        assert figures.reading == "reliable"
        assert figures.percent_agreement == 1.0
        assert {p.kappa for p in figures.pairs} == {1.0}
        assert {p.band for p in figures.pairs} == {"almost perfect"}
    assert report.disagreements == {"X": [], "Y": []}


def test_report_character_hand_computed():
    report = agreement_report(CODINGS, LENGTHS, ["A", "B"], ["X"], "character", False)
    (x,) = report.codes
    # s1 only (A is missing on s2): 4 both-0, 2 A-only, 2 B-only, 2 both-1 characters.
    # p_o = .6; p_e = .4*.4 + .6*.6 = .52; kappa = .08/.48.
    (pair,) = x.pairs
    assert (pair.units, pair.percent_agreement) == (10, pytest.approx(0.6))
    assert pair.kappa == pytest.approx(1 / 6)
    assert pair.band == "slight"
    assert x.units == 15
    assert x.unit == "character"
    spans = [(d.source, d.start, d.end, d.applied_by, d.not_applied_by) for d in report.disagreements["X"]]
    assert spans == [("s1", 2, 4, ("A",), ("B",)), ("s1", 6, 8, ("B",), ("A",))]


def test_report_needs_two_coders():
    with pytest.raises(BadInput, match="at least two coders"):
        agreement_report(CODINGS, LENGTHS, ["A"], ["X"], "source", False)


def test_report_says_when_alpha_cannot_be_measured():
    report = agreement_report(CODINGS, LENGTHS, ["A", "B"], ["Y"], "source", True)
    (y,) = report.codes
    assert y.alpha is None
    assert y.reading.startswith("not measurable")
    assert y.pairs[0].kappa is None


@st.composite
def codings_strategy(draw):
    lengths = {"s1": 12, "s2": 7}
    codings = []
    for _ in range(draw(st.integers(0, 8))):
        source = draw(st.sampled_from(sorted(lengths)))
        start = draw(st.integers(0, lengths[source] - 1))
        end = draw(st.integers(start + 1, lengths[source]))
        coder = draw(st.sampled_from(["A", "B", "C"]))
        codings.append(Coding(coder=coder, source=source, start=start, end=end, code=draw(st.sampled_from("XY"))))
    return codings, lengths


@settings(max_examples=200, deadline=None)
@given(codings_strategy(), st.sampled_from(["character", "segment", "source"]), st.booleans())
def test_report_equals_the_coefficients_on_the_expanded_matrix(drawn, unit, exclude):
    codings, lengths = drawn
    coders = ["A", "B", "C"]
    report = agreement_report(codings, lengths, coders, ["X", "Y"], unit, exclude)
    x = report.codes[0]
    matrix = unitize(codings, lengths, coders, "X", unit, exclude)
    pooled = [a + b for a, b in zip(matrix, unitize(codings, lengths, coders, "Y", unit, exclude))]
    _check_figures(x, matrix, coders)
    _check_figures(report.overall, pooled, coders)


def _check_figures(x, matrix, coders):
    """The report's figures equal the public coefficients (and the package) on the plain matrix."""
    assert x.units == len(matrix[0])
    pairable = [u for u in range(len(matrix[0])) if sum(row[u] is not None for row in matrix) >= 2]
    if not pairable:
        assert x.alpha is None
    else:
        assert x.alpha == pytest.approx(krippendorff_alpha(matrix, "nominal"), abs=1e-9)
        values = {row[u] for row in matrix for u in pairable if row[u] is not None}
        if len(values) > 1:  # the package itself, with no wrapper in between
            floats = [[np.nan if v is None else v for v in row] for row in matrix]
            expected = krippendorff.alpha(floats, level_of_measurement="nominal")
            assert x.alpha == pytest.approx(expected, abs=1e-9)
    compared = [(pair.units, pair.percent_agreement) for pair in x.pairs if pair.units]
    if compared:  # pooled over every pair of coders and every unit both coded
        assert x.percent_agreement == pytest.approx(sum(n * p for n, p in compared) / sum(n for n, _ in compared))
    else:
        assert x.percent_agreement is None
    for pair in x.pairs:
        a, b = matrix[coders.index(pair.coder_a)], matrix[coders.index(pair.coder_b)]
        shared = sum(u is not None and v is not None for u, v in zip(a, b))
        assert pair.units == shared
        if shared:
            assert pair.kappa == pytest.approx(cohen_kappa(a, b), abs=1e-9)
            assert pair.percent_agreement == pytest.approx(percent_agreement(a, b), abs=1e-9)


# --- grade calibration -------------------------------------------------------------------------

GRADES = ("outstanding", "good", "requires-improvement", "inadequate")
O, G, RI, I = GRADES  # noqa: E741
ROUND_1 = [
    ("R1", "v1", G, 1), ("R2", "v1", G, 1), ("R3", "v1", RI, 1),
    ("R1", "v2", O, 1), ("R2", "v2", G, 1), ("R3", "v2", G, 1),
    ("R1", "v3", G, 1), ("R2", "v3", RI, 1), ("R3", "v3", I, 1),
]
ROUND_2 = [
    ("R1", "v4", G, 2), ("R2", "v4", G, 2), ("R3", "v4", G, 2),
    ("R1", "v5", RI, 2), ("R2", "v5", RI, 2), ("R3", "v5", I, 2),
    ("R1", "v6", O, 2), ("R2", "v6", O, 2), ("R3", "v6", G, 2),
]


def _ranks(ratings):
    vignettes = sorted({v for _, v, _, _ in ratings})
    rank = {g: i for i, g in enumerate(GRADES)}
    return [[next(rank[g] for r2, v2, g, _ in ratings if (r2, v2) == (r, v)) for v in vignettes]
            for r in ("R1", "R2", "R3")]


def test_calibration_hand_computed():
    report = calibration_report(ROUND_1 + ROUND_2, GRADES)
    leniency = {item.rater: item.leniency for item in report.leniency}
    # Round 1, R1: v1 median(1,2)=1.5 vs 1 -> +.5; v2 median(1,1)=1 vs 0 -> +1; v3 median(2,3)=2.5 vs 1 -> +1.5.
    # Round 2, R1: v4 0; v5 median(2,3)=2.5 vs 2 -> +.5; v6 median(0,1)=.5 vs 0 -> +.5.  Mean 4/6.
    assert leniency["R1"] == pytest.approx(4 / 6)
    # R3: -1, -.5, -1.5, 0, -1, -1 -> mean -5/6.
    assert leniency["R3"] == pytest.approx(-5 / 6)
    assert {item.compared for item in report.leniency} == {6}
    first = next(c for c in report.confusion if (c.rater_a, c.rater_b) == ("R1", "R2"))
    assert first.grades == GRADES
    assert first.counts == [[1, 1, 0, 0], [0, 2, 1, 0], [0, 0, 1, 0], [0, 0, 0, 0]]
    assert (first.compared, first.exact_agreement) == (6, pytest.approx(4 / 6))
    expected = [krippendorff.alpha(_ranks(r), value_domain=range(4), level_of_measurement="ordinal")
                for r in (ROUND_1, ROUND_2)]
    assert [r.round for r in report.rounds] == [1, 2]
    assert [r.alpha for r in report.rounds] == pytest.approx(expected)
    assert [r.vignettes for r in report.rounds] == [3, 3]
    overall = krippendorff.alpha(_ranks(ROUND_1 + ROUND_2), value_domain=range(4), level_of_measurement="ordinal")
    assert report.alpha == pytest.approx(overall)
    assert report.alpha_change == pytest.approx(expected[1] - expected[0])
    assert report.trend == ("rising" if expected[1] > expected[0] else "falling")


def test_leniency_is_positive_for_the_rater_who_grades_better_than_the_rest():
    ratings = []
    for n, grade in enumerate([G, RI, I]):
        kinder = GRADES[GRADES.index(grade) - 1]
        ratings += [("strict1", f"v{n}", grade, 1), ("strict2", f"v{n}", grade, 1), ("strict3", f"v{n}", grade, 1)]
        ratings.append(("kind", f"v{n}", kinder, 1))
    leniency = {item.rater: item.leniency for item in calibration_report(ratings, GRADES).leniency}
    assert leniency["kind"] == 1.0
    assert leniency["strict1"] == leniency["strict2"] == leniency["strict3"] == 0.0


def test_calibration_trend_needs_two_measured_rounds():
    report = calibration_report(ROUND_1, GRADES)
    assert report.alpha_change is None
    assert report.trend is None


def test_calibration_rejects_unknown_grades_and_double_ratings():
    with pytest.raises(BadInput, match="not on the scale"):
        calibration_report([("R1", "v1", "excellent", 1)], GRADES)
    with pytest.raises(BadInput, match="twice in round 1"):
        calibration_report([("R1", "v1", G, 1), ("R1", "v1", O, 1)], GRADES)
