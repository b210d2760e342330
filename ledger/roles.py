"""Who may do what: the role each command needs, checked against the role recorded in the inspection."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.errors import PermissionDenied
from ledger.events import Role

if TYPE_CHECKING:
    from collections.abc import Mapping

LEAD, INSPECTOR, PANEL, MODERATOR, AUDITOR = Role.LEAD, Role.INSPECTOR, Role.PANEL, Role.MODERATOR, Role.AUDITOR
INSPECTORS = frozenset({LEAD, INSPECTOR})
EVERYONE = frozenset(Role)

#: Action -> the roles that may take it. Reading (log, replay, verify, reports) is open to every member.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "member.add": frozenset({LEAD}),
    "stage.enter": frozenset({LEAD}),
    "data.request": frozenset({LEAD}),
    "data.cost": frozenset({LEAD}),
    "source.add": INSPECTORS,
    "codebook.use": frozenset({LEAD}),
    "code.define": INSPECTORS,
    "code.change": INSPECTORS,
    "code.apply": INSPECTORS,
    "code.withdraw": INSPECTORS,
    "memo.write": frozenset({LEAD, INSPECTOR, PANEL, MODERATOR}),
    "hypothesis.change": INSPECTORS,
    "judgment.propose": INSPECTORS,
    "judgment.finalise": frozenset({LEAD}),
    "judgment.publish": frozenset({LEAD}),
    "panel.convene": frozenset({LEAD, PANEL}),
    "panel.revise": frozenset({PANEL}),
    "moderate": frozenset({MODERATOR}),
    "feedback.record": INSPECTORS,
    "agreement.assign": frozenset({LEAD}),
    "calibration.create": frozenset({LEAD, PANEL, MODERATOR}),
    "calibration.rate": frozenset({LEAD, INSPECTOR, PANEL, MODERATOR}),
    "read": EVERYONE,
}


def _article(role: Role) -> str:
    return "an" if str(role)[0] in "aeiou" else "a"


def require(members: Mapping[str, Role], person: str, action: str, inspection: str) -> Role:
    """The person's role if it allows ``action`` in this inspection; otherwise PermissionDenied."""
    allowed = PERMISSIONS[action]
    role = members.get(person)
    if role is None:
        raise PermissionDenied(
            f"{person} is not a member of inspection {inspection}; a lead inspector can add them with "
            f"'evidence member add {person} --role ROLE'."
        )
    if role not in allowed:
        wanted = " or ".join(sorted(str(r) for r in allowed))
        raise PermissionDenied(
            f"{person} is {_article(role)} {role} in inspection {inspection}, and '{action}' needs the role "
            f"{wanted}; ask the lead inspector, or act as someone who holds it (--as)."
        )
    return role
