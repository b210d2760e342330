"""The Annex A aggregate: one per inspection, the data lists requested from the authority and what each cost.

Annex A lists (ILACS numbering, 1-11) are child-level lists the authority supplies. The lead inspector records
that an item was requested and what the authority declared it cost to produce (hours, and optionally pounds),
so that a cost-benefit report can weigh each item against how often its evidence was coded and cited. Money is
held as whole pence and hours as a decimal string: never floats.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING

from ledger.aggregate import Aggregate, applies
from ledger.application import natural_id
from ledger.errors import AlreadyExists, BadInput
from ledger.events import Event

from uuid import UUID  # noqa: TC003 - msgspec reads event annotations at run time

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.inspection import Inspection

#: Annex A item number -> its name (ILACS list numbering).
ITEMS: dict[int, str] = {
    1: "contacts",
    2: "early help",
    3: "referrals",
    4: "assessments",
    5: "s47 enquiries and initial conferences",
    6: "children in need",
    7: "child protection",
    8: "children in care",
    9: "care leavers",
    10: "adoption",
    11: "adopters",
}

#: Largest declared cost we accept: a sanity bound against typing errors (10,000 hours, £10m).
MAX_HOURS = Decimal(10_000)
MAX_PENCE = 1_000_000_000


class ItemRequested(Event, frozen=True, kw_only=True):
    """The lead inspector recorded that an Annex A item was requested from the authority."""

    TOPIC = "AnnexA.ItemRequested"
    inspection: UUID
    item: int
    note: str = ""


class CostDeclared(Event, frozen=True, kw_only=True):
    """The authority declared what producing an Annex A item cost (a later declaration replaces it).

    ``hours`` is a non-negative decimal string ("12.5"); ``pence`` is whole pence, or None when no money
    cost was declared.
    """

    TOPIC = "AnnexA.CostDeclared"
    inspection: UUID
    item: int
    hours: str
    pence: int | None = None
    note: str = ""


class AnnexA(Aggregate):
    """What was requested and what each item cost, as last declared."""

    def __init__(self) -> None:
        super().__init__()
        self.inspection: UUID | None = None
        self.requested: dict[int, str] = {}
        self.costs: dict[int, tuple[str, int | None]] = {}

    @applies(ItemRequested)
    def _requested(self, e: ItemRequested) -> None:
        self.inspection = e.inspection
        self.requested[e.item] = e.note

    @applies(CostDeclared)
    def _declared(self, e: CostDeclared) -> None:
        self.inspection = e.inspection
        self.costs[e.item] = (e.hours, e.pence)


def annex_a_id(inspection_id: UUID) -> UUID:
    return natural_id("annex-a", inspection_id.hex)


def _listing() -> str:
    return ", ".join(f"{number} {name}" for number, name in ITEMS.items())


def parse_item(value: str | int) -> int:
    """An item number from a number ("3") or a name ("referrals"); BadInput naming the items otherwise."""
    text = str(value).strip().lower()
    if text.isdigit() and int(text) in ITEMS:
        return int(text)
    for number, name in ITEMS.items():
        if text == name:
            return number
    raise BadInput(f"Annex A item {str(value)!r} does not exist; use a number 1 to 11 or a name ({_listing()}).")


def _decimal(value: str, what: str, option: str) -> Decimal:
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise BadInput(f"{what} {value!r} is not a number; give it like {option} 12.5.") from None
    if not number.is_finite():
        raise BadInput(f"{what} {value!r} is not a number; give it like {option} 12.5.")
    if number < 0:
        raise BadInput(f"{what} {value} is negative; a declared cost is zero or more.")
    return number


def parse_hours(value: str) -> str:
    """Hours as a normalised decimal string (at most two decimal places), refusing negative or absurd values."""
    hours = _decimal(value, "The number of hours", "--hours")
    if hours > MAX_HOURS:
        raise BadInput(f"{hours} hours is more than {MAX_HOURS}; check the figure the authority declared.")
    if hours != hours.quantize(Decimal("0.01")):
        raise BadInput(f"The hours {value} have more than two decimal places; round them to the nearest 0.01.")
    return format(hours.quantize(Decimal("0.01")).normalize(), "f")


def parse_pounds(value: str | None) -> int | None:
    """Pounds ("1250", "1,250.50") as whole pence; None when not given."""
    if value is None or str(value).strip() == "":
        return None
    pounds = _decimal(str(value).lstrip("£"), "The cost in pounds", "--pounds")
    if pounds != pounds.quantize(Decimal("0.01")):
        raise BadInput(f"The cost £{value} has fractions of a penny; give pounds and pence, like 1250.50.")
    pence = int((pounds * 100).to_integral_value(ROUND_HALF_UP))
    if pence > MAX_PENCE:
        raise BadInput(f"£{pounds} is more than £{MAX_PENCE // 100:,}; check the figure the authority declared.")
    return pence


def load(ledger: Ledger, inspection: Inspection) -> AnnexA | None:
    """The inspection's Annex A record, or None when nothing was recorded yet."""
    assert inspection.id is not None
    aid = annex_a_id(inspection.id)
    return ledger.get(AnnexA, aid, what="annex a record") if ledger.exists(aid) else None


def request(ledger: Ledger, actor: str, inspection: Inspection, item: str | int, note: str = "") -> ItemRequested:
    """Record that Annex A ``item`` was requested from the authority (lead inspector)."""
    role = inspection.require(actor, "data.request")
    number = parse_item(item)
    state = load(ledger, inspection)
    if state is not None and number in state.requested:
        raise AlreadyExists(f"Annex A item {number} ({ITEMS[number]}) was recorded as requested already.")
    assert inspection.id is not None
    event = ledger.event(
        ItemRequested, state or annex_a_id(inspection.id), actor, role,
        inspection=inspection.id, item=number, note=note.strip(),
    )
    ledger.append(event)
    return event


def declare_cost(
    ledger: Ledger, actor: str, inspection: Inspection, item: str | int, hours: str, pounds: str | None = None,
    note: str = "",
) -> CostDeclared:
    """Record what the authority declared ``item`` cost to produce (lead inspector); replaces an earlier figure."""
    role = inspection.require(actor, "data.cost")
    number = parse_item(item)
    clean_hours = parse_hours(hours)
    pence = parse_pounds(pounds)
    state = load(ledger, inspection)
    if state is not None and state.costs.get(number) == (clean_hours, pence):
        raise AlreadyExists(f"Annex A item {number} ({ITEMS[number]}) is declared at that cost already.")
    assert inspection.id is not None
    event = ledger.event(
        CostDeclared, state or annex_a_id(inspection.id), actor, role,
        inspection=inspection.id, item=number, hours=clean_hours, pence=pence, note=note.strip(),
    )
    ledger.append(event)
    return event
