"""Built-in inspection frameworks (SIF 2013, ILACS 2018), read from data files in ``plugins/data``.

A framework file holds the judgment areas, the grade scale and the grade meanings; its rules are small
named Python functions (``RULES``) that the file selects by name, with a severity, the areas they read
and the basis for the rule (a published rule, or a norm observed in published reports). The helpers
``grade_from_label``, ``read_outcomes_csv`` and ``norm_statistics`` read Ofsted outcome files so the
observed norms can be re-checked against published data.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from functools import cache
from typing import TYPE_CHECKING, Any

import msgspec

from ledger.contracts import GRADES, NOT_JUDGED, JudgmentArea, RuleFinding, Severity
from ledger.errors import BadInput, NotFound
from ledger.hookspecs import hookimpl


def _data_files():  # noqa: ANN202 - an importlib.resources Traversable
    """The packaged data folder (importlib.resources loads only when a data file is read)."""
    from importlib import resources

    return resources.files("plugins.data")

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from ledger.contracts import Framework

BUILTIN_FRAMEWORKS: tuple[str, ...] = ("sif-2013", "ilacs-2018")
_SUFFIX = ".framework.json"


class RuleSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One rule as a framework file selects it: ``check`` names a function in ``RULES``."""

    name: str
    check: str
    severity: Severity
    areas: tuple[str, ...]
    basis: str


class DataFramework(msgspec.Struct, frozen=True, kw_only=True):
    """A framework read from a data file; satisfies ``ledger.contracts.Framework``."""

    name: str
    title: str
    grades: tuple[str, ...]
    grade_meanings: dict[str, str]
    areas: tuple[JudgmentArea, ...]
    rules: tuple[RuleSpec, ...] = ()

    def check(self, grades: Mapping[str, str]) -> list[RuleFinding]:
        """Refuse unknown areas and off-scale grades, then run every rule over the graded areas."""
        by_id = {area.id: area for area in self.areas}
        findings: list[RuleFinding] = []
        graded: dict[str, str] = {}
        for area_id, grade in grades.items():
            area = by_id.get(area_id)
            if area is None:
                findings.append(_unknown_area(self, area_id))
            elif grade == NOT_JUDGED and area.allows_not_judged:
                continue
            elif grade not in self.grades:
                findings.append(_off_scale(self, area, grade))
            else:
                graded[area_id] = grade
        for spec in self.rules:
            finding = RULES[spec.check](spec, graded, self.grades)
            if finding is not None:
                findings.append(finding)
        return findings


class _StrictArea(JudgmentArea, forbid_unknown_fields=True):
    """A judgment area as written in a file: a misspelt field is an error, not silently dropped."""


class _FrameworkFile(DataFramework, forbid_unknown_fields=True):
    """The on-disk shape of a framework file."""

    areas: tuple[_StrictArea, ...]


# --- rules -----------------------------------------------------------------------------------

RULES: dict[str, Callable[[RuleSpec, Mapping[str, str], tuple[str, ...]], RuleFinding | None]] = {}

_NUMBERS = {2: "two", 3: "three"}


def rule(name: str) -> Callable[[Any], Any]:
    """Register a rule function under the name framework files use to select it."""

    def decorate(function: Any) -> Any:
        RULES[name] = function
        return function

    return decorate


def _say(grade: str) -> str:
    return grade.replace("-", " ")


def _join(items: Iterable[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _finding(spec: RuleSpec, message: str, areas: Iterable[str]) -> RuleFinding:
    sentence = message[:1].upper() + message[1:]
    return RuleFinding(rule=spec.name, severity=spec.severity, message=sentence, areas=tuple(areas))


@rule("inadequate-forces-overall")
def inadequate_forces_overall(
    spec: RuleSpec, graded: Mapping[str, str], scale: tuple[str, ...]
) -> RuleFinding | None:
    """Overall must be the worst grade when any of ``spec.areas`` has the worst grade."""
    worst = scale[-1]
    overall = graded.get("overall")
    failing = [area for area in spec.areas if graded.get(area) == worst]
    if overall is None or overall == worst or not failing:
        return None
    verb = "is" if len(failing) == 1 else "are"
    message = f"overall is {_say(overall)} but {_join(failing)} {verb} {_say(worst)}; {spec.basis}."
    return _finding(spec, message, ("overall", *failing))


@rule("overall-not-better-than")
def overall_not_better_than(
    spec: RuleSpec, graded: Mapping[str, str], scale: tuple[str, ...]
) -> RuleFinding | None:
    """Overall must not be better than any of ``spec.areas``."""
    overall = graded.get("overall")
    if overall is None:
        return None
    worse = [area for area in spec.areas if area in graded and scale.index(graded[area]) > scale.index(overall)]
    if not worse:
        return None
    named = _join(f"{area} ({_say(graded[area])})" for area in worse)
    return _finding(spec, f"overall is {_say(overall)}, better than {named}; {spec.basis}.", ("overall", *worse))


@rule("overall-within-one-of-worst")
def overall_within_one_of_worst(
    spec: RuleSpec, graded: Mapping[str, str], scale: tuple[str, ...]
) -> RuleFinding | None:
    """Overall must not be more than one grade better than the worst of ``spec.areas``."""
    overall = graded.get("overall")
    present = [area for area in spec.areas if area in graded]
    if overall is None or not present:
        return None
    worst = max(present, key=lambda area: scale.index(graded[area]))
    gap = scale.index(graded[worst]) - scale.index(overall)
    if gap <= 1:
        return None
    of_which = "" if len(spec.areas) == 1 else f", the worst of {_join(spec.areas)}"
    message = (
        f"overall is {_say(overall)}, {_NUMBERS.get(gap, str(gap))} grades better than "
        f"{worst} ({_say(graded[worst])}){of_which}; {spec.basis}."
    )
    return _finding(spec, message, ("overall", worst))


def _unknown_area(framework: DataFramework, area_id: str) -> RuleFinding:
    known = ", ".join(area.id for area in framework.areas)
    return RuleFinding(
        rule="unknown-area",
        severity="error",
        message=f"{area_id!r} is not a judgment area of {framework.name}; use one of {known}.",
        areas=(area_id,),
    )


def _off_scale(framework: DataFramework, area: JudgmentArea, grade: str) -> RuleFinding:
    allowed = list(framework.grades) + ([NOT_JUDGED] if area.allows_not_judged else [])
    return RuleFinding(
        rule="grade-off-scale",
        severity="error",
        message=f"{grade!r} is not a grade {area.id} can take in {framework.name}; use one of {', '.join(allowed)}.",
        areas=(area.id,),
    )


# --- loading ---------------------------------------------------------------------------------


def decode_framework(data: bytes, source: str) -> DataFramework:
    """Decode and validate a framework file; ``source`` names it in error messages."""
    try:
        raw = msgspec.json.decode(data, type=_FrameworkFile)
    except msgspec.DecodeError as error:
        raise BadInput(
            f"Framework file {source} is not valid ({error}); fix it to match plugins.frameworks.DataFramework."
        ) from None
    framework = DataFramework(
        name=raw.name,
        title=raw.title,
        grades=raw.grades,
        grade_meanings=raw.grade_meanings,
        areas=tuple(JudgmentArea(**msgspec.structs.asdict(area)) for area in raw.areas),
        rules=raw.rules,
    )
    problem = _problem(framework)
    if problem:
        raise BadInput(f"Framework file {source} is not valid: {problem}.")
    return framework


def _problem(framework: DataFramework) -> str | None:
    """The first thing wrong with a decoded framework, or None."""
    if not framework.grades or framework.grades != tuple(g for g in GRADES if g in framework.grades):
        return f"grades must be drawn from {', '.join(GRADES)}, best first"
    missing = [g for g in framework.grades if g not in framework.grade_meanings]
    if missing:
        return f"grade_meanings has no meaning for {', '.join(missing)}"
    extra = set(framework.grade_meanings) - {*framework.grades, NOT_JUDGED}
    if extra:
        return f"grade_meanings names grades not on the scale: {', '.join(sorted(extra))}"
    seen: set[str] = set()
    for area in framework.areas:
        if area.id in seen:
            return f"area {area.id!r} is defined twice"
        if area.parent is not None and area.parent not in seen:
            return f"area {area.id!r} has parent {area.parent!r}, which is not defined before it"
        seen.add(area.id)
    if [area.kind for area in framework.areas].count("overall") != 1 or "overall" not in seen:
        return "there must be exactly one area of kind 'overall', with id 'overall'"
    names = [spec.name for spec in framework.rules]
    for spec in framework.rules:
        if spec.check not in RULES:
            return f"rule {spec.name!r} selects unknown check {spec.check!r} (known: {', '.join(sorted(RULES))})"
        unknown = [area for area in spec.areas if area not in seen]
        if unknown or not spec.areas:
            return f"rule {spec.name!r} must name known areas, not {', '.join(unknown) or 'none'}"
        if names.count(spec.name) > 1:
            return f"rule {spec.name!r} is defined twice"
    return None


def available_frameworks() -> tuple[str, ...]:
    """Names of the framework files shipped in ``plugins/data``."""
    files = _data_files()
    return tuple(sorted(f.name[: -len(_SUFFIX)] for f in files.iterdir() if f.name.endswith(_SUFFIX)))


@cache
def load_framework(name: str) -> DataFramework:
    """Read the built-in framework ``name`` from its data file."""
    known = available_frameworks()
    if name not in known:
        raise NotFound(f"No built-in framework is named {name!r}; use one of {', '.join(known)}.")
    data = (_data_files() / f"{name}{_SUFFIX}").read_bytes()
    return decode_framework(data, f"{name}{_SUFFIX}")


@hookimpl
def register_frameworks(register: Callable[[Framework], None]) -> None:
    """Register SIF 2013 and ILACS 2018."""
    for name in BUILTIN_FRAMEWORKS:
        register(load_framework(name))


# --- published outcome files -----------------------------------------------------------------

_LABELS: dict[str, str] = {
    "1": "outstanding",
    "outstanding": "outstanding",
    "2": "good",
    "good": "good",
    "3": "requires-improvement",
    "requires improvement": "requires-improvement",
    "requires improvement to be good": "requires-improvement",
    "4": "inadequate",
    "inadequate": "inadequate",
    "5": NOT_JUDGED,
    "not judged": NOT_JUDGED,
}
_NO_GRADE = frozenset({"", "not reviewed in this report"})
_LABEL_HELP = "use Outstanding, Good, Requires improvement, Inadequate, Not judged or 1-5"
#: Columns of Ofsted outcome files that are not judgments; ``label`` or ``la`` names the row.
_META_COLUMNS = frozenset({"label", "la", "urn", "file_date", "published", "inspection_dates", "source_pdf"})


def grade_from_label(label: str) -> str | None:
    """The grade id for a label in an Ofsted file, or None where the file gives no grade."""
    key = " ".join(label.strip().lower().replace("-", " ").replace("_", " ").split())
    if key in _NO_GRADE:
        return None
    try:
        return _LABELS[key]
    except KeyError:
        raise BadInput(f"{label!r} is not a grade label; {_LABEL_HELP}.") from None


def read_outcomes_csv(text: str, framework: Framework) -> list[tuple[str, dict[str, str]]]:
    """Read a CSV of published outcomes into ``(label, {area id: grade id})`` rows.

    Columns are area ids (or their underscore forms), plus an optional ``label`` or ``la`` column;
    the other columns of the SIF outcomes file (urn, file_date, ...) are accepted and ignored.
    """
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise BadInput("The outcomes CSV is empty; give a header row of judgment areas such as overall, leadership.")
    header = [cell.strip() for cell in rows[0]]
    area_ids = [area.id for area in framework.areas]
    columns: dict[int, str] = {}
    for index, column in enumerate(header):
        area = column.lower().replace("_", "-")
        if area in area_ids:
            if area in columns.values():
                raise BadInput(f"The outcomes CSV has two columns for {area}; keep one.")
            columns[index] = area
        elif column.lower() not in _META_COLUMNS:
            raise BadInput(
                f"Column {column!r} is not a judgment area of {framework.name}; "
                f"use {', '.join(area_ids)} (or with underscores), label or la."
            )
    if not columns:
        raise BadInput(f"The outcomes CSV has no judgment-area columns; add some of {', '.join(area_ids)}.")
    out: list[tuple[str, dict[str, str]]] = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise BadInput(f"Line {line} of the outcomes CSV has {len(row)} fields but the header has {len(header)}.")
        values = {name.lower(): cell.strip() for name, cell in zip(header, row, strict=True)}
        label = _row_label(values, line)
        grades: dict[str, str] = {}
        for index, area in columns.items():
            try:
                grade = grade_from_label(row[index])
            except BadInput:
                raise BadInput(
                    f"Line {line} ({label}), column {header[index]}: {row[index]!r} is not a grade; {_LABEL_HELP}."
                ) from None
            if grade is not None:
                grades[area] = grade
        out.append((label, grades))
    return out


def _row_label(values: Mapping[str, str], line: int) -> str:
    if values.get("label"):
        return values["label"]
    if values.get("la"):
        return f"{values['la']} ({values['file_date']})" if values.get("file_date") else values["la"]
    return f"line {line}"


_SIF_KEYS = ("help-protection", "looked-after", "leadership")


def norm_statistics(rows: Iterable[tuple[str, Mapping[str, str]]]) -> dict[str, Any]:
    """Count how SIF outcome rows (as ``read_outcomes_csv`` returns them) bear out the observed norms.

    Comparisons skip rows where a needed area is missing or not judged. ``exceptions`` lists the
    labels of rows that break a norm or the hard rule.
    """
    counts: Counter[str] = Counter()
    looked_after: Counter[str] = Counter()
    exceptions: dict[str, list[str]] = {}

    def rank(grades: Mapping[str, str], area: str) -> int | None:
        grade = grades.get(area)
        return GRADES.index(grade) if grade in GRADES else None

    for label, grades in rows:
        counts["reports"] += 1
        overall, leadership = rank(grades, "overall"), rank(grades, "leadership")
        keys = [r for r in (rank(grades, area) for area in _SIF_KEYS) if r is not None]
        if overall is not None and leadership is not None:
            gap = overall - leadership
            fallback = "better-than" if gap < 0 else "more-than-one-worse-than"
            name = {0: "equal-to", 1: "one-worse-than"}.get(gap, fallback)
            counts[f"overall-{name}-leadership"] += 1
            if gap < 0:
                exceptions.setdefault("overall-better-than-leadership", []).append(label)
        if overall is not None and keys:
            gap = max(keys) - overall
            fallback = "worse-than" if gap < 0 else "more-than-one-better-than"
            name = {0: "equal-to", 1: "one-better-than"}.get(gap, fallback)
            counts[f"overall-{name}-worst-key"] += 1
            if gap > 1:
                exceptions.setdefault("overall-more-than-one-better-than-worst-key", []).append(label)
            if max(keys) == len(GRADES) - 1 and overall != len(GRADES) - 1:
                counts["key-inadequate-overall-not-inadequate"] += 1
                exceptions.setdefault("key-inadequate-overall-not-inadequate", []).append(label)
        if "inadequate" in (grades.get("adoption"), grades.get("care-leavers")):
            looked_after[grades.get("looked-after", "missing")] += 1

    names = ("equal-to", "one-worse-than", "more-than-one-worse-than", "better-than")
    result: dict[str, Any] = {"reports": counts["reports"]}
    result |= {f"overall-{name}-leadership": counts[f"overall-{name}-leadership"] for name in names}
    names = ("equal-to", "one-better-than", "more-than-one-better-than", "worse-than")
    result |= {f"overall-{name}-worst-key": counts[f"overall-{name}-worst-key"] for name in names}
    result["key-inadequate-overall-not-inadequate"] = counts["key-inadequate-overall-not-inadequate"]
    result["looked-after-when-adoption-or-care-leavers-inadequate"] = dict(looked_after)
    result["exceptions"] = exceptions
    return result
