"""Unitization: turn coders' codings into a coders x units matrix of 1 / 0 / None for one code.

A coding covers the half-open span ``[start, end)`` of a source, in code points. Agreement can only be
measured over units, so the same codings give different figures depending on the unit chosen:

* ``character`` - every code point is a unit. Stored as runs (maximal stretches where no coder's state
  changes) with their length as weight, so memory grows with the number of codings, not of characters.
* ``segment`` - the coders' segments for the code, merged into clusters of overlapping segments; each cluster
  is one unit, applied by a coder if any of their segments falls in it. Each uncoded stretch between clusters
  is one unit too.
* ``source`` - a whole source is one unit, applied by a coder if they coded the code anywhere in it.

A coder is *missing* (None) on a source they did not code at all (no coding of any code there) unless
``also_read`` says they read it; a coder who read a source but did not apply the code gives 0.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Literal

import msgspec

from ledger.errors import BadInput

Unit = Literal["character", "segment", "source"]
UNITS: tuple[str, ...] = ("character", "segment", "source")


class Coding(msgspec.Struct, frozen=True, kw_only=True):
    """One coder's application of one code to the span ``[start, end)`` (code points) of a source."""

    coder: str
    source: str
    start: int
    end: int
    code: str


class Span(msgspec.Struct, frozen=True, kw_only=True):
    """Where a unit lies: ``[start, end)`` in code points of ``source``."""

    source: str
    start: int
    end: int


class UnitTable(msgspec.Struct, frozen=True, kw_only=True):
    """The units for one code: ``values[coder][unit]`` is 1, 0 or None; ``weights[unit]`` is how many units
    of ``unit`` kind the column stands for (a run's length in characters; always 1 for segment and source)."""

    unit: str
    code: str
    coders: tuple[str, ...]
    spans: list[Span]
    values: list[list[int | None]]
    weights: list[int]

    @property
    def size(self) -> int:
        """The number of units (characters for the character unit)."""
        return sum(self.weights)


def unitize(
    codings: Iterable[Coding],
    source_lengths: Mapping[str, int],
    coders: Sequence[str],
    code: str,
    unit: Unit,
    exclude_uncoded: bool,
    *,
    also_read: Mapping[str, Collection[str]] | None = None,
) -> list[list[int | None]]:
    """The coders x units matrix for ``code``, one column per unit (per character for ``character``).

    This expands character runs, so it costs characters x coders memory; reports use :func:`unit_table`.
    """
    table = unit_table(codings, source_lengths, coders, code, unit, exclude_uncoded, also_read=also_read)
    return [[value for value, weight in zip(row, table.weights) for _ in range(weight)] for row in table.values]


def unit_table(
    codings: Iterable[Coding],
    source_lengths: Mapping[str, int],
    coders: Sequence[str],
    code: str,
    unit: Unit,
    exclude_uncoded: bool,
    *,
    also_read: Mapping[str, Collection[str]] | None = None,
) -> UnitTable:
    """The units for ``code`` with their spans and weights (see the module docstring for each unit).

    Codings by coders not in ``coders`` are ignored. Sources are taken in sorted order, units by position.
    ``also_read`` maps a coder to sources they read in full but may not have coded.
    """
    if unit not in UNITS:
        raise BadInput(f"Unknown unit {unit!r}: use one of {', '.join(UNITS)}.")
    if len(set(coders)) != len(coders):
        raise BadInput("A coder is listed twice: give each coder once.")
    wanted = set(coders)
    mine = [c for c in codings if c.coder in wanted]
    for coding in mine:
        _check_span(coding, source_lengths)
    read: dict[str, set[str]] = defaultdict(set)  # source -> coders who read it
    spans: dict[str, list[tuple[int, int, str]]] = defaultdict(list)  # source -> (start, end, coder)
    for coding in mine:
        read[coding.source].add(coding.coder)
        if coding.code == code:
            spans[coding.source].append((coding.start, coding.end, coding.coder))
    for coder, sources in (also_read or {}).items():
        for source in sources:
            if coder in wanted:
                read[source].add(coder)
    cut = {"character": _character_units, "segment": _segment_units, "source": _source_units}[unit]
    columns: list[tuple[Span, dict[str, int], int]] = []
    for source in sorted(source_lengths):
        present = read.get(source, set())
        for span, applied, weight in cut(source, source_lengths[source], spans.get(source, [])):
            if exclude_uncoded and not applied:
                continue
            values = {coder: (1 if coder in applied else 0) for coder in present}
            columns.append((span, values, weight))
    return UnitTable(
        unit=unit,
        code=code,
        coders=tuple(coders),
        spans=[span for span, _, _ in columns],
        values=[[values.get(coder) for _, values, _ in columns] for coder in coders],
        weights=[weight for _, _, weight in columns],
    )


def _check_span(coding: Coding, source_lengths: Mapping[str, int]) -> None:
    length = source_lengths.get(coding.source)
    if length is None:
        raise BadInput(f"Coding by {coding.coder} names source {coding.source!r}, which has no length given.")
    if not 0 <= coding.start < coding.end <= length:
        raise BadInput(
            f"Coding by {coding.coder} on {coding.source!r} spans [{coding.start}, {coding.end}), "
            f"which is empty or outside the source's {length} characters."
        )


Cut = list[tuple[Span, frozenset[str], int]]


def _source_units(source: str, length: int, spans: list[tuple[int, int, str]]) -> Cut:
    return [(Span(source=source, start=0, end=length), frozenset(coder for _, _, coder in spans), 1)]


def _segment_units(source: str, length: int, spans: list[tuple[int, int, str]]) -> Cut:
    """Clusters of overlapping segments (touching ones stay apart), with the uncoded stretches between."""
    units: Cut = []
    position = 0  # end of the last unit emitted
    first, last, members = 0, 0, set[str]()
    for start, end, coder in sorted(spans) + [(length, length, "")]:
        if members and start >= last:
            if first > position:
                units.append((Span(source=source, start=position, end=first), frozenset(), 1))
            units.append((Span(source=source, start=first, end=last), frozenset(members), 1))
            position, members = last, set()
        if not members:
            first, last = start, end
        members.add(coder)
        last = max(last, end)
    if length > position:
        units.append((Span(source=source, start=position, end=length), frozenset(), 1))
    return units


def _character_units(source: str, length: int, spans: list[tuple[int, int, str]]) -> Cut:
    """Runs of characters over which no coder's state changes, weighted by their length."""
    changes: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for start, end, coder in spans:
        changes[start][coder] += 1
        changes[end][coder] -= 1
    bounds = sorted(set(changes) | {0, length})
    depth: dict[str, int] = defaultdict(int)
    units: Cut = []
    for start, end in zip(bounds, bounds[1:]):
        for coder, delta in changes.get(start, {}).items():
            depth[coder] += delta
        applied = frozenset(coder for coder, d in depth.items() if d > 0)
        units.append((Span(source=source, start=start, end=end), applied, end - start))
    return units
