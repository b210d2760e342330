"""The Feedback aggregate: verbal feedback given about one judgment area, one aggregate per inspection and area.

Inspectors keep the authority informed during fieldwork and give feedback at the end; what they said, and any
grade it indicated, is recorded so that a replay can show where feedback differed from the recorded grade.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from ledger.aggregate import Aggregate, applies
from ledger.application import natural_id
from ledger.errors import BadInput
from ledger.events import Event
from ledger.inspection import Stage
from ledger.judgment import area_of, check_grade

from uuid import UUID  # noqa: TC003 - msgspec reads event annotations at run time

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.contracts import Framework
    from ledger.inspection import Inspection


class Given(Event, frozen=True, kw_only=True):
    """Feedback about an area was given to an audience at a stage, perhaps indicating a grade."""

    TOPIC = "Feedback.Given"
    inspection: UUID
    area: str
    stage: Stage
    audience: str
    message: str
    grade: str | None = None


class Item(msgspec.Struct, frozen=True, kw_only=True):
    """One piece of feedback as the aggregate keeps it."""

    stage: Stage
    audience: str
    message: str
    grade: str | None
    by: str
    version: int


class Feedback(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.inspection: UUID | None = None
        self.area = ""
        self.items: list[Item] = []

    @applies(Given)
    def _given(self, e: Given) -> None:
        self.inspection, self.area = e.inspection, e.area
        self.items.append(
            Item(stage=e.stage, audience=e.audience, message=e.message, grade=e.grade, by=e.actor,
                 version=e.originator_version)
        )


def feedback_id(inspection_id: UUID, area: str) -> UUID:
    return natural_id("feedback", inspection_id.hex, area)


def parse_stage(value: str) -> Stage:
    try:
        return Stage(value.strip().lower())
    except ValueError:
        raise BadInput(f"{value!r} is not a stage; use one of: {', '.join(s.value for s in Stage)}.") from None


def record(
    ledger: Ledger, actor: str, inspection: Inspection, framework: Framework, *, area: str, stage: str,
    audience: str, message: str, grade: str | None = None,
) -> Given:
    """Record feedback given about ``area`` (inspectors only); ``grade`` must be on the area's scale."""
    role = inspection.require(actor, "feedback.record")
    area_of(framework, area)
    chosen = parse_stage(stage)
    clean = check_grade(framework, area, grade) if grade else None
    if not message.strip():
        raise BadInput("The feedback is empty; give what was said as the last argument.")
    if not audience.strip():
        raise BadInput("Say who the feedback was given to with --audience (e.g. 'director of children's services').")
    assert inspection.id is not None
    fid = feedback_id(inspection.id, area)
    target: Feedback | UUID = fid
    if ledger.exists(fid):
        target = ledger.get(Feedback, fid, what="feedback")
    event = ledger.event(
        Given, target, actor, role, inspection=inspection.id, area=area, stage=chosen, audience=audience.strip(),
        message=message.strip(), grade=clean,
    )
    ledger.append(event)
    return event
