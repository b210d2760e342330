"""eventsourcing's SQLite recorder, extended with the hash chain and append-only triggers.

Appends run in ``BEGIN IMMEDIATE`` transactions with ``synchronous=FULL`` in WAL mode; the chain row of each
event is written in the same transaction as the event.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, OperationalError, PersistenceError
from eventsourcing.sqlite import SQLiteApplicationRecorder

from ledger import chain

if TYPE_CHECKING:
    from collections.abc import Sequence

    from eventsourcing.persistence import StoredEvent
    from eventsourcing.sqlite import SQLiteCursor

CHAIN_TABLE = "ledger_chain"

_REFUSE = "SELECT RAISE(ABORT, 'the evidence ledger is append-only: {op} on {table} is refused')"


def _append_only_triggers(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_refuse_{op.lower()} BEFORE {op} ON {table} "
        f"BEGIN {_REFUSE.format(op=op, table=table)}; END"
        for op in ("UPDATE", "DELETE")
    ]


class ChainedSQLiteRecorder(SQLiteApplicationRecorder):
    """Stores events and their chain rows together; refuses UPDATE and DELETE at the database."""

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {CHAIN_TABLE} ("
            "position INTEGER PRIMARY KEY, originator_id TEXT NOT NULL, originator_version INTEGER NOT NULL, "
            "topic TEXT NOT NULL, digest BLOB NOT NULL, UNIQUE (originator_id, originator_version))",
            *_append_only_triggers(self.events_table_name),
            *_append_only_triggers(CHAIN_TABLE),
        ]

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        with self.datastore.get_connection(commit=True) as conn:
            cursor = conn.cursor()
            try:
                cursor.execute("PRAGMA synchronous=FULL")
                cursor.execute("BEGIN IMMEDIATE")
                try:
                    self._insert_events(cursor, stored_events, **kwargs)
                except BaseException:
                    conn.rollback()
                    raise
                conn.commit()
            except sqlite3.IntegrityError as error:
                raise IntegrityError(error) from error
            except sqlite3.OperationalError as error:
                raise OperationalError(error) from error
            except sqlite3.Error as error:
                raise PersistenceError(error) from error
            finally:
                cursor.sqlite_cursor.close()
        return None

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **_: Any
    ) -> Sequence[int] | None:
        rows = [
            (_hex(s.originator_id), s.originator_version, s.topic, s.state) for s in stored_events
        ]
        c.executemany(self.insert_events_statement, rows)
        c.execute(f"SELECT position, digest FROM {CHAIN_TABLE} ORDER BY position DESC LIMIT 1")
        last = c.fetchone()
        position, digest = (last[0], last[1]) if last else (0, chain.GENESIS)
        links = []
        for originator_id, version, topic, state in rows:
            position += 1
            digest = chain.link(digest, position, originator_id, version, topic, state)
            links.append((position, originator_id, version, topic, digest))
        c.executemany(f"INSERT INTO {CHAIN_TABLE} VALUES (?,?,?,?,?)", links)
        return None

    # --- reads used by verify, the log and the projections (plain rows, streamed in batches) ---------

    def _rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(sql, params)
            return [tuple(row) for row in c.fetchall()]

    def select_chain(self, after: int, limit: int, stop: int | None = None) -> list[chain.ChainRow]:
        return self._rows(
            f"SELECT position, originator_id, originator_version, topic, digest FROM {CHAIN_TABLE} "
            "WHERE position > ? AND position <= ? ORDER BY position LIMIT ?",
            (after, stop if stop is not None else 2**62, limit),
        )

    def select_event_rows(self, after: int, limit: int, stop: int | None = None) -> list[chain.EventRow]:
        return self._rows(
            f"SELECT rowid, originator_id, originator_version, topic, state FROM {self.events_table_name} "
            "WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?",
            (after, stop if stop is not None else 2**62, limit),
        )

    def snapshot_bounds(self) -> tuple[int, int]:
        """(last position, last notification id) read in one statement, so both tables agree."""
        return self._rows(
            f"SELECT (SELECT COALESCE(MAX(position), 0) FROM {CHAIN_TABLE}), "
            f"(SELECT COALESCE(MAX(rowid), 0) FROM {self.events_table_name})",
            (),
        )[0]

    def select_ledger(self, after: int, limit: int, stop: int | None = None) -> list[tuple[Any, ...]]:
        """(position, aggregate id hex, version, topic, payload) in ledger order."""
        return self._rows(
            f"SELECT c.position, c.originator_id, c.originator_version, e.topic, e.state "
            f"FROM {CHAIN_TABLE} c JOIN {self.events_table_name} e "
            "ON e.originator_id = c.originator_id AND e.originator_version = c.originator_version "
            "WHERE c.position > ? AND c.position <= ? ORDER BY c.position LIMIT ?",
            (after, stop if stop is not None else 2**62, limit),
        )

    def select_positions(self, originator_id: str) -> list[tuple[int, int]]:
        """(version, position) of every event of one aggregate."""
        return self._rows(
            f"SELECT originator_version, position FROM {CHAIN_TABLE} WHERE originator_id = ? "
            "ORDER BY originator_version",
            (originator_id,),
        )

    def find_originators(self, prefix: str, topics: Sequence[str]) -> list[tuple[str, str]]:
        """(aggregate id hex, first topic) of aggregates whose id starts with ``prefix``."""
        low, high = _prefix_range(prefix)
        marks = ",".join("?" * len(topics))
        return self._rows(
            f"SELECT originator_id, topic FROM {CHAIN_TABLE} WHERE originator_id >= ? AND originator_id < ? "
            f"AND originator_version = 1 AND topic IN ({marks}) ORDER BY originator_id LIMIT 20",
            (low, high, *topics),
        )

    def last_position(self) -> int:
        return self._rows(f"SELECT COALESCE(MAX(position), 0) FROM {CHAIN_TABLE}", ())[0][0]

    def check_settings(self) -> dict[str, str]:
        """The durability settings in force on an append connection (for the start-up check)."""
        with self.datastore.get_connection(commit=True) as conn:
            cursor = conn.cursor()
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA journal_mode")
            mode = cursor.fetchone()[0]
            cursor.execute("PRAGMA synchronous")
            sync = cursor.fetchone()[0]
            cursor.sqlite_cursor.close()
        return {"journal_mode": str(mode).lower(), "synchronous": {2: "full", 3: "extra"}.get(sync, str(sync))}


def _hex(originator_id: UUID | str) -> str:
    return originator_id.hex if isinstance(originator_id, UUID) else originator_id


def _prefix_range(prefix: str) -> tuple[str, str]:
    """[low, high) bounds of the hex ids that start with ``prefix`` (an index range scan)."""
    return prefix, prefix + "g"

