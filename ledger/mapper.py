"""eventsourcing's Mapper, with msgspec doing the encoding and the event's stable ``TOPIC`` as stored topic."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import Mapper, StoredEvent, Transcoder

from ledger import events

if TYPE_CHECKING:
    from ledger.events import Event


class MsgspecMapper(Mapper):
    """Encodes ``ledger.events.Event`` structs; decoding gives back equal events, types included."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        state = events.encode(domain_event)
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
