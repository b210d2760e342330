"""The event-sourced application: append events, load aggregates, walk and verify the log.

Commands live beside their aggregates (``ledger.inspection``, ...) and call ``Ledger.append``; queries
return plain data. Storage errors become typed ``LedgerError``s with one sentence a person can act on.
"""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, OperationalError, PersistenceError

from ledger import chain, events
from ledger.errors import Busy, Conflict, LedgerError, NotFound, StorageError
from ledger.safety import check_durability
from ledger.storage import stream
from ledger.storage.url import Database, parse, recorder_env

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from datetime import datetime

    from ledger.aggregate import Aggregate
    from ledger.events import Event, Role

A = TypeVar("A", bound="Aggregate")
E = TypeVar("E", bound="Event")

#: Namespace of the ledger's deterministic ids (uuid5 of a natural key).
NAMESPACE = uuid.UUID("5b0c1f7e-9d7a-4c51-9e53-5d6a3f0e2b71")


def natural_id(*parts: object) -> uuid.UUID:
    """A stable id from a natural key (an inspection's name, a source's content hash...)."""
    return uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts))


@contextlib.contextmanager
def storage_errors(db: Database) -> Iterator[None]:
    """Turn the storage layer's exceptions into typed ledger errors."""
    try:
        yield
    except LedgerError:
        raise
    except IntegrityError as error:
        raise Conflict(
            "Someone else changed the same record at the same moment; run the command again."
        ) from error
    except OperationalError as error:
        if "locked" in str(error).lower() or "lock timeout" in str(error).lower():
            raise Busy("The ledger stayed locked by another writer; run the command again.") from error
        raise _unreachable(db, error) from error
    except PersistenceError as error:
        raise _unreachable(db, error) from error
    except Exception as error:  # psycopg and pool errors arrive untranslated
        if type(error).__module__.split(".")[0] in ("psycopg", "psycopg_pool", "sqlite3", "sqlalchemy"):
            if "lock" in str(error).lower():
                raise Busy("The ledger stayed locked by another writer; run the command again.") from error
            raise _unreachable(db, error) from error
        raise


def _unreachable(db: Database, error: Exception) -> StorageError:
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if "no such table" in first or ("relation" in first and "does not exist" in first):
        return StorageError(f"The database {db.display} holds no ledger; run 'evidence init' first.")
    return StorageError(
        f"Cannot use the database {db.display} ({first}); check that it is running and the URL is right."
    )


class Ledger(Application):
    """The evidence ledger of one database: every change is an appended, chained event."""

    name = "EvidenceLedger"

    def __init__(self, url: str, *, create: bool = False, clock: Callable[[], datetime] | None = None) -> None:
        self.url = url
        self.database = parse(url)
        self.clock = clock or events.now
        if self.database.kind == "sqlite" and not create and not Path(self.database.path).exists():
            raise StorageError(f"The database {self.database.display} holds no ledger; run 'evidence init' first.")
        env = recorder_env(self.database) | {"CREATE_TABLE": "y" if create else "n"}
        with storage_errors(self.database):
            super().__init__(env=env)
            if self.database.kind == "postgresql":
                self.recorder.datastore.pool.open(wait=True, timeout=5)
            check_durability(self)

    # --- writing ------------------------------------------------------------------------------

    def append(self, *new_events: Event) -> None:
        """Append events atomically (all or none); a concurrent change to the same aggregate is a Conflict."""
        with storage_errors(self.database):
            # Straight to the event store: Application.save checks each event against a runtime Protocol,
            # which costs more than storing it; we take no snapshots and notify no one in process.
            self.events.put(list(new_events))

    def event(self, cls: type[E], target: Aggregate | uuid.UUID, actor: str, role: Role, /, **fields: Any) -> E:
        """A new event for ``target`` (an aggregate, or the id of one being created), stamped with who and when."""
        if isinstance(target, uuid.UUID):
            originator_id, version = target, 1
        else:
            assert target.id is not None
            originator_id, version = target.id, target.version + 1
        return cls(
            originator_id=originator_id,
            originator_version=version,
            timestamp=self.clock(),
            actor=actor,
            role=role,
            **fields,
        )

    # --- reading ------------------------------------------------------------------------------

    def get(self, cls: type[A], aggregate_id: uuid.UUID, *, version: int | None = None, what: str = "") -> A:
        """The aggregate's state (at ``version`` if given), or NotFound."""
        with storage_errors(self.database):
            try:
                state = self.repository.get(aggregate_id, version=version, projector_func=cls.project)
            except AggregateNotFoundError:
                label = what or cls.__name__.lower()
                raise NotFound(f"No {label} with id {aggregate_id.hex[:8]} exists in this ledger.") from None
        if not isinstance(state, cls):
            raise NotFound(f"{aggregate_id.hex[:8]} is not a {what or cls.__name__.lower()}.")
        return state

    def exists(self, aggregate_id: uuid.UUID) -> bool:
        with storage_errors(self.database):
            return bool(self.recorder.select_events(aggregate_id, limit=1))

    def resolve(self, prefix: str, topics: Sequence[str], what: str) -> uuid.UUID:
        """The full id of the one aggregate (created by one of ``topics``) whose id starts with ``prefix``."""
        clean = prefix.strip().lower().replace("-", "")
        if len(clean) < 4 or any(ch not in "0123456789abcdef" for ch in clean):
            raise NotFound(f"{prefix!r} is not a {what} id; give at least 4 hex digits, as 'evidence' prints them.")
        with storage_errors(self.database):
            found = self.recorder.find_originators(clean, list(topics))
        if not found:
            raise NotFound(f"No {what} has an id starting with {clean}; list them to see the ids.")
        if len(found) > 1:
            ids = ", ".join(row[0][:12] for row in found[:5])
            raise NotFound(f"{clean} matches several {what}s ({ids}); give more digits.")
        return uuid.UUID(found[0][0])

    def last_position(self) -> int:
        with storage_errors(self.database):
            return self.recorder.last_position()

    def positions(self, aggregate_id: uuid.UUID) -> dict[int, int]:
        """Version -> ledger position for one aggregate."""
        with storage_errors(self.database):
            return dict(self.recorder.select_positions(aggregate_id.hex))

    def ledger_rows(self, after: int = 0, stop: int | None = None, batch: int = 5000) -> Iterator[tuple[Any, ...]]:
        """(position, aggregate id hex, version, topic, payload) in ledger order, streamed."""
        with storage_errors(self.database):
            yield from stream(lambda a, n: self.recorder.select_ledger(a, n, stop), batch, after)

    def history(self, after: int = 0, stop: int | None = None) -> Iterator[tuple[int, Event]]:
        """(position, event) in ledger order, decoded."""
        with storage_errors(self.database):
            for position, _, _, topic, state in stream(
                lambda a, n: self.recorder.select_ledger(a, n, stop), start=after
            ):
                yield position, events.decode(topic, self.mapper_state(state))

    def mapper_state(self, state: bytes) -> bytes:
        """Stored payload -> plain payload (undoes the cipher/compressor when configured)."""
        if self.mapper.cipher:
            state = self.mapper.cipher.decrypt(state)
        if self.mapper.compressor:
            state = self.mapper.compressor.decompress(state)
        return state

    # --- integrity ----------------------------------------------------------------------------

    def verify(self) -> int:
        """Re-walk the chain; return the number of verified positions or raise IntegrityViolation."""
        with storage_errors(self.database):
            last_position, last_notification = self.recorder.snapshot_bounds()
            return chain.verify(
                stream(lambda a, n: self.recorder.select_chain(a, n, last_position)),
                stream(lambda a, n: self.recorder.select_event_rows(a, n, last_notification)),
            )

    def head(self) -> tuple[int, bytes]:
        """The last position and its digest."""
        with storage_errors(self.database):
            rows = self.recorder.select_chain(max(self.recorder.last_position() - 1, 0), 1)
        return (rows[0][0], bytes(rows[0][4])) if rows else (0, chain.GENESIS)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            super().close()
