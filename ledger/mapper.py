"""eventsourcing's Mapper, with msgspec doing the encoding and the event's stable ``TOPIC`` as stored topic."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import Mapper, StoredEvent, Transcoder

from ledger import events
from ledger.errors import BadInput

if TYPE_CHECKING:
    from ledger.events import Event


#: A JSON-escaped NUL (an escaped backslash before "u0000" is a literal backslash, not a NUL).
_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


class MsgspecMapper(Mapper):
    """Encodes ``ledger.events.Event`` structs; decoding gives back equal events, types included."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        state = events.encode(domain_event)
        if b"\\u0000" in state and _NUL.search(state):
            raise BadInput(
                "The text contains a NUL character (\\0), which the ledger cannot store; remove it and try again."
            )
        if self.compressor:
            state = self.compressor.compress(state)
        if self.cipher:
            state = self.cipher.encrypt(state)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=type(domain_event).TOPIC,
            state=state,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Event:
        state = stored_event.state
        if self.cipher:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        return events.decode(stored_event.topic, state)


class NullTranscoder(Transcoder):
    """Unused: the mapper encodes with msgspec itself."""

    def encode(self, obj: Any) -> bytes:
        raise TypeError("NullTranscoder does not encode; MsgspecMapper does.")

    def decode(self, data: bytes) -> Any:
        raise TypeError("NullTranscoder does not decode; MsgspecMapper does.")
