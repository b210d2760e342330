"""The BiasReview aggregate: one per inspection, holding its reliability tiers and its recorded bias reviews.

Reliability tiers say how far each kind of source is trusted (``direct`` observation and records, then
``practitioner`` accounts, then ``authority`` self-report); an inspection may re-tier a kind. A recorded review
keeps the bias findings exactly as they were at a ledger position, so a replay shows them without recomputing
over the whole ledger.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from ledger.aggregate import Aggregate, applies
from ledger.application import natural_id
from ledger.contracts import BiasFinding
from ledger.errors import BadInput
from ledger.events import Event
from ledger.source import DEFAULT_TIER, TIERS, parse_kind, parse_tier

from uuid import UUID  # noqa: TC003 - msgspec reads event annotations at run time

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from ledger.application import Ledger
    from ledger.inspection import Inspection


class TiersConfigured(Event, frozen=True, kw_only=True):
    """The inspection set the reliability tier of some kinds of source (kind -> tier); others keep theirs."""

    TOPIC = "BiasReview.TiersConfigured"
    inspection: UUID
    tiers: dict[str, str]


class Recorded(Event, frozen=True, kw_only=True):
    """The bias checks were run and their findings kept, as they stood at ledger position ``through``."""

    TOPIC = "BiasReview.Recorded"
    inspection: UUID
    through: int
    area: str | None
    checks: tuple[str, ...]
    findings: tuple[BiasFinding, ...]


class BiasReview(Aggregate):
    """An inspection's tier settings and how many reviews it recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.inspection: UUID | None = None
        self.tiers: dict[str, str] = {}
        self.reviews = 0

    @applies(TiersConfigured)
    def _tiers(self, e: TiersConfigured) -> None:
        self.inspection = e.inspection
        self.tiers.update(e.tiers)

    @applies(Recorded)
    def _recorded(self, e: Recorded) -> None:
        self.inspection = e.inspection
        self.reviews += 1


def review_id(inspection_id: UUID) -> UUID:
    return natural_id("bias-review", inspection_id.hex)


def load(ledger: Ledger, inspection: Inspection) -> BiasReview:
    """The inspection's bias review (empty when nothing was configured or recorded yet)."""
    assert inspection.id is not None
    rid = review_id(inspection.id)
    if not ledger.exists(rid):
        empty = BiasReview()
        empty.inspection = inspection.id
        return empty
    return ledger.get(BiasReview, rid, what="bias review")


def effective_tiers(configured: Mapping[str, str]) -> dict[str, str]:
    """Every kind's tier: the defaults of ``ledger.source.DEFAULT_TIER`` overridden by ``configured``."""
    return {str(kind): tier for kind, tier in DEFAULT_TIER.items()} | dict(configured)


def parse_assignments(items: Iterable[str]) -> dict[str, str]:
    """``KIND=TIER`` strings -> {kind: tier}, each checked."""
    out: dict[str, str] = {}
    for item in items:
        kind, equals, tier = item.partition("=")
        if not equals or not tier.strip():
            raise BadInput(f"{item!r} is not KIND=TIER; write e.g. interview=direct (tiers: {', '.join(TIERS)}).")
        checked_kind = str(parse_kind(kind))
        checked_tier = parse_tier(tier.strip())
        assert checked_tier is not None
        out[checked_kind] = checked_tier
    if not out:
        raise BadInput(f"Give at least one KIND=TIER, e.g. interview=direct (tiers: {', '.join(TIERS)}).")
    return out


def configure_tiers(ledger: Ledger, actor: str, inspection: Inspection, tiers: Mapping[str, str]) -> dict[str, str]:
    """Set reliability tiers for kinds of source (lead inspectors only); returns every kind's tier."""
    role = inspection.require(actor, "codebook.use")
    review = load(ledger, inspection)
    current = effective_tiers(review.tiers)
    changes = {kind: tier for kind, tier in sorted(tiers.items()) if current.get(kind) != tier}
    if not changes:
        raise BadInput("Those kinds have those tiers already; nothing to change.")
    assert inspection.id is not None
    target = review if review.version else review_id(inspection.id)
    ledger.append(ledger.event(TiersConfigured, target, actor, role, inspection=inspection.id, tiers=changes))
    return current | changes


def record(
    ledger: Ledger, actor: str, inspection: Inspection, findings: Iterable[BiasFinding], *, through: int,
    area: str | None, checks: Iterable[str],
) -> Recorded:
    """Keep the findings of a bias review made at ledger position ``through`` (inspectors only)."""
    role = inspection.require(actor, "hypothesis.change")
    review = load(ledger, inspection)
    assert inspection.id is not None
    # Round-trip through JSON so that what is kept equals what a later read decodes (no tuples in details).
    kept = tuple(msgspec.json.decode(msgspec.json.encode(f), type=BiasFinding) for f in findings)
    target = review if review.version else review_id(inspection.id)
    event = ledger.event(
        Recorded, target, actor, role, inspection=inspection.id, through=through, area=area,
        checks=tuple(checks), findings=kept,
    )
    ledger.append(event)
    return event
