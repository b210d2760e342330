"""Superseding a source: register the new version and move each coding onto the same passage in it.

A passage is placed when its exact text occurs in the new version; when it occurs several times, the
occurrence whose surrounding text matches best (and, on a tie, lies nearest the old position) is chosen.
Codings that cannot be placed are flagged with ``CodingUnplaced`` and stay on the old version.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ledger.coding import CodingRemapped, CodingUnplaced
from ledger.errors import AlreadyExists, BadInput
from ledger.source import Superseded, registration, source_id

if TYPE_CHECKING:
    from uuid import UUID

    from ledger.application import Ledger
    from ledger.coding import Coding
    from ledger.inspection import Inspection
    from ledger.source import NewSource, Source

CONTEXT = 40


def _agreement(a: str, b: str, *, backwards: bool) -> int:
    """How many characters two strings share from their inner ends (the side touching the passage)."""
    pairs = zip(reversed(a), reversed(b), strict=False) if backwards else zip(a, b, strict=False)
    count = 0
    for x, y in pairs:
        if x != y:
            break
        count += 1
    return count


def place(old: str, new: str, start: int, end: int) -> tuple[int, int] | None:
    """Where the passage ``old[start:end]`` stands in ``new``, or None if it is gone or cannot be told apart."""
    passage = old[start:end]
    starts = [m.start() for m in re.finditer(re.escape(passage), new)]
    if not starts:
        return None
    if len(starts) == 1:
        return starts[0], starts[0] + len(passage)
    before, after = old[max(0, start - CONTEXT) : start], old[end : end + CONTEXT]
    scored = sorted(
        (
            -(_agreement(before, new[max(0, s - CONTEXT) : s], backwards=True)
              + _agreement(after, new[s + len(passage) : s + len(passage) + CONTEXT], backwards=False)),
            abs(s - start),
            s,
        )
        for s in starts
    )
    if scored[0][:2] == scored[1][:2]:
        return None
    s = scored[0][2]
    return s, s + len(passage)


def supersede(
    ledger: Ledger, actor: str, inspection: Inspection, old: Source, item: NewSource, codings: list[Coding],
    rationale: str,
) -> tuple[UUID, int, int]:
    """Register ``item`` as the new version of ``old``; returns (new id, codings placed, codings unplaced)."""
    role = inspection.require(actor, "source.add")
    if not old.usable:
        raise BadInput(f"Source {old.id.hex[:8]} is withdrawn or superseded already; supersede its latest version.")
    if not rationale.strip():
        raise BadInput("Say why the source is replaced with --because TEXT.")
    assert inspection.id is not None
    new_id = source_id(inspection.id, item.text)
    if new_id == old.id or ledger.exists(new_id):
        raise AlreadyExists("That text is registered already; nothing was superseded.")
    events = [
        registration(ledger, new_id, actor, role, inspection.id, item, old.id),
        ledger.event(Superseded, old, actor, role, by=new_id, rationale=rationale.strip()),
    ]
    placed = unplaced = 0
    for coding in codings:
        if coding.withdrawn or coding.unplaced or coding.source != old.id:
            continue
        spot = place(old.text, item.text, coding.start, coding.end)
        if spot is None:
            unplaced += 1
            events.append(ledger.event(CodingUnplaced, coding, actor, role, superseded_by=new_id,
                                       reason="the passage is not in the new version, or not uniquely"))
        else:
            placed += 1
            events.append(ledger.event(CodingRemapped, coding, actor, role, source=new_id, start=spot[0], end=spot[1]))
    ledger.append(*events)
    return new_id, placed, unplaced
