"""Agreement between inspectors: percent agreement, Cohen's kappa, Krippendorff's alpha, and the reports.

Plain functions over plain data; ``docs/agreement.md`` says how to read each figure. Missing values are
``None``. Alpha comes from the maintained ``krippendorff`` package, except for character units, whose runs
carry weights the package cannot take: there the nominal coincidence matrix is weighted here (see
:func:`_weighted_nominal_alpha`), which equals the package's figure on the expanded matrix.
"""

from __future__ import annotations

import itertools
import math
import numbers
import statistics
from collections import Counter, defaultdict
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from typing import Literal

import krippendorff
import msgspec
import numpy as np

from ledger.errors import BadInput
from ledger.units import Coding, Unit, UnitTable, unit_table

Level = Literal["nominal", "ordinal", "interval"]


# --- coefficients ----------------------------------------------------------------------------


def percent_agreement(a: Sequence[Hashable | None], b: Sequence[Hashable | None]) -> float:
    """The share (0-1) of units on which two coders gave the same label; units either left out are skipped."""
    return _pair(a, b, None)[1]


def cohen_kappa(a: Sequence[Hashable | None], b: Sequence[Hashable | None]) -> float:
    """Cohen's kappa for two coders' nominal labels over the same units; units either left out are skipped.

    When chance agreement is 1 (both coders used one and the same label throughout) kappa is 0/0; we
    return 1.0, since observed agreement is then necessarily 1 too.
    """
    return _pair(a, b, None)[2]


def _pair(
    a: Sequence[Hashable | None], b: Sequence[Hashable | None], weights: Sequence[int] | None
) -> tuple[float, float, float]:
    """(units compared, percent agreement, kappa) for two coders, each unit counted ``weights[i]`` times."""
    if len(a) != len(b):
        raise BadInput(f"The two coders' labels cover {len(a)} and {len(b)} units: give both the same units.")
    both: Counter[tuple[Hashable, Hashable]] = Counter()
    for i, (x, y) in enumerate(zip(a, b)):
        if x is not None and y is not None:
            both[x, y] += 1 if weights is None else weights[i]
    total = sum(both.values())
    if total == 0:
        raise BadInput("No unit was labelled by both coders, so their agreement cannot be measured.")
    row: Counter[Hashable] = Counter()
    col: Counter[Hashable] = Counter()
    for (x, y), n in both.items():
        row[x] += n
        col[y] += n
    observed = sum(n for (x, y), n in both.items() if x == y) / total
    if len(row.keys() | col.keys()) == 1:
        return total, observed, 1.0
    expected = sum(row[k] * col[k] for k in row) / total**2
    return total, observed, (observed - expected) / (1 - expected)


def landis_koch_band(kappa: float) -> str:
    """Landis & Koch's (1977) reading of kappa; each band's upper bound is inclusive (0.20 is "slight")."""
    k = round(_finite(kappa, "kappa"), 9)
    if k < 0:
        return "poor"
    for upper, band in ((0.20, "slight"), (0.40, "fair"), (0.60, "moderate"), (0.80, "substantial")):
        if k <= upper:
            return band
    return "almost perfect"


def alpha_reading(alpha: float) -> str:
    """Krippendorff's reading of alpha: >= .800 "reliable", >= .667 "tentative", else "unreliable"."""
    a = round(_finite(alpha, "alpha"), 9)
    return "reliable" if a >= 0.800 else "tentative" if a >= 0.667 else "unreliable"


def _finite(value: float, name: str) -> float:
    if not math.isfinite(value):
        raise BadInput(f"The {name} given is {value}, not a finite number.")
    return value


def krippendorff_alpha(
    data: Sequence[Sequence[Hashable | None]], level: Level, value_domain: Sequence[Hashable] | None = None
) -> float:
    """Krippendorff's alpha over ``data[coder][unit]`` (None = missing) at the given level of measurement.

    Nominal labels may be any hashable values. Ordinal values are ranked by ``value_domain`` (required unless
    the values are numbers, then sorted); interval values must be numbers. If every pairable value is the
    same, alpha is 0/0; we return 1.0, as for kappa.
    """
    if level not in ("nominal", "ordinal", "interval"):
        raise BadInput(f"Unknown level {level!r}: use nominal, ordinal or interval.")
    rows = [list(row) for row in data]
    if len(rows) < 2:
        raise BadInput(f"Alpha needs at least two coders; {len(rows)} were given.")
    if len({len(row) for row in rows}) != 1:
        raise BadInput("Every coder's row must cover the same units: pad units a coder left out with None.")
    present = [v for row in rows for v in row if v is not None]
    domain = list(value_domain) if value_domain is not None else None
    if domain is not None:
        if len(set(domain)) != len(domain):
            raise BadInput("The value domain lists a value twice: give each value once.")
        outside = set(present) - set(domain)
        if outside:
            raise BadInput(f"Values {sorted(map(str, outside))} are not in the value domain given.")
    if level == "interval" or (level == "ordinal" and domain is None):
        if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in present + (domain or [])):
            raise BadInput(f"{level.capitalize()} alpha needs numbers; for ordinal labels give their order.")
    pairable = {v for column in zip(*rows) if sum(v is not None for v in column) >= 2 for v in column} - {None}
    if not pairable:
        raise BadInput("No unit has values from two coders, so their agreement cannot be measured.")
    if len(pairable) == 1:
        return 1.0
    if level == "interval":
        matrix = [[math.nan if v is None else float(v) for v in row] for row in rows]
        scale: Sequence[float] = sorted({float(v) for v in present + (domain or [])})
    else:
        # Nominal labels keep their first-seen order, which does not matter to nominal alpha.
        order = domain or (list(dict.fromkeys(present)) if level == "nominal" else sorted(set(present)))
        rank = {value: i for i, value in enumerate(order)}
        matrix = [[math.nan if v is None else float(rank[v]) for v in row] for row in rows]
        scale = range(len(order))
    return float(krippendorff.alpha(matrix, value_domain=scale, level_of_measurement=level))


def _weighted_nominal_alpha(values: Sequence[Sequence[int | None]], weights: Sequence[int]) -> float | None:
    """Nominal alpha where unit ``u`` counts ``weights[u]`` times; None if no unit has two values.

    Coincidences are additive over units, so a run of ``w`` identical units adds ``w`` times one unit's
    coincidences: this is exactly the package's alpha on the expanded matrix, without expanding it.
    """
    labels = sorted({v for row in values for v in row if v is not None})
    counts = np.zeros((len(weights), max(len(labels), 1)))
    index = {label: i for i, label in enumerate(labels)}
    for row in values:
        for u, v in enumerate(row):
            if v is not None:
                counts[u, index[v]] += 1
    per_unit = counts.sum(axis=1)
    keep = per_unit >= 2
    if not keep.any():
        return None
    counts, per_unit, w = counts[keep], per_unit[keep], np.asarray(weights, dtype=float)[keep]
    pairs = counts[:, :, None] * counts[:, None, :] - counts[:, :, None] * np.eye(counts.shape[1])[None]
    o = (pairs * (w / (per_unit - 1))[:, None, None]).sum(axis=0)
    n_c = o.sum(axis=0)
    n = n_c.sum()
    expected_disagreement = n * n - (n_c * n_c).sum()
    if expected_disagreement == 0:
        return 1.0
    return float(1 - (n - 1) * (n - np.trace(o)) / expected_disagreement)


# --- coding agreement report -----------------------------------------------------------------


class PairAgreement(msgspec.Struct, frozen=True, kw_only=True):
    """Two coders on one code (or all codes): units both coded, percent agreement, kappa and its band."""

    coder_a: str
    coder_b: str
    units: int
    percent_agreement: float | None
    kappa: float | None
    band: str | None


class CodeAgreement(msgspec.Struct, frozen=True, kw_only=True):
    """Agreement on one code (``code`` is None for all codes pooled), measured over ``units`` of ``unit``."""

    code: str | None
    unit: str
    units: int
    percent_agreement: float | None
    alpha: float | None
    reading: str
    pairs: list[PairAgreement]


class Disagreement(msgspec.Struct, frozen=True, kw_only=True):
    """A unit where coders differ: who applied the code there and who read it but did not."""

    source: str
    start: int
    end: int
    applied_by: tuple[str, ...]
    not_applied_by: tuple[str, ...]


class AgreementReport(msgspec.Struct, frozen=True, kw_only=True):
    """Agreement per code and overall, with the spans where coders differ, per code."""

    unit: str
    exclude_uncoded: bool
    coders: tuple[str, ...]
    codes: list[CodeAgreement]
    overall: CodeAgreement
    disagreements: dict[str, list[Disagreement]]


def agreement_report(
    codings: Iterable[Coding],
    source_lengths: Mapping[str, int],
    coders: Sequence[str],
    codes: Sequence[str],
    unit: Unit,
    exclude_uncoded: bool,
    *,
    also_read: Mapping[str, Collection[str]] | None = None,
) -> AgreementReport:
    """Agreement between ``coders`` on each of ``codes``, and over all codes pooled (a unit is a code at a
    place); units are cut by :func:`ledger.units.unit_table`, which explains ``also_read``."""
    if len(coders) < 2:
        raise BadInput(f"Agreement needs at least two coders; {len(coders)} were given.")
    codings = list(codings)
    tables = [
        unit_table(codings, source_lengths, coders, code, unit, exclude_uncoded, also_read=also_read)
        for code in codes
    ]
    pooled = UnitTable(
        unit=unit,
        code="",
        coders=tuple(coders),
        spans=[s for t in tables for s in t.spans],
        values=[[v for t in tables for v in t.values[i]] for i in range(len(coders))],
        weights=[w for t in tables for w in t.weights],
    )
    return AgreementReport(
        unit=unit,
        exclude_uncoded=exclude_uncoded,
        coders=tuple(coders),
        codes=[_code_agreement(t, t.code) for t in tables],
        overall=_code_agreement(pooled, None),
        disagreements={t.code: _disagreements(t) for t in tables},
    )


def _code_agreement(table: UnitTable, code: str | None) -> CodeAgreement:
    pairs = []
    for (i, a), (j, b) in itertools.combinations(enumerate(table.coders), 2):
        if not any(x is not None and y is not None for x, y in zip(table.values[i], table.values[j])):
            pairs.append(PairAgreement(coder_a=a, coder_b=b, units=0, percent_agreement=None, kappa=None, band=None))
            continue
        units, percent, kappa = _pair(table.values[i], table.values[j], table.weights)
        pairs.append(
            PairAgreement(
                coder_a=a, coder_b=b, units=int(units), percent_agreement=percent, kappa=kappa,
                band=landis_koch_band(kappa),
            )
        )
    compared = sum(p.units for p in pairs)
    agreed = sum(p.units * p.percent_agreement for p in pairs if p.percent_agreement is not None)
    if table.unit == "character":
        alpha = _weighted_nominal_alpha(table.values, table.weights)
    elif any(sum(row[u] is not None for row in table.values) >= 2 for u in range(len(table.weights))):
        alpha = krippendorff_alpha(table.values, "nominal")
    else:
        alpha = None
    return CodeAgreement(
        code=code,
        unit=table.unit,
        units=table.size,
        percent_agreement=agreed / compared if compared else None,
        alpha=alpha,
        reading=alpha_reading(alpha) if alpha is not None else "not measurable: no unit was coded by two coders",
        pairs=pairs,
    )


def _disagreements(table: UnitTable) -> list[Disagreement]:
    found = []
    for u, span in enumerate(table.spans):
        column = {coder: row[u] for coder, row in zip(table.coders, table.values) if row[u] is not None}
        if len(set(column.values())) > 1:
            found.append(
                Disagreement(
                    source=span.source, start=span.start, end=span.end,
                    applied_by=tuple(c for c, v in column.items() if v == 1),
                    not_applied_by=tuple(c for c, v in column.items() if v == 0),
                )
            )
    return found


# --- grade calibration -----------------------------------------------------------------------


class RoundAlpha(msgspec.Struct, frozen=True, kw_only=True):
    """Ordinal alpha over one calibration round's vignettes (None if no vignette had two grades)."""

    round: int
    vignettes: int
    alpha: float | None
    reading: str | None


class GradeConfusion(msgspec.Struct, frozen=True, kw_only=True):
    """How two raters' grades cross: ``counts[i][j]`` vignettes graded ``grades[i]`` by a, ``grades[j]`` by b."""

    rater_a: str
    rater_b: str
    grades: tuple[str, ...]
    counts: list[list[int]]
    compared: int
    exact_agreement: float | None


class Leniency(msgspec.Struct, frozen=True, kw_only=True):
    """Mean grade steps a rater sits above the consensus (positive = more lenient, i.e. better grades)."""

    rater: str
    compared: int
    leniency: float | None


class CalibrationReport(msgspec.Struct, frozen=True, kw_only=True):
    """Ordinal alpha overall and per round, its trend, grade confusion per rater pair, and leniency."""

    grades: tuple[str, ...]
    raters: tuple[str, ...]
    alpha: float | None
    reading: str | None
    rounds: list[RoundAlpha]
    alpha_change: float | None
    trend: str | None
    confusion: list[GradeConfusion]
    leniency: list[Leniency]


def calibration_report(
    ratings: Sequence[tuple[str, str, str, int]], grades_best_first: Sequence[str]
) -> CalibrationReport:
    """Agreement of ``(rater, vignette, grade, round)`` ratings on an ordinal scale given best grade first.

    A unit is a vignette in a round. Consensus on a unit, for a rater, is the median grade rank of the
    other raters there; leniency is the mean of (consensus rank - own rank), so positive means kinder.
    """
    rank = {grade: i for i, grade in enumerate(grades_best_first)}
    grid: dict[tuple[int, str], dict[str, int]] = defaultdict(dict)  # (round, vignette) -> rater -> rank
    for rater, vignette, grade, round_ in ratings:
        if grade not in rank:
            raise BadInput(f"Grade {grade!r} by {rater} is not on the scale {', '.join(grades_best_first)}.")
        if rater in grid[round_, vignette]:
            raise BadInput(f"{rater} graded vignette {vignette!r} twice in round {round_}: keep one grade.")
        grid[round_, vignette][rater] = rank[grade]
    raters = tuple(sorted({r for by_rater in grid.values() for r in by_rater}))
    rounds = [_round_alpha(r, {k: v for k, v in grid.items() if k[0] == r}, raters, len(rank))
              for r in sorted({k[0] for k in grid})]
    overall = _ordinal_alpha(list(grid.values()), raters, len(rank))
    measured = [r.alpha for r in rounds if r.alpha is not None]
    change = round(measured[-1] - measured[0], 9) if len(measured) >= 2 else None
    return CalibrationReport(
        grades=tuple(grades_best_first),
        raters=raters,
        alpha=overall,
        reading=alpha_reading(overall) if overall is not None else None,
        rounds=rounds,
        alpha_change=change,
        trend=None if change is None else "rising" if change > 0 else "falling" if change < 0 else "flat",
        confusion=[_confusion(a, b, grid, tuple(grades_best_first)) for a, b in itertools.combinations(raters, 2)],
        leniency=[_leniency(r, grid) for r in raters],
    )


def _ordinal_alpha(units: list[dict[str, int]], raters: tuple[str, ...], scale: int) -> float | None:
    if len(raters) < 2 or not any(len(unit) >= 2 for unit in units):
        return None
    data = [[unit.get(r) for unit in units] for r in raters]
    return krippendorff_alpha(data, "ordinal", value_domain=range(scale))


def _round_alpha(
    number: int, grid: dict[tuple[int, str], dict[str, int]], raters: tuple[str, ...], scale: int
) -> RoundAlpha:
    alpha = _ordinal_alpha(list(grid.values()), raters, scale)
    return RoundAlpha(
        round=number,
        vignettes=sum(len(unit) >= 2 for unit in grid.values()),
        alpha=alpha,
        reading=alpha_reading(alpha) if alpha is not None else None,
    )


def _confusion(
    a: str, b: str, grid: dict[tuple[int, str], dict[str, int]], grades: tuple[str, ...]
) -> GradeConfusion:
    counts = [[0] * len(grades) for _ in grades]
    for unit in grid.values():
        if a in unit and b in unit:
            counts[unit[a]][unit[b]] += 1
    compared = sum(map(sum, counts))
    same = sum(counts[i][i] for i in range(len(grades)))
    return GradeConfusion(
        rater_a=a, rater_b=b, grades=grades, counts=counts, compared=compared,
        exact_agreement=same / compared if compared else None,
    )


def _leniency(rater: str, grid: dict[tuple[int, str], dict[str, int]]) -> Leniency:
    deviations = [
        statistics.median(r for other, r in unit.items() if other != rater) - unit[rater]
        for unit in grid.values()
        if rater in unit and len(unit) >= 2
    ]
    return Leniency(
        rater=rater,
        compared=len(deviations),
        leniency=float(statistics.fmean(deviations)) if deviations else None,
    )
