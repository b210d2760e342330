"""The Memo aggregate: an analyst's note on an inspection, source, coding, code, hypothesis or judgment.

Amending a memo keeps every earlier text in the history.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Literal

from ledger.aggregate import Aggregate, applies
from ledger.errors import BadInput, NotFound
from ledger.events import Event

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.inspection import Inspection

Target = Literal["inspection", "source", "coding", "code", "hypothesis", "judgment"]
TARGETS: tuple[str, ...] = ("inspection", "source", "coding", "code", "hypothesis", "judgment")


class Written(Event, frozen=True, kw_only=True):
    """A memo was written on a target: an inspection, source, coding, code, hypothesis or judgment."""

    TOPIC = "Memo.Written"
    inspection: uuid.UUID
    target_kind: Target
    target: str
    text: str


class Amended(Event, frozen=True, kw_only=True):
    """The memo's author replaced its text; the earlier text stays in the history."""

    TOPIC = "Memo.Amended"
    text: str


class Memo(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.inspection: uuid.UUID | None = None
        self.target_kind = "inspection"
        self.target = ""
        self.text = ""
        self.author = ""
        self.history: list[str] = []

    @applies(Written)
    def _written(self, e: Written) -> None:
        self.inspection, self.target_kind, self.target, self.text, self.author = (
            e.inspection, e.target_kind, e.target, e.text, e.actor,
        )

    @applies(Amended)
    def _amended(self, e: Amended) -> None:
        self.history.append(self.text)
        self.text = e.text


def write(ledger: Ledger, actor: str, inspection: Inspection, target_kind: str, target: str, text: str) -> uuid.UUID:
    """Write a memo on a target (its id or code id, already resolved by the caller)."""
    role = inspection.require(actor, "memo.write")
    if target_kind not in TARGETS:
        raise BadInput(f"{target_kind!r} is not something a memo can be on; use one of: {', '.join(TARGETS)}.")
    if not text.strip():
        raise BadInput("The memo is empty; write its text as the last argument (or '-' to read standard input).")
    memo_id = uuid.uuid4()
    ledger.append(ledger.event(Written, memo_id, actor, role, inspection=inspection.id,
                               target_kind=target_kind, target=target, text=text.strip()))  # type: ignore[arg-type]
    return memo_id


def load(ledger: Ledger, prefix: str, inspection: Inspection) -> Memo:
    mid = ledger.resolve(prefix, [Written.TOPIC], "memo")
    memo = ledger.get(Memo, mid, what="memo")
    if memo.inspection != inspection.id:
        raise NotFound(f"Memo {prefix} belongs to another inspection than {inspection.reference}.")
    return memo


def amend(ledger: Ledger, actor: str, inspection: Inspection, memo: Memo, text: str) -> None:
    role = inspection.require(actor, "memo.write")
    if memo.author != actor:
        raise BadInput(f"Memo {memo.id.hex[:8]} is {memo.author}'s; write your own memo instead of amending theirs.")
    if not text.strip():
        raise BadInput("The amended text is empty.")
    if text.strip() == memo.text:
        raise BadInput("The amended text is the same as the memo's current text; nothing to change.")
    ledger.append(ledger.event(Amended, memo, actor, role, text=text.strip()))
