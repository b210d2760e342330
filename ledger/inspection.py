"""The Inspection aggregate: opened, members joined with roles, stages entered, Annex A data requested.

An inspection is named by its reference (``barnet-2017``); its id is derived from the name, so opening the same
reference twice is recognised.
"""

from __future__ import annotations

import enum
import re
from datetime import date
from typing import TYPE_CHECKING

from ledger import roles
from ledger.aggregate import Aggregate, applies
from ledger.application import natural_id
from ledger.errors import AlreadyExists, BadInput, NotFound
from ledger.events import Event, Role

if TYPE_CHECKING:
    from uuid import UUID

    from ledger.application import Ledger


class Stage(enum.StrEnum):
    PREPARATION = "preparation"
    FIELDWORK = "fieldwork"
    TEAM_MEETING = "team-meeting"
    FEEDBACK = "feedback"
    PANEL = "panel"
    MODERATION = "moderation"
    PUBLISHED = "published"


class Opened(Event, frozen=True, kw_only=True):
    """An inspection was opened; the person opening it is its lead inspector."""

    TOPIC = "Inspection.Opened"
    reference: str
    authority: str
    framework: str
    starts: date | None = None
    ends: date | None = None


class MemberJoined(Event, frozen=True, kw_only=True):
    """A person joined the inspection team in a role (a later join changes the role).

    Version 2 added ``display_name``; version-1 events are upcast with the person's id as their name.
    """

    TOPIC = "Inspection.MemberJoined"
    CLASS_VERSION = 2
    person: str
    member_role: Role
    display_name: str

    @staticmethod
    def upcast_v1_v2(state: dict) -> None:
        state["display_name"] = state["person"]


class StageEntered(Event, frozen=True, kw_only=True):
    """The inspection moved to a stage of the process."""

    TOPIC = "Inspection.StageEntered"
    stage: Stage


class Inspection(Aggregate):
    """What the ledger knows of an inspection: its reference, authority, framework, team and stage."""

    def __init__(self) -> None:
        super().__init__()
        self.reference = ""
        self.authority = ""
        self.framework = ""
        self.starts: date | None = None
        self.ends: date | None = None
        self.members: dict[str, Role] = {}
        self.names: dict[str, str] = {}
        self.stage = Stage.PREPARATION
        self.stages: list[tuple[Stage, str]] = []

    @applies(Opened)
    def _opened(self, e: Opened) -> None:
        self.reference, self.authority, self.framework = e.reference, e.authority, e.framework
        self.starts, self.ends = e.starts, e.ends
        self.members[e.actor] = Role.LEAD
        self.names[e.actor] = e.actor

    @applies(MemberJoined)
    def _joined(self, e: MemberJoined) -> None:
        self.members[e.person] = e.member_role
        self.names[e.person] = e.display_name

    @applies(StageEntered)
    def _stage(self, e: StageEntered) -> None:
        self.stage = e.stage
        self.stages.append((e.stage, e.timestamp.isoformat()))

    def require(self, person: str, action: str) -> Role:
        """The person's role, if it allows ``action`` here; PermissionDenied otherwise."""
        return roles.require(self.members, person, action, self.reference)


REFERENCE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")


def inspection_id(reference: str) -> UUID:
    return natural_id("inspection", reference)


def load(ledger: Ledger, reference: str) -> Inspection:
    """The inspection with this reference, or a NotFound that says how to open one."""
    if not REFERENCE.match(reference or ""):
        raise BadInput(
            f"{reference!r} is not an inspection reference; use 2-63 lower-case letters, digits, '.', '_' or '-'."
        )
    try:
        return ledger.get(Inspection, inspection_id(reference), what="inspection")
    except NotFound:
        raise NotFound(
            f"No inspection {reference!r} in this ledger; open it with 'evidence inspection open {reference}'."
        ) from None


def open_inspection(
    ledger: Ledger,
    actor: str,
    reference: str,
    *,
    authority: str,
    framework: str,
    starts: date | None = None,
    ends: date | None = None,
) -> Inspection:
    """Open a new inspection with ``actor`` as its lead inspector."""
    if not REFERENCE.match(reference or ""):
        raise BadInput(
            f"{reference!r} is not an inspection reference; use 2-63 lower-case letters, digits, '.', '_' or '-'."
        )
    if not authority.strip():
        raise BadInput("The local authority's name is empty; give it with --authority NAME.")
    if starts and ends and ends < starts:
        raise BadInput(f"The inspection ends ({ends}) before it starts ({starts}); check the dates.")
    new_id = inspection_id(reference)
    if ledger.exists(new_id):
        raise AlreadyExists(f"Inspection {reference!r} was opened already; pick another reference.")
    event = ledger.event(
        Opened, new_id, actor, Role.LEAD,
        reference=reference, authority=authority.strip(), framework=framework, starts=starts, ends=ends,
    )
    ledger.append(event)
    return Inspection.project(None, [event])  # type: ignore[return-value]


def add_member(ledger: Ledger, actor: str, reference: str, person: str, role: Role, name: str = "") -> Role | None:
    """Record that ``person`` joined the team in ``role`` (lead inspectors only); returns their earlier role."""
    inspection = load(ledger, reference)
    acting_role = inspection.require(actor, "member.add")
    if not re.match(r"^[\w.@-]{1,64}$", person or ""):
        raise BadInput(f"{person!r} is not a person id; use letters, digits, '.', '_', '@' or '-'.")
    if inspection.members.get(person) == role:
        raise AlreadyExists(f"{person} is already {roles._article(role)} {role} in {reference}.")
    leads = [p for p, r in inspection.members.items() if r == Role.LEAD]
    if leads == [person] and role != Role.LEAD:
        raise BadInput(
            f"{person} is the only lead inspector of {reference}; add another lead inspector first, "
            "so that someone can still manage the inspection."
        )
    ledger.append(
        ledger.event(
            MemberJoined, inspection, actor, acting_role,
            person=person, member_role=role, display_name=name.strip() or person,
        )
    )
    return inspection.members.get(person)


def enter_stage(ledger: Ledger, actor: str, reference: str, stage: Stage) -> None:
    """Move the inspection to ``stage`` (lead inspectors only); stages may be revisited but not repeated."""
    inspection = load(ledger, reference)
    acting_role = inspection.require(actor, "stage.enter")
    if inspection.stages and inspection.stage == stage:
        raise AlreadyExists(f"Inspection {reference} is already in the {stage} stage.")
    ledger.append(ledger.event(StageEntered, inspection, actor, acting_role, stage=stage))
