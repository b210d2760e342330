"""Refuse to append to a database configured so that an acknowledged event could be lost or a writer could hang.

SQLite must journal in WAL mode with ``synchronous=FULL`` (an fsync at every commit); PostgreSQL sessions must
carry a lock timeout and an idle-in-transaction timeout, so that a stuck writer turns into a typed ``Busy``
for the others instead of an endless wait. ``Ledger`` calls ``check_durability`` when it opens a database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.errors import StorageError

if TYPE_CHECKING:
    from ledger.application import Ledger

#: SQLite ``synchronous`` levels that fsync at every commit in WAL mode.
DURABLE_SYNCHRONOUS = frozenset({"full", "extra"})
#: How PostgreSQL spells "no timeout".
NO_TIMEOUT = frozenset({"", "0", "0s", "0ms", "0min"})


def check_durability(ledger: Ledger) -> None:
    """Raise StorageError unless the database is configured for durable, non-blocking appends.

    A refused ledger is closed first, so that a constructor calling this leaves no connection open.
    """
    from ledger.application import storage_errors

    with storage_errors(ledger.database):
        settings = ledger.recorder.check_settings()
    problem = (
        sqlite_problem(settings) if ledger.database.kind == "sqlite" else postgres_problem(settings)
    )
    if problem:
        ledger.close()
        raise StorageError(f"The database {ledger.database.display} is configured unsafely: {problem}.")


def sqlite_problem(settings: dict[str, str]) -> str:
    """What is unsafe in SQLite's settings (journal_mode, synchronous), or '' when nothing is."""
    mode = settings.get("journal_mode", "").lower()
    if mode != "wal":
        return f"journal_mode is {mode or 'unknown'}, not wal; run 'PRAGMA journal_mode=WAL' while no one uses it"
    sync = settings.get("synchronous", "").lower()
    if sync not in DURABLE_SYNCHRONOUS:
        return f"synchronous is {sync or 'unknown'}, so a crash could lose acknowledged events; use synchronous=FULL"
    return ""


def postgres_problem(settings: dict[str, str]) -> str:
    """What is unsafe in PostgreSQL's settings (lock and idle-in-transaction timeouts), or '' when nothing is."""
    lock = settings.get("lock_timeout", "").strip().lower()
    if lock in NO_TIMEOUT:
        return "appends have no lock timeout, so one stuck writer would block every other; set POSTGRES_LOCK_TIMEOUT"
    idle = settings.get("idle_in_transaction_session_timeout", "").strip().lower()
    if idle in NO_TIMEOUT:
        return (
            "sessions have no idle-in-transaction timeout, so an abandoned transaction could hold locks for ever; "
            "set POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT"
        )
    return ""
