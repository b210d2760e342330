"""The Source aggregate: what inspectors read, heard and saw, stored immutably and content-hashed.

A source's id derives from its inspection and the SHA-256 of its text, so registering the same content twice is
recognised. A new version supersedes the old one (see ``ledger.remap`` for moving codings across).
"""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime
from typing import TYPE_CHECKING

import msgspec

from ledger.aggregate import Aggregate, applies
from ledger.application import natural_id
from ledger.errors import BadInput, NotFound
from ledger.events import Event, Role

from uuid import UUID  # noqa: TC003 - msgspec reads event annotations at run time

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.contracts import ImportedSource
    from ledger.inspection import Inspection


class Kind(enum.StrEnum):
    CASE_RECORD = "case-record"
    INTERVIEW = "interview"
    CASE_DISCUSSION = "case-discussion"
    OBSERVATION = "observation"
    MEETING = "meeting"
    PERFORMANCE_DATA = "performance-data"
    SELF_ASSESSMENT = "self-assessment"
    AUDIT = "audit"
    CHILD_FEEDBACK = "child-feedback"
    FAMILY_FEEDBACK = "family-feedback"
    NOTEBOOK = "notebook"
    OTHER = "other"


#: Reliability tiers, most reliable first (configurable per inspection for the bias checks).
TIERS: tuple[str, ...] = ("direct", "practitioner", "authority")

DEFAULT_TIER: dict[Kind, str] = {
    Kind.CASE_RECORD: "direct",
    Kind.OBSERVATION: "direct",
    Kind.AUDIT: "direct",
    Kind.CHILD_FEEDBACK: "direct",
    Kind.FAMILY_FEEDBACK: "direct",
    Kind.INTERVIEW: "practitioner",
    Kind.CASE_DISCUSSION: "practitioner",
    Kind.MEETING: "practitioner",
    Kind.NOTEBOOK: "practitioner",
    Kind.OTHER: "practitioner",
    Kind.PERFORMANCE_DATA: "authority",
    Kind.SELF_ASSESSMENT: "authority",
}


class Registered(Event, frozen=True, kw_only=True):
    """A source was registered: its exact text (positions count code points in it) and provenance."""

    TOPIC = "Source.Registered"
    inspection: UUID
    title: str
    kind: Kind
    text: str
    content_hash: str
    format: str = "text"
    filename: str = ""
    case: str | None = None
    annex_a: int | None = None
    collected_at: datetime | None = None
    tier: str | None = None
    pages: tuple[int, ...] = ()
    metadata: dict[str, str] = {}
    supersedes: UUID | None = None


class Superseded(Event, frozen=True, kw_only=True):
    """A newer version of the source was registered; codings were remapped onto it where possible."""

    TOPIC = "Source.Superseded"
    by: UUID
    rationale: str


class Withdrawn(Event, frozen=True, kw_only=True):
    """The source was withdrawn from the evidence base (it stays in the history)."""

    TOPIC = "Source.Withdrawn"
    rationale: str


class Source(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.inspection: UUID | None = None
        self.title = ""
        self.kind = Kind.OTHER
        self.text = ""
        self.content_hash = ""
        self.case: str | None = None
        self.annex_a: int | None = None
        self.tier: str | None = None
        self.collector = ""
        self.superseded_by: UUID | None = None
        self.withdrawn = False

    @applies(Registered)
    def _registered(self, e: Registered) -> None:
        self.inspection, self.title, self.kind, self.text = e.inspection, e.title, e.kind, e.text
        self.content_hash, self.case, self.annex_a, self.tier = e.content_hash, e.case, e.annex_a, e.tier
        self.collector = e.actor

    @applies(Superseded)
    def _superseded(self, e: Superseded) -> None:
        self.superseded_by = e.by

    @applies(Withdrawn)
    def _withdrawn(self, e: Withdrawn) -> None:
        self.withdrawn = True

    @property
    def usable(self) -> bool:
        return not self.withdrawn and self.superseded_by is None


class NewSource(msgspec.Struct, kw_only=True):
    """A source about to be registered: what an importer read, completed by the command line's options."""

    title: str
    text: str
    kind: Kind
    format: str = "text"
    filename: str = ""
    case: str | None = None
    annex_a: int | None = None
    collected_at: datetime | None = None
    tier: str | None = None
    pages: tuple[int, ...] = ()
    metadata: dict[str, str] = {}


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def source_id(inspection_id: UUID, text: str) -> UUID:
    return natural_id("source", inspection_id.hex, content_hash(text))


def from_import(item: ImportedSource, *, kind: str | None, case: str | None, annex_a: int | None,
                collected_at: datetime | None, tier: str | None, filename: str) -> NewSource:
    """Combine what a file said about itself with the command-line options (the file's own values win)."""
    chosen = item.kind or kind
    if not chosen:
        raise BadInput(f"{filename}: say what kind of source it is with --kind (e.g. interview, case-record).")
    return NewSource(
        title=item.title or filename,
        text=item.text,
        kind=parse_kind(chosen),
        format=item.format,
        filename=filename,
        case=item.case or case,
        annex_a=item.annex_a if item.annex_a is not None else annex_a,
        collected_at=item.collected_at or collected_at,
        tier=parse_tier(item.tier or tier),
        pages=item.pages,
        metadata=dict(item.metadata),
    )


def parse_kind(value: str) -> Kind:
    try:
        return Kind(value.strip().lower())
    except ValueError:
        raise BadInput(f"{value!r} is not a source kind; use one of: {', '.join(k.value for k in Kind)}.") from None


def parse_tier(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if value not in TIERS:
        raise BadInput(f"{value!r} is not a reliability tier; use one of: {', '.join(TIERS)}.")
    return value


def check_annex_a(value: int | None) -> None:
    if value is not None and not 1 <= value <= 11:
        raise BadInput(f"Annex A item {value} does not exist; the items are numbered 1 to 11.")


def registration(
    ledger: Ledger, sid: UUID, actor: str, role: Role, inspection_id: UUID, item: NewSource, supersedes: UUID | None
) -> Registered:
    """The event that registers ``item`` as source ``sid`` of an inspection."""
    return ledger.event(
        Registered, sid, actor, role,
        inspection=inspection_id, title=item.title, kind=item.kind, text=item.text,
        content_hash=content_hash(item.text), format=item.format, filename=item.filename, case=item.case,
        annex_a=item.annex_a, collected_at=item.collected_at, tier=item.tier, pages=item.pages,
        metadata=item.metadata, supersedes=supersedes,
    )


def register(
    ledger: Ledger, actor: str, inspection: Inspection, items: list[NewSource], *, supersedes: UUID | None = None
) -> tuple[list[UUID], list[UUID]]:
    """Register sources in one transaction (all or none). Returns (new ids, ids already registered)."""
    role = inspection.require(actor, "source.add")
    assert inspection.id is not None
    new_events, added, existing, seen = [], [], [], set()
    for item in items:
        if not item.text.strip():
            raise BadInput(f"{item.filename or item.title}: the source holds no text; nothing was registered.")
        check_annex_a(item.annex_a)
        sid = source_id(inspection.id, item.text)
        if sid in seen or ledger.exists(sid):
            existing.append(sid)
            continue
        seen.add(sid)
        new_events.append(registration(ledger, sid, actor, role, inspection.id, item, supersedes))
        added.append(sid)
    if new_events:
        ledger.append(*new_events)
    return added, existing


def load(ledger: Ledger, prefix: str, inspection: Inspection) -> Source:
    """The source of this inspection whose id starts with ``prefix``."""
    sid = ledger.resolve(prefix, [Registered.TOPIC], "source")
    source = ledger.get(Source, sid, what="source")
    if source.inspection != inspection.id:
        raise NotFound(f"Source {prefix} belongs to another inspection than {inspection.reference}.")
    return source


def withdraw(ledger: Ledger, actor: str, inspection: Inspection, source: Source, rationale: str) -> None:
    role = inspection.require(actor, "source.add")
    if not rationale.strip():
        raise BadInput("Say why the source is withdrawn with --because TEXT.")
    if source.withdrawn:
        raise BadInput(f"Source {source.id.hex[:8]} was withdrawn already.")
    ledger.append(ledger.event(Withdrawn, source, actor, role, rationale=rationale.strip()))
