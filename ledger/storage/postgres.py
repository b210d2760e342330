"""eventsourcing's PostgreSQL recorder, extended with the hash chain and append-only triggers.

eventsourcing locks the event table (EXCLUSIVE) before inserting, so chain positions are assigned one
transaction at a time, densely, and commit in order. ``POSTGRES_ENABLE_DB_FUNCTIONS`` must stay off.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.errors import LockNotAvailable
from psycopg.sql import SQL, Identifier

from ledger import chain
from ledger.errors import StorageError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from eventsourcing.persistence import StoredEvent
    from psycopg import Cursor
    from psycopg.rows import DictRow

CHAIN_TABLE = "ledger_chain"


class ChainedPostgresRecorder(PostgresApplicationRecorder):
    """Stores events and their chain rows together; refuses UPDATE, DELETE and TRUNCATE at the database."""

    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
        if datastore.enable_db_functions:
            raise StorageError(
                "POSTGRES_ENABLE_DB_FUNCTIONS is on, which lets readers skip committed events; unset it."
            )
        _without_prepared_statements(datastore)
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(self.datastore.schema)
        self.chain = SQL("{}.{}").format(schema, Identifier(CHAIN_TABLE))
        self.events = SQL("{}.{}").format(schema, Identifier(self.events_table_name))
        refuse = SQL("{}.{}").format(schema, Identifier("ledger_refuse_change"))
        self.sql_create_statements += [
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (position bigint PRIMARY KEY, "
                'originator_id text COLLATE "C" NOT NULL, originator_version bigint NOT NULL, '
                "topic text NOT NULL, digest bytea NOT NULL, UNIQUE (originator_id, originator_version))"
            ).format(self.chain),
            SQL(
                "CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "RAISE EXCEPTION 'the evidence ledger is append-only: % on % is refused', TG_OP, TG_TABLE_NAME; "
                "END $$"
            ).format(refuse),
        ]
        for table, name in ((self.events, self.events_table_name), (self.chain, CHAIN_TABLE)):
            self.sql_create_statements += [
                SQL(
                    "CREATE OR REPLACE TRIGGER {} BEFORE UPDATE OR DELETE ON {} FOR EACH ROW EXECUTE FUNCTION {}()"
                ).format(Identifier(f"{name}_refuse_change"), table, refuse),
                SQL(
                    "CREATE OR REPLACE TRIGGER {} BEFORE TRUNCATE ON {} FOR EACH STATEMENT EXECUTE FUNCTION {}()"
                ).format(Identifier(f"{name}_refuse_truncate"), table, refuse),
            ]

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """eventsourcing retries a failed append ten times; a lock timeout must reach the caller at once (R16)."""
        once = PostgresApplicationRecorder.insert_events.__wrapped__  # the append without its retry decorator
        for attempt in range(10):
            try:
                return once(self, stored_events, **kwargs)
            except (InterfaceError, OperationalError) as error:
                if isinstance(error.__cause__, LockNotAvailable) or attempt == 9:
                    raise
                time.sleep(0.2)
        return None

    def create_table(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("CREATE SCHEMA IF NOT EXISTS {}").format(Identifier(self.datastore.schema)))
        super().create_table()

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        super()._insert_stored_events(curs, stored_events, **kwargs)  # takes the table lock, inserts
        with curs.connection.cursor() as c:
            c.execute(SQL("SELECT position, digest FROM {} ORDER BY position DESC LIMIT 1").format(self.chain))
            last = c.fetchone()
            position, digest = (last["position"], bytes(last["digest"])) if last else (0, chain.GENESIS)
            links = []
            for s in stored_events:
                position += 1
                oid = s.originator_id.hex if hasattr(s.originator_id, "hex") else str(s.originator_id)
                digest = chain.link(digest, position, oid, s.originator_version, s.topic, s.state)
                links.append((position, oid, s.originator_version, s.topic, digest))
            c.executemany(SQL("INSERT INTO {} VALUES (%s, %s, %s, %s, %s)").format(self.chain), links)

    # --- reads used by verify, the log and the projections ----------------------------------------

    def _rows(self, query: Any, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self.datastore.get_connection() as conn, conn.cursor() as c:
            c.execute(query, params)
            return [tuple(_plain(v) for v in row.values()) for row in c.fetchall()]

    def select_chain(self, after: int, limit: int, stop: int | None = None) -> list[chain.ChainRow]:
        return self._rows(
            SQL(
                "SELECT position, originator_id, originator_version, topic, digest FROM {} "
                "WHERE position > %s AND position <= %s ORDER BY position LIMIT %s"
            ).format(self.chain),
            (after, stop if stop is not None else 2**62, limit),
        )

    def select_event_rows(self, after: int, limit: int, stop: int | None = None) -> list[chain.EventRow]:
        return self._rows(
            SQL(
                "SELECT notification_id, replace(originator_id::text, '-', ''), originator_version, topic, state "
                "FROM {} WHERE notification_id > %s AND notification_id <= %s ORDER BY notification_id LIMIT %s"
            ).format(self.events),
            (after, stop if stop is not None else 2**62, limit),
        )

    def snapshot_bounds(self) -> tuple[int, int]:
        """(last position, last notification id) read in one statement, so both tables agree."""
        return self._rows(
            SQL(
                "SELECT (SELECT COALESCE(MAX(position), 0) FROM {}) AS p, (SELECT COALESCE(MAX(notification_id), 0) FROM {}) AS n"
            ).format(self.chain, self.events),
            (),
        )[0]

    def select_ledger(self, after: int, limit: int, stop: int | None = None) -> list[tuple[Any, ...]]:
        return self._rows(
            SQL(
                "SELECT c.position, c.originator_id, c.originator_version, e.topic, e.state FROM {} c "
                "JOIN {} e ON e.originator_id = c.originator_id::uuid "
                "AND e.originator_version = c.originator_version "
                "WHERE c.position > %s AND c.position <= %s ORDER BY c.position LIMIT %s"
            ).format(self.chain, self.events),
            (after, stop if stop is not None else 2**62, limit),
        )

    def select_positions(self, originator_id: str) -> list[tuple[int, int]]:
        return self._rows(
            SQL(
                "SELECT originator_version, position FROM {} WHERE originator_id = %s ORDER BY originator_version"
            ).format(self.chain),
            (originator_id,),
        )

    def find_originators(self, prefix: str, topics: Sequence[str]) -> list[tuple[str, str]]:
        return self._rows(
            SQL(
                "SELECT originator_id, topic FROM {} WHERE originator_id >= %s AND originator_id < %s "
                "AND originator_version = 1 AND topic = ANY(%s) ORDER BY originator_id LIMIT 20"
            ).format(self.chain),
            (prefix, prefix + "g", list(topics)),
        )

    def last_position(self) -> int:
        return self._rows(SQL("SELECT COALESCE(MAX(position), 0) FROM {}").format(self.chain), ())[0][0]

    def check_settings(self) -> dict[str, str]:
        with self.datastore.get_connection() as conn, conn.cursor() as c:
            c.execute("SHOW idle_in_transaction_session_timeout")
            idle = c.fetchone()
        return {
            "idle_in_transaction_session_timeout": str(next(iter(idle.values()))) if idle else "",
            "lock_timeout": f"{self.datastore.lock_timeout}s",
        }


def _without_prepared_statements(datastore: Any) -> None:
    """Turn off server-side prepared statements on the pool's connections.

    After a conflict aborts a pipelined append, psycopg can believe a statement is still prepared on the server
    ("prepared statement ... does not exist" on the next append); appends are few and small, so we do without.
    """
    pool = datastore.pool
    configure = pool._configure  # noqa: SLF001 - psycopg_pool keeps the callback here

    def configure_without_prepared(conn: Any) -> None:
        if configure is not None:
            configure(conn)
        conn.prepare_threshold = None

    pool._configure = configure_without_prepared  # noqa: SLF001


def _plain(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value
