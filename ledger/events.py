"""The base of every event, the registry of stable topics, and the msgspec encoding.

Every event class declares an explicit, stable ``TOPIC`` (``"Inspection.Opened"``): renaming or moving a class
never breaks stored events. ``CLASS_VERSION`` and ``upcast_vN_vN1(state)`` static methods change a schema without
rewriting history: old payloads are upgraded as they are read.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID

import msgspec

from ledger.errors import LedgerError


class Role(enum.StrEnum):
    """What a person may do in an inspection (see ``ledger.roles``)."""

    LEAD = "lead-inspector"
    INSPECTOR = "inspector"
    PANEL = "panel-member"
    MODERATOR = "moderator"
    AUDITOR = "auditor"


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """Something that happened: who did it (``actor``, ``role``), when (UTC), to which aggregate."""

    TOPIC: ClassVar[str] = ""
    CLASS_VERSION: ClassVar[int] = 1

    originator_id: UUID
    originator_version: int
    timestamp: datetime
    actor: str
    role: Role

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        topic = cls.__dict__.get("TOPIC")
        if not topic:
            return  # an abstract intermediate base
        if topic in TOPICS and TOPICS[topic] is not cls:
            raise TypeError(f"Event topic {topic!r} is declared twice ({TOPICS[topic]!r} and {cls!r}).")
        TOPICS[topic] = cls


#: Stable topic -> event class. Filled as event modules are imported (see ``ledger.catalogue``).
TOPICS: dict[str, type[Event]] = {}


class UnknownEvent(LedgerError):
    """A stored event names a topic no loaded module declares."""


def now() -> datetime:
    """The current time in UTC (events never carry naive times)."""
    return datetime.now(UTC)


_encoder = msgspec.json.Encoder()
_decoders: dict[type[Event], msgspec.json.Decoder[Any]] = {}


def encode(event: Event) -> bytes:
    """The canonical payload bytes of an event (JSON; the class version is added when above 1)."""
    if type(event).CLASS_VERSION == 1:
        return _encoder.encode(event)
    state = msgspec.to_builtins(event)
    state["class_version"] = type(event).CLASS_VERSION
    return _encoder.encode(state)


def event_class(topic: str) -> type[Event]:
    """The class for a stored topic, importing the catalogue of built-in events on first need."""
    try:
        return TOPICS[topic]
    except KeyError:
        import ledger.catalogue  # noqa: F401 - registers every built-in event topic

        try:
            return TOPICS[topic]
        except KeyError:
            raise UnknownEvent(f"The ledger holds an event of unknown topic {topic!r}.") from None


def decode(topic: str, payload: bytes) -> Event:
    """Rebuild an event from its topic and payload, upcasting older class versions."""
    cls = event_class(topic)
    if cls.CLASS_VERSION == 1:
        decoder = _decoders.get(cls)
        if decoder is None:
            decoder = _decoders[cls] = msgspec.json.Decoder(cls)
        return decoder.decode(payload)
    state = msgspec.json.decode(payload)
    version = state.pop("class_version", 1)
    while version < cls.CLASS_VERSION:
        getattr(cls, f"upcast_v{version}_v{version + 1}")(state)
        version += 1
    return msgspec.convert(state, cls)


def describe(event: Event) -> dict[str, Any]:
    """An event as plain JSON-ready data (for ``evidence log --json`` and reports)."""
    data = msgspec.to_builtins(event)
    data["type"] = type(event).TOPIC
    return data
