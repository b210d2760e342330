"""The Panel aggregate: a consistency panel convened for an inspection, its members, and its decision.

Panels of an inspection are numbered 1, 2, ... and their ids derive from (inspection, number), so the sitting
panel is found by id, never by scanning. Its grade changes are ``Judgment.PanelRevised`` events on the
judgments themselves (see ``ledger.judgment``), each naming the panel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.aggregate import Aggregate, applies
from ledger.application import natural_id
from ledger.errors import BadInput, NotFound
from ledger.events import Event, Role

from uuid import UUID  # noqa: TC003 - msgspec reads event annotations at run time

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ledger.application import Ledger
    from ledger.inspection import Inspection


class Convened(Event, frozen=True, kw_only=True):
    """A consistency panel was convened with these members (people holding the panel-member role)."""

    TOPIC = "Panel.Convened"
    inspection: UUID
    number: int
    members: tuple[str, ...]
    purpose: str = ""


class Decided(Event, frozen=True, kw_only=True):
    """The panel reached its decision and rose; grades it did not revise stand as proposed."""

    TOPIC = "Panel.Decided"
    decision: str


class Panel(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.inspection: UUID | None = None
        self.number = 0
        self.members: tuple[str, ...] = ()
        self.purpose = ""
        self.convener = ""
        self.decided = False
        self.decision = ""

    @applies(Convened)
    def _convened(self, e: Convened) -> None:
        self.inspection, self.number, self.members, self.purpose = e.inspection, e.number, e.members, e.purpose
        self.convener = e.actor

    @applies(Decided)
    def _decided(self, e: Decided) -> None:
        self.decided, self.decision = True, e.decision


def panel_id(inspection_id: UUID, number: int) -> UUID:
    return natural_id("panel", inspection_id.hex, number)


def latest(ledger: Ledger, inspection: Inspection) -> Panel | None:
    """The inspection's most recently convened panel (found by probing ids 1, 2, ...), or None."""
    assert inspection.id is not None
    found: Panel | None = None
    number = 1
    while True:
        try:
            found = ledger.get(Panel, panel_id(inspection.id, number), what="panel")
        except NotFound:
            return found
        number += 1


def sitting(ledger: Ledger, inspection: Inspection) -> Panel:
    """The panel sitting now, or a BadInput saying how to convene one."""
    panel = latest(ledger, inspection)
    if panel is None or panel.decided:
        raise BadInput(
            f"No panel is sitting for {inspection.reference}; convene one with 'evidence panel convene --members A,B'."
        )
    return panel


def convene(ledger: Ledger, actor: str, inspection: Inspection, members: Sequence[str], purpose: str = "") -> Panel:
    """Convene a new panel of inspection members who hold the panel-member role."""
    role = inspection.require(actor, "panel.convene")
    chosen = tuple(dict.fromkeys(m.strip() for m in members if m.strip()))
    if not chosen:
        raise BadInput("Name the panel's members with --members A,B (people with the panel-member role).")
    for person in chosen:
        if inspection.members.get(person) != Role.PANEL:
            raise BadInput(
                f"{person} is not a panel member in {inspection.reference}; a lead inspector can add them with "
                f"'evidence member add {person} --role panel-member'."
            )
    previous = latest(ledger, inspection)
    if previous is not None and not previous.decided:
        raise BadInput(
            f"Panel {previous.number} is still sitting; record its decision with "
            "'evidence panel decide --because TEXT' first."
        )
    assert inspection.id is not None
    number = previous.number + 1 if previous else 1
    event = ledger.event(
        Convened, panel_id(inspection.id, number), actor, role,
        inspection=inspection.id, number=number, members=chosen, purpose=purpose.strip(),
    )
    ledger.append(event)
    return Panel.project(None, [event])  # type: ignore[return-value]


def decide(ledger: Ledger, actor: str, inspection: Inspection, decision: str) -> Panel:
    """Record the sitting panel's decision (one of its members, or whoever convened it), closing it."""
    role = inspection.require(actor, "panel.convene")
    panel = sitting(ledger, inspection)
    if actor not in panel.members and actor != panel.convener:
        raise BadInput(
            f"{actor} neither sits on panel {panel.number} nor convened it; a member must record its decision."
        )
    if not decision.strip():
        raise BadInput("Say what the panel decided with --because TEXT.")
    event = ledger.event(Decided, panel, actor, role, decision=decision.strip())
    ledger.append(event)
    panel.apply(event)
    return panel
