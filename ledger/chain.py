"""The hash chain that makes the ledger tamper-evident, and the walk that verifies it.

Position N (a dense counter 1..N assigned inside the locked append transaction) carries
``SHA-256(digest(N-1) || canonical bytes of event N)``; the canonical bytes bind the position, the aggregate id,
its version, the topic and the stored payload. ``verify`` walks the chain and the event table side by side, so a
changed byte, id, version or topic, and a deleted, inserted, swapped or reordered row all stop it at the first bad
position. Truncating the tail, or rewriting everything with recomputed digests, is only caught against an
exported checkpoint (``evidence verify --checkpoint``).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import msgspec

from ledger.errors import IntegrityViolation

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

GENESIS = bytes(32)

#: (position, aggregate id as 32 hex digits, aggregate version, topic, digest)
ChainRow = tuple[int, str, int, str, bytes]
#: (notification id, aggregate id as 32 hex digits, aggregate version, topic, payload)
EventRow = tuple[int, str, int, str, bytes]

_pack = msgspec.msgpack.Encoder().encode


def link(previous: bytes, position: int, originator_id: str, version: int, topic: str, state: bytes) -> bytes:
    """The digest at ``position`` given the digest before it and the event stored there."""
    return hashlib.sha256(previous + _pack((position, originator_id, version, topic, state))).digest()


def verify(chain: Iterable[ChainRow], events: Iterable[EventRow]) -> int:
    """Walk both tables in order; return the number of verified positions or raise at the first bad one."""
    previous = GENESIS
    expected = 0
    event_iter: Iterator[EventRow] = iter(events)
    for position, originator_id, version, topic, digest in chain:
        expected += 1
        if position != expected:
            raise IntegrityViolation(
                f"Ledger position {expected} is missing from the chain (found {position} next).", expected
            )
        event = next(event_iter, None)
        if event is None:
            raise IntegrityViolation(f"The event at ledger position {expected} is missing.", expected)
        _, e_id, e_version, e_topic, e_state = event
        if (e_id, e_version, e_topic) != (originator_id, version, topic):
            raise IntegrityViolation(
                f"The event stored at ledger position {expected} is not the one the chain recorded "
                f"(a row was changed, removed, inserted or reordered).",
                expected,
            )
        if not isinstance(e_state, (bytes, bytearray, memoryview)):
            raise IntegrityViolation(
                f"The event at ledger position {expected} holds a payload of the wrong type (it was altered).",
                expected,
            )
        previous = link(previous, position, e_id, e_version, e_topic, bytes(e_state))
        if not isinstance(digest, (bytes, bytearray, memoryview)) or previous != bytes(digest):
            raise IntegrityViolation(
                f"The event at ledger position {expected} does not match its digest (its content was altered).",
                expected,
            )
    extra = next(event_iter, None)
    if extra is not None:
        raise IntegrityViolation(
            f"An event with no chain entry was found at ledger position {expected + 1} "
            f"(a row was inserted outside the ledger, or its chain entry removed).",
            expected + 1,
        )
    return expected


def head_digest(chain: Iterable[ChainRow]) -> tuple[int, bytes]:
    """The last position and its digest (what a checkpoint signs)."""
    position, digest = 0, GENESIS
    for row in chain:
        position, digest = row[0], bytes(row[4])
    return position, digest
